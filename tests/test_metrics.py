"""EMF records: parsed back from stdout and validated against the format's rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from locdetect_worker.errors import JobError
from locdetect_worker.metrics import JobMetrics
from locdetect_worker.results import DetectorInfo, ResultDocument, S3Source, failed_result

NOW = 1_800_000_000.0
SOURCE = S3Source(bucket="b", key="blueprints/site-a/level-2.png")


def _succeeded() -> ResultDocument:
    return ResultDocument(
        job_id="site-a/level-2",
        status="succeeded",
        source=SOURCE,
        backend="local",
        detector=DetectorInfo(name="opencv-rooms", version="1.0.0"),
        timings_ms={"fetch": 12.1, "detect": 95.0, "total": 141.2},
    )


def _emf_lines(text: str) -> list[dict[str, Any]]:
    """Every stdout line that CloudWatch would treat as EMF, checked against the spec."""
    records = []
    for line in text.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict) and "_aws" in record
        meta = record["_aws"]
        assert isinstance(meta["Timestamp"], int)
        for directive in meta["CloudWatchMetrics"]:
            assert directive["Namespace"]
            for dimension_set in directive["Dimensions"]:
                assert 0 < len(dimension_set) <= 30
                for key in dimension_set:
                    assert isinstance(record[key], str), f"dimension {key} must be a string member"
            for metric in directive["Metrics"]:
                value = record[metric["Name"]]
                assert isinstance(value, int | float) and not isinstance(value, bool)
        records.append(record)
    return records


def _metrics(record: dict[str, Any]) -> dict[str, str]:
    directive = record["_aws"]["CloudWatchMetrics"][0]
    return {m["Name"]: m["Unit"] for m in directive["Metrics"]}


def test_succeeded_job_with_latencies(capsys: pytest.CaptureFixture[str]) -> None:
    emitter = JobMetrics("Locdetect/test", clock=lambda: NOW)
    emitter.job_finished(
        _succeeded(),
        event_time=datetime.fromtimestamp(NOW - 4.5, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        sent_timestamp=str(int((NOW - 4.0) * 1000)),
        received_at=NOW - 3.0,
    )
    [record] = _emf_lines(capsys.readouterr().out)
    assert record["_aws"]["Timestamp"] == int(NOW * 1000)
    assert record["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Locdetect/test"
    assert _metrics(record) == {
        "JobsSucceeded": "Count",
        "JobsFailed": "Count",
        "DetectTime": "Milliseconds",
        "EndToEndLatency": "Milliseconds",
        "MessageAge": "Milliseconds",
    }
    assert (record["JobsSucceeded"], record["JobsFailed"]) == (1, 0)
    assert record["DetectTime"] == 95.0
    assert record["EndToEndLatency"] == 4500.0
    assert record["MessageAge"] == 1000.0
    assert (record["Backend"], record["Service"]) == ("local", "locdetect-worker")
    assert record["job_id"] == "site-a/level-2" and record["error_code"] is None


def test_failed_job_declares_only_the_metrics_it_has(capsys: pytest.CaptureFixture[str]) -> None:
    document = failed_result("x", SOURCE, JobError("decode_failed", "not an image"), "sagemaker")
    JobMetrics("Locdetect", clock=lambda: NOW).job_finished(document)
    [record] = _emf_lines(capsys.readouterr().out)
    assert _metrics(record) == {"JobsSucceeded": "Count", "JobsFailed": "Count"}
    assert (record["JobsSucceeded"], record["JobsFailed"]) == (0, 1)
    assert record["error_code"] == "decode_failed" and record["Backend"] == "sagemaker"
    assert "DetectTime" not in record and "MessageAge" not in record


def test_one_line_per_job(capsys: pytest.CaptureFixture[str]) -> None:
    emitter = JobMetrics("Locdetect")
    for _ in range(3):
        emitter.job_finished(_succeeded(), event_time=datetime.now(UTC))
    records = _emf_lines(capsys.readouterr().out)
    assert len(records) == 3
    assert all(0 <= r["EndToEndLatency"] < 60_000 for r in records)
