"""What one job is: a blueprint object in S3 and the job id derived from its key."""

from __future__ import annotations

from dataclasses import dataclass

from locdetect_worker.results import S3Source


@dataclass(frozen=True)
class Job:
    """One blueprint to process. ``force`` re-runs it even when a result exists."""

    job_id: str
    source: S3Source
    message_id: str | None = None
    force: bool = False
    event_time: str | None = None  # the S3 event's time, for end-to-end latency
    sent_timestamp: str | None = None  # SQS SentTimestamp (epoch ms), for message age

    @property
    def log_context(self) -> dict[str, str | None]:
        return {
            "job_id": self.job_id,
            "bucket": self.source.bucket,
            "key": self.source.key,
            "message_id": self.message_id,
        }


def job_id_for_key(key: str, input_prefix: str) -> str:
    """``blueprints/site-a/level-2.png`` -> ``site-a/level-2`` (sub-folders kept)."""
    name = key[len(input_prefix) :] if input_prefix and key.startswith(input_prefix) else key
    stem, dot, _ext = name.rpartition(".")
    return stem if dot and stem and not stem.endswith("/") else name
