"""SQS message bodies -> the S3 objects they announce.

Accepted shapes: S3 event notifications delivered directly (or through SNS with
raw delivery), wrapped in an SNS envelope, and EventBridge "Object Created"
events (also possibly SNS-wrapped). ``s3:TestEvent`` and records that are not
object creations are acknowledged and yield nothing; anything else raises
:class:`InvalidEvent`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, ValidationError

MAX_ENVELOPE_DEPTH = 3


class InvalidEvent(Exception):
    """The message is not an event we understand; it is left for the DLQ."""


@dataclass(frozen=True)
class ObjectCreated:
    bucket: str
    key: str
    etag: str | None = None
    size: int | None = None
    version_id: str | None = None
    sequencer: str | None = None
    event_time: str | None = None  # when S3 saw the upload: the start of end-to-end latency


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class S3Bucket(_Loose):
    name: str


class S3Object(_Loose):
    key: str
    size: int | None = None
    etag: str | None = Field(default=None, alias="eTag")
    version_id: str | None = Field(default=None, alias="versionId")
    sequencer: str | None = None


class S3Entity(_Loose):
    bucket: S3Bucket
    object: S3Object


class S3EventRecord(_Loose):
    event_source: str = Field(alias="eventSource")
    event_name: str = Field(alias="eventName")
    event_time: str | None = Field(default=None, alias="eventTime")
    s3: S3Entity


class EventBridgeObject(_Loose):
    key: str
    size: int | None = None
    etag: str | None = None
    version_id: str | None = Field(default=None, alias="version-id")
    sequencer: str | None = None


class EventBridgeDetail(_Loose):
    bucket: S3Bucket
    object: EventBridgeObject


def parse_message(body: str) -> list[ObjectCreated]:
    """Every object creation announced by one SQS message body (possibly none)."""
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidEvent(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise InvalidEvent("body is JSON nested too deeply to read") from None
    return _parse_payload(payload, depth=0)


def _parse_payload(payload: Any, depth: int) -> list[ObjectCreated]:
    if not isinstance(payload, dict):
        raise InvalidEvent(f"expected a JSON object, got {type(payload).__name__}")
    if payload.get("Type") == "Notification" and isinstance(payload.get("Message"), str):
        if depth >= MAX_ENVELOPE_DEPTH:
            raise InvalidEvent("too many nested SNS envelopes")
        try:
            inner = json.loads(payload["Message"])
        except json.JSONDecodeError as exc:
            raise InvalidEvent(f"SNS Message is not JSON: {exc}") from None
        except RecursionError:
            raise InvalidEvent("SNS Message is JSON nested too deeply to read") from None
        return _parse_payload(inner, depth + 1)
    if payload.get("Event") == "s3:TestEvent":
        return []
    if "Records" in payload:
        return _parse_s3_records(payload["Records"])
    if payload.get("source") == "aws.s3" and "detail-type" in payload:
        return _parse_eventbridge(payload)
    raise InvalidEvent("not an S3 notification, SNS envelope or EventBridge event")


def _parse_s3_records(records: Any) -> list[ObjectCreated]:
    if not isinstance(records, list) or not records:
        raise InvalidEvent("'Records' must be a non-empty list")
    created = []
    for index, raw in enumerate(records):
        try:
            record = S3EventRecord.model_validate(raw)
        except ValidationError as exc:
            raise InvalidEvent(f"record {index}: {_first_error(exc)}") from None
        if record.event_source != "aws:s3" or not record.event_name.startswith("ObjectCreated:"):
            continue
        obj = record.s3.object
        created.append(
            ObjectCreated(
                bucket=record.s3.bucket.name,
                key=unquote_plus(obj.key),
                etag=obj.etag,
                size=obj.size,
                version_id=obj.version_id,
                sequencer=obj.sequencer,
                event_time=record.event_time,
            )
        )
    return created


def _parse_eventbridge(payload: dict[str, Any]) -> list[ObjectCreated]:
    if payload["detail-type"] != "Object Created":
        return []
    try:
        detail = EventBridgeDetail.model_validate(payload.get("detail"))
    except ValidationError as exc:
        raise InvalidEvent(f"EventBridge detail: {_first_error(exc)}") from None
    obj = detail.object
    return [
        ObjectCreated(
            bucket=detail.bucket.name,
            key=unquote_plus(obj.key),
            etag=obj.etag,
            size=obj.size,
            version_id=obj.version_id,
            sequencer=obj.sequencer,
            event_time=payload.get("time"),
        )
    ]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
