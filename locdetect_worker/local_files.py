"""``locdetect-worker detect``: result documents for files on disk, as JSON Lines."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TextIO

import structlog

from locdetect_worker.analysis import Analysis, analyse_blueprint
from locdetect_worker.config import Settings
from locdetect_worker.decode import DecodeLimits, content_type_for
from locdetect_worker.errors import JobError
from locdetect_worker.results import FileSource, ResultDocument, failed_result

log = structlog.get_logger("locdetect.detect")


def detect_files(
    paths: list[Path], settings: Settings, overlay_dir: Path | None, out: TextIO
) -> int:
    """Print one document per file in order; exit status 1 if any failed."""
    limits = DecodeLimits(settings.max_image_pixels, settings.max_pdf_pages)
    if overlay_dir:
        overlay_dir.mkdir(parents=True, exist_ok=True)
    workers = min(len(paths), settings.effective_workers)
    failures = 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_analyse_file, path, limits, overlay_dir is not None) for path in paths
        ]
        for path, future in zip(paths, futures):
            started = time.perf_counter()
            document, overlay = _document(path, future.result())
            if overlay and overlay_dir:
                (overlay_dir / f"{path.stem}.overlay.png").write_bytes(overlay)
            failures += document.status == "failed"
            out.write(document.to_json() + "\n")
            out.flush()
            log.info(
                "file_done",
                path=str(path),
                status=document.status,
                rooms=len(document.rooms),
                waited_ms=round((time.perf_counter() - started) * 1000, 1),
            )
    return 1 if failures else 0


def _analyse_file(path: Path, limits: DecodeLimits, overlay: bool) -> Analysis | JobError:
    try:
        content_type_for(path.name)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise JobError("object_missing", f"{path}: no such file") from None
        except OSError as exc:
            raise JobError("object_missing", f"{path}: {exc.strerror}") from None
        return analyse_blueprint(data, limits, overlay=overlay)
    except JobError as exc:
        return exc


def _document(path: Path, outcome: Analysis | JobError) -> tuple[ResultDocument, bytes | None]:
    source = FileSource(path=str(path))
    if isinstance(outcome, JobError):
        return failed_result(path.stem, source, outcome, "local"), None
    return outcome.to_result(path.stem, source, "local"), outcome.overlay_png
