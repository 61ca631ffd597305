"""The worker's one settings object, read from ``LOCDETECT_*`` variables and ``.env``.

Constructed once at start-up and passed into constructors; nothing reads the
environment at import time. Every field is documented in the README.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """Invalid configuration; the message names the offending setting(s)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LOCDETECT_", env_file=".env", extra="ignore", frozen=True
    )

    # Where work comes from and where results go.
    queue_url: str = ""
    results_bucket: str = ""
    input_prefix: str = "blueprints/"
    results_prefix: str = "results/"
    backend: Literal["local", "sagemaker"] = "local"

    # AWS clients.
    region: str | None = None
    endpoint_url: str | None = None

    # Consumer behaviour.
    concurrency: int = Field(default=0, ge=0, le=256)
    visibility_timeout: int = Field(default=120, ge=10, le=43200)
    heartbeat_interval: float = Field(default=30.0, gt=0)
    wait_time_seconds: int = Field(default=20, ge=0, le=20)
    shutdown_grace: float = Field(default=25.0, ge=0)

    # Local backend.
    workers: int = Field(default=0, ge=0, le=64)

    # Limits.
    max_object_bytes: int = Field(default=100 * 1024 * 1024, gt=0)
    max_image_pixels: int = Field(default=120_000_000, gt=0)
    max_pdf_pages: int = Field(default=50, gt=0)
    detect_timeout: float = Field(default=120.0, gt=0)

    # SageMaker backend.
    sagemaker_endpoint: str = ""
    sagemaker_runtime_url: str | None = None
    outcomes_queue_url: str = ""
    pending_prefix: str = "pending/"
    sagemaker_request_ttl: int = Field(default=21600, ge=60, le=21600)
    sagemaker_invocation_timeout: int = Field(default=900, ge=1, le=3600)
    sagemaker_max_attempts: int = Field(default=3, ge=1, le=10)
    sagemaker_sweep_interval: float = Field(default=60.0, gt=0)

    # Observability.
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    health_file: str = "/tmp/locdetect-worker.health"
    health_max_age: float = Field(default=120.0, gt=0)
    metrics_namespace: str = "Locdetect"

    @model_validator(mode="after")
    def _check_prefixes(self) -> Settings:
        for name in ("input_prefix", "results_prefix", "pending_prefix"):
            value = getattr(self, name)
            if value and not value.endswith("/"):
                raise ValueError(f"LOCDETECT_{name.upper()} must end with '/' (got {value!r})")
        return self

    @model_validator(mode="after")
    def _check_timings(self) -> Settings:
        if self.heartbeat_interval * 3 > self.visibility_timeout:
            raise ValueError(
                "LOCDETECT_HEARTBEAT_INTERVAL must be at most a third of "
                f"LOCDETECT_VISIBILITY_TIMEOUT ({self.heartbeat_interval} > "
                f"{self.visibility_timeout} / 3): leases would lapse while jobs run"
            )
        beat_gap = max(self.heartbeat_interval, self.wait_time_seconds)
        if self.health_max_age <= 1.5 * beat_gap:
            raise ValueError(
                f"LOCDETECT_HEALTH_MAX_AGE must exceed 1.5 x the longest gap between beats "
                f"({self.health_max_age} <= 1.5 x {beat_gap}): a healthy worker would look dead"
            )
        return self

    def require_daemon_settings(self) -> None:
        """Fail start-up of ``run`` unless the settings a daemon needs are present."""
        missing = ["queue_url", "results_bucket"]
        if self.backend == "sagemaker":
            missing += ["sagemaker_endpoint", "outcomes_queue_url"]
        unset = [f"LOCDETECT_{name.upper()}" for name in missing if not getattr(self, name)]
        if unset:
            raise ConfigError(f"missing required setting(s): {', '.join(unset)}")

    @property
    def effective_workers(self) -> int:
        """Detector processes for the local backend: the setting, or one per core."""
        import os

        return self.workers or max(1, os.cpu_count() or 1)

    @property
    def effective_concurrency(self) -> int:
        """Jobs in flight: the setting, or enough to keep every detector busy while I/O runs.

        Locally, four per detector process: messages are received once half the
        slots are free, and jobs that finished detecting still hold theirs while
        their results are written, so fewer leaves a detector waiting for a fetch.
        """
        if self.concurrency:
            return self.concurrency
        return 4 * self.effective_workers if self.backend == "local" else 32


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's errors into one message naming each bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = ".".join(str(p) for p in error["loc"]) or "settings"
            name = f"LOCDETECT_{field.upper()}" if error["loc"] else field
            problems.append(f"{name}: {error['msg']}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
