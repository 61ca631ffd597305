"""What the SageMaker backend persists and reads: inference ids, pending markers, notifications.

A pending marker (``<pending prefix><inference id>.json`` in the results
bucket) is the only state of a handed-off job; any worker can finish it. The
notification models follow the JSON SageMaker publishes to the success and
error SNS topics, named as AWS names the fields, and :func:`parse_outcome`
unwraps the SNS envelope when the subscription is not raw.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from locdetect_worker.results import S3Source


def inference_id_for(source: S3Source) -> str:
    """A stable InferenceId: the same object version always maps to the same id (max 64 chars)."""
    etag = (source.etag or "").strip('"')
    digest = hashlib.sha256(f"{source.bucket}\n{source.key}\n{etag}".encode()).hexdigest()
    return f"ld-{digest[:40]}"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/a/b`` -> ``("bucket", "a/b")``; ``ValueError`` for anything else."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an S3 URI: {uri!r}")
    bucket, _, key = uri[5:].partition("/")
    if not bucket or not key:
        raise ValueError(f"not an S3 object URI: {uri!r}")
    return bucket, key


class Marker(BaseModel):
    """A job handed to the endpoint and not resolved yet.

    ``force``: a reprocess asked for by hand, whose result replaces the one
    already stored for the same object version.
    """

    model_config = ConfigDict(extra="ignore")

    inference_id: str
    job_id: str
    source: S3Source
    content_type: str
    attempt: int
    submitted_at: datetime
    deadline: datetime
    input_location: str
    output_location: str
    failure_location: str | None = None
    force: bool = False


class _Notification(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RequestParameters(_Notification):
    inputLocation: str
    endpointName: str | None = None
    contentType: str | None = None
    accept: str | None = None


class ResponseParameters(_Notification):
    outputLocation: str
    contentType: str | None = None


class Outcome(_Notification):
    """One ``InferenceResult`` notification: Completed with an output, or Failed with a reason."""

    invocationStatus: Literal["Completed", "Failed"]
    inferenceId: str
    requestParameters: RequestParameters
    responseParameters: ResponseParameters | None = None
    failureReason: str | None = None
    eventTime: str | None = None


def parse_outcome(body: str) -> Outcome | None:
    """The outcome in an SQS message body (SNS envelope or raw); ``None`` for a test notification.

    Raises ``ValueError`` (pydantic's ``ValidationError`` is one) for anything else,
    including a non-string envelope message or JSON nested too deep to parse.
    """
    data = _json(body)
    if isinstance(data, dict) and data.get("Type") == "Notification" and "Message" in data:
        data = _json(data["Message"])
    if not isinstance(data, dict):
        raise ValueError(f"a notification must be a JSON object, not {type(data).__name__}")
    if data.get("eventName") == "TestNotification":
        return None
    outcome = Outcome.model_validate(data)
    if outcome.invocationStatus == "Completed" and outcome.responseParameters is None:
        raise ValueError("a Completed notification without responseParameters.outputLocation")
    return outcome


def _json(text: object) -> object:
    """``json.loads`` that fails only with ``ValueError``, whatever it is given."""
    try:
        return json.loads(text)  # type: ignore[arg-type]
    except (TypeError, RecursionError) as exc:
        raise ValueError(f"not a JSON document: {type(exc).__name__}: {exc}") from None
