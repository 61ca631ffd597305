"""Typed job errors, decided in one place.

A :class:`JobError` is permanent: the job ends with a failed result carrying its
stable ``code``. Anything else raised while handling a job is treated as
transient: the message is left on the queue to be retried (and reaches the DLQ
after ``maxReceiveCount``).
"""

from __future__ import annotations

from typing import Literal

ErrorCode = Literal[
    "invalid_event",
    "object_missing",
    "object_too_large",
    "unsupported_format",
    "decode_failed",
    "image_too_large",
    "detect_timeout",
    "detect_failed",
    "endpoint_failed",
    "endpoint_timeout",
]


class JobError(Exception):
    """A permanent failure of one job, reported in its result document."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message

    def __reduce__(self) -> tuple[type[JobError], tuple[str, str]]:
        # Crosses the detector process boundary intact.
        return (JobError, (self.code, self.message))
