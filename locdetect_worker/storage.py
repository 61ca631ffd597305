"""Results in S3: ``<results prefix><job>.json`` and ``<job>.overlay.png``.

The overlay is written first and the JSON document last, so the document's
presence means the job's outcome is durable.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from locdetect_worker.results import ResultDocument


class ResultStore:
    def __init__(self, s3: Any, bucket: str, prefix: str = "results/") -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix

    def result_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.json"

    def overlay_key(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}.overlay.png"

    async def write(self, document: ResultDocument, overlay_png: bytes | None = None) -> None:
        if overlay_png is not None:
            await self.s3.put_object(
                Bucket=self.bucket,
                Key=self.overlay_key(document.job_id),
                Body=overlay_png,
                ContentType="image/png",
            )
        await self.s3.put_object(
            Bucket=self.bucket,
            Key=self.result_key(document.job_id),
            Body=document.to_json().encode(),
            ContentType="application/json",
        )

    async def read(self, job_id: str) -> ResultDocument | None:
        """The stored document, or ``None`` when there is none yet."""
        try:
            response = await self.s3.get_object(Bucket=self.bucket, Key=self.result_key(job_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with response["Body"] as body:
            return ResultDocument.model_validate_json(await body.read())
