"""Per-job metrics as CloudWatch Embedded Metric Format (EMF) lines on stdout.

CloudWatch Logs turns any log event that is a JSON object with an ``_aws``
member into metrics, whether it arrives through the ECS ``awslogs`` driver or
journald forwarding, so the worker needs no metrics client, no permission and no
network call of its own. The line is written directly to the stream (not through
structlog) because EMF requires ``_aws`` at the top level of the object, which a
console renderer or an extra ``event`` wrapper would break.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from locdetect_worker.config import Settings
from locdetect_worker.results import ResultDocument

SERVICE = "locdetect-worker"
DIMENSIONS = ["Service", "Backend"]


class JobMetrics:
    """Emits one EMF record per finished job."""

    def __init__(
        self,
        namespace: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.namespace = namespace
        self._stream = stream
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, stream: TextIO | None = None) -> JobMetrics:
        return cls(settings.metrics_namespace, stream)

    def job_finished(
        self,
        document: ResultDocument,
        *,
        event_time: str | datetime | None = None,
        sent_timestamp: str | int | None = None,
        received_at: float | None = None,
    ) -> dict[str, Any]:
        """Record a job whose result was just written; returns the record it printed.

        ``event_time`` is the S3 record's ``eventTime`` (upload time): end-to-end
        latency runs from it to now. ``sent_timestamp`` is the SQS ``SentTimestamp``
        attribute (epoch milliseconds): message age runs from it to ``received_at``
        (epoch seconds when the message was received; now if omitted).
        """
        now = self._clock()
        failed = document.status != "succeeded"
        values: dict[str, tuple[float, str]] = {
            "JobsSucceeded": (0 if failed else 1, "Count"),
            "JobsFailed": (1 if failed else 0, "Count"),
        }
        if "detect" in document.timings_ms:
            values["DetectTime"] = (document.timings_ms["detect"], "Milliseconds")
        if event_time is not None:
            values["EndToEndLatency"] = (_ms_since(_epoch(event_time), now), "Milliseconds")
        if sent_timestamp is not None:
            sent = int(sent_timestamp) / 1000
            values["MessageAge"] = (
                _ms_since(sent, now if received_at is None else received_at),
                "Milliseconds",
            )
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(now * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [DIMENSIONS],
                        "Metrics": [
                            {"Name": name, "Unit": unit} for name, (_, unit) in values.items()
                        ],
                    }
                ],
            },
            "Service": SERVICE,
            "Backend": document.backend,
            **{name: value for name, (value, _) in values.items()},
            "job_id": document.job_id,
            "status": document.status,
            "error_code": document.error.code if document.error else None,
        }
        self._write(record)
        return record

    def _write(self, record: dict[str, Any]) -> None:
        stream = self._stream or sys.stdout
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        stream.flush()


def _epoch(value: str | datetime) -> float:
    if isinstance(value, datetime):
        return value.timestamp()
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _ms_since(start: float, end: float) -> float:
    return round(max(0.0, end - start) * 1000, 1)
