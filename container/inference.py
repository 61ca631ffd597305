"""SageMaker's conventional inference hooks, backed by the shared detector.

``model_fn`` / ``input_fn`` / ``predict_fn`` / ``output_fn`` keep the shape every
SageMaker container author expects, so :mod:`container.server` (and any toolkit
that calls these hooks) stays a thin HTTP layer. Nothing here copies the
detector: it is imported from :mod:`locdetect_worker`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from locdetect_worker.analysis import Analysis, analyse_blueprint
from locdetect_worker.config import load_settings
from locdetect_worker.decode import ACCEPTED_EXTENSIONS, DecodeLimits
from locdetect_worker.errors import JobError

MODEL_DIR = "/opt/ml/model"
CONFIG_FILE = "config.json"
ACCEPTED_CONTENT_TYPES = frozenset(ACCEPTED_EXTENSIONS.values())
RESULT_CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Model:
    """What the detector needs per request; picklable so it travels to worker processes."""

    limits: DecodeLimits
    detect_timeout: float
    max_body_bytes: int
    workers: int


def model_fn(model_dir: str = MODEL_DIR) -> Model:
    """Detector settings from ``<model_dir>/config.json`` (if any), then ``LOCDETECT_*``.

    The file uses the worker's setting names (``max_image_pixels``,
    ``max_pdf_pages``, ``detect_timeout``, ``max_object_bytes``, ``workers``), so
    one vocabulary configures both backends.
    """
    path = Path(model_dir) / CONFIG_FILE
    overrides = json.loads(path.read_text()) if path.is_file() else {}
    if not isinstance(overrides, dict):
        raise ValueError(f"{path} must hold a JSON object, not {type(overrides).__name__}")
    settings = load_settings(**overrides)
    return Model(
        limits=DecodeLimits(
            max_pixels=settings.max_image_pixels, max_pdf_pages=settings.max_pdf_pages
        ),
        detect_timeout=settings.detect_timeout,
        max_body_bytes=settings.max_object_bytes,
        workers=settings.effective_workers,
    )


def input_fn(request_body: bytes, content_type: str) -> bytes:
    """Refuse what we cannot read before it reaches a worker process."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        raise JobError(
            "unsupported_format",
            f"content type {media_type or '(none)'!r} is not accepted; "
            f"send one of {', '.join(sorted(ACCEPTED_CONTENT_TYPES))}",
        )
    if not request_body:
        raise JobError("decode_failed", "the request body is empty")
    return request_body


def predict_fn(data: bytes, model: Model) -> Analysis:
    """Rooms of every page. No overlay: the worker draws it from the source image."""
    return analyse_blueprint(data, model.limits, overlay=False)


def output_fn(prediction: Analysis, accept: str = RESULT_CONTENT_TYPE) -> tuple[bytes, str]:
    """The result document (GUIDE.md section 2) as JSON.

    ``job_id`` and ``source`` are unknown here (the container only sees bytes);
    the worker fills them in when it stores the result.
    """
    document = prediction.to_result("", None, "sagemaker")
    return document.to_json().encode(), RESULT_CONTENT_TYPE
