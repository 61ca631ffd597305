"""The local backend: fetch the blueprint, analyse it in a detector worker process.

Detection runs in separate processes (``anyio.to_process``) so OpenCV never
blocks the event loop; a job over ``detect_timeout`` has its process killed.
"""

from __future__ import annotations

import time

import anyio
import anyio.to_process
import cv2
from anyio import BrokenWorkerProcess
from botocore.exceptions import ClientError

from backends import Backend, Completed
from locdetect_worker.analysis import Analysis, analyse_blueprint
from locdetect_worker.decode import DecodeLimits, content_type_for
from locdetect_worker.errors import JobError
from locdetect_worker.jobs import Job
from locdetect_worker.results import S3Source


class LocalBackend(Backend):
    name = "local"

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._detector_slots = anyio.CapacityLimiter(self.settings.effective_workers)
        self._process_limiter = anyio.CapacityLimiter(self.settings.effective_workers)
        self._limits = DecodeLimits(
            max_pixels=self.settings.max_image_pixels, max_pdf_pages=self.settings.max_pdf_pages
        )

    async def process(self, job: Job) -> Completed:
        started = time.perf_counter()
        content_type_for(job.source.key)  # refuse unknown extensions before downloading
        data, source = await self.fetch(job)
        fetched = time.perf_counter()
        analysis = await self.analyse(data)
        timings = {"fetch": round((fetched - started) * 1000, 1), **analysis.timings_ms}
        timings["total"] = round((time.perf_counter() - started) * 1000, 1)
        document = analysis.to_result(job.job_id, source, self.name, timings)
        return Completed(document, analysis.overlay_png)

    async def fetch(self, job: Job) -> tuple[bytes, S3Source]:
        """Download the object, refusing it when it is missing or over the size limit."""
        source = job.source
        try:
            response = await self.clients.s3.get_object(Bucket=source.bucket, Key=source.key)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404", "NoSuchBucket"):
                raise JobError(
                    "object_missing", f"s3://{source.bucket}/{source.key}: {code}"
                ) from None
            raise
        size = int(response.get("ContentLength") or 0)
        async with response["Body"] as body:
            if size > self.settings.max_object_bytes:
                raise JobError(
                    "object_too_large",
                    f"{size} bytes exceeds the limit of {self.settings.max_object_bytes}",
                )
            data = await body.read()
        return data, source.model_copy(
            update={
                "etag": (response.get("ETag") or "").strip('"') or source.etag,
                "version_id": response.get("VersionId") or source.version_id,
                "size": len(data),
            }
        )

    async def analyse(self, data: bytes) -> Analysis:
        """Decode, detect and draw in a worker process, killed past the detect timeout."""
        async with self._detector_slots:
            try:
                with anyio.fail_after(self.settings.detect_timeout):
                    return await anyio.to_process.run_sync(
                        analyse_single_threaded,
                        data,
                        self._limits,
                        cancellable=True,
                        limiter=self._process_limiter,
                    )
            except TimeoutError:
                raise JobError(
                    "detect_timeout", f"detection took longer than {self.settings.detect_timeout} s"
                ) from None
            except BrokenWorkerProcess:
                raise JobError(
                    "detect_failed", "the detector process died (killed, possibly out of memory)"
                ) from None


def analyse_single_threaded(data: bytes, limits: DecodeLimits) -> Analysis:
    """:func:`analyse_blueprint` in a detector process, with one OpenCV thread.

    There is a detector process per core already; OpenCV's own threads on top
    would only contend with them (and with the event loop) for the same cores.
    """
    cv2.setNumThreads(1)
    return analyse_blueprint(data, limits)
