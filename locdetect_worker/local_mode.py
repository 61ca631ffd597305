"""``locdetect-worker local``: the whole pipeline on one machine, for development.

Starts moto's server in-process, creates the buckets, queues and S3
notification, runs the real daemon against them, uploads every file dropped
into ``<data>/inbox`` and downloads each result and overlay into
``<data>/outbox``. ``--demo`` pushes the bundled sample plans through, prints a
summary table and exits.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import structlog

from locdetect_worker.config import Settings
from locdetect_worker.consumer import wait_for
from locdetect_worker.daemon import run_worker
from locdetect_worker.decode import ACCEPTED_EXTENSIONS
from locdetect_worker.local_stack import LOCAL_REGION, LocalStack, create_stack, moto_server

log = structlog.get_logger("locdetect.local")

SCAN_INTERVAL = 0.5
DEMO_TIMEOUT = 600.0


@dataclass
class _Tracker:
    """Uploads and the results that came back, for progress and the demo summary."""

    uploaded: dict[str, float] = field(default_factory=dict)  # job id -> upload time
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    latency: dict[str, float] = field(default_factory=dict)
    all_done: anyio.Event = field(default_factory=anyio.Event)


async def run_local(settings: Settings, data_dir: Path, demo: bool, backend: str) -> int:
    inbox, outbox = data_dir / "inbox", data_dir / "outbox"
    inbox.mkdir(parents=True, exist_ok=True)
    outbox.mkdir(parents=True, exist_ok=True)
    if demo and (resources.files("locdetect_worker") / "samples").is_dir():
        _copy_samples(inbox)
    with moto_server() as endpoint_url:
        session = aioboto3.Session(region_name=LOCAL_REGION)
        async with AsyncExitStack() as stack:
            s3 = await stack.enter_async_context(session.client("s3", endpoint_url=endpoint_url))
            sqs = await stack.enter_async_context(session.client("sqs", endpoint_url=endpoint_url))
            aws = await create_stack(
                s3,
                sqs,
                endpoint_url,
                input_prefix=settings.input_prefix,
                visibility_timeout=settings.visibility_timeout,
            )
            worker_settings = settings.model_copy(
                update={
                    "endpoint_url": endpoint_url,
                    "region": LOCAL_REGION,
                    "queue_url": aws.queue_url,
                    "results_bucket": aws.results_bucket,
                    "backend": backend,
                    "wait_time_seconds": 1,
                    "shutdown_grace": min(settings.shutdown_grace, 10.0),
                }
            )
            if backend == "sagemaker":
                worker_settings = await _start_sagemaker(stack, worker_settings, aws, s3, sqs)
            log.info(
                "local_stack_ready",
                endpoint_url=endpoint_url,
                inbox=str(inbox),
                outbox=str(outbox),
                backend=backend,
            )
            tracker = _Tracker()
            stop, ready = anyio.Event(), anyio.Event()
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_run_worker_then_stop, worker_settings, ready, stop, tasks)
                await ready.wait()
                tasks.start_soon(_watch_signals, stop)
                tasks.start_soon(_upload_inbox, s3, aws, settings, inbox, tracker, stop)
                tasks.start_soon(_download_results, s3, aws, settings, outbox, tracker, stop)
                if demo:
                    tasks.start_soon(_finish_demo, tracker, stop)
                else:
                    log.info("watching_inbox", hint=f"drop plans into {inbox}; Ctrl-C stops")
            if demo:
                return _print_summary(tracker, outbox)
    return 0


async def _start_sagemaker(
    stack: AsyncExitStack, settings: Settings, aws: LocalStack, s3: Any, sqs: Any
) -> Settings:
    from locdetect_worker.sagemaker_emulator import local_sagemaker

    sagemaker = await stack.enter_async_context(local_sagemaker(aws, s3, sqs, settings))
    return settings.model_copy(update=sagemaker)


async def _run_worker_then_stop(
    settings: Settings, ready: anyio.Event, stop: anyio.Event, tasks: anyio.abc.TaskGroup
) -> None:
    await run_worker(settings, ready=ready, stop=stop, handle_signals=False, metrics=False)
    stop.set()
    tasks.cancel_scope.cancel()


async def _watch_signals(stop: anyio.Event) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            log.info("stopping", hint="draining jobs in flight")
            stop.set()


def _copy_samples(inbox: Path) -> None:
    samples = resources.files("locdetect_worker") / "samples"
    for sample in samples.iterdir():
        if sample.name.rsplit(".", 1)[-1].lower() in ACCEPTED_EXTENSIONS:
            with resources.as_file(sample) as path:
                shutil.copyfile(path, inbox / sample.name)


async def _upload_inbox(
    s3: Any, aws: LocalStack, settings: Settings, inbox: Path, tracker: _Tracker, stop: anyio.Event
) -> None:
    seen: dict[Path, float] = {}
    while not stop.is_set():
        for relative, data in await anyio.to_thread.run_sync(_new_files, inbox, seen):
            job_id = relative.rsplit(".", 1)[0] if "." in relative else relative
            tracker.uploaded[job_id] = time.monotonic()
            await s3.put_object(
                Bucket=aws.blueprints_bucket, Key=settings.input_prefix + relative, Body=data
            )
            log.info("uploaded", file=relative, job_id=job_id)
        await wait_for(stop, SCAN_INTERVAL)


def _new_files(inbox: Path, seen: dict[Path, float]) -> list[tuple[str, bytes]]:
    """Files added or changed since the last scan, as (relative path, content)."""
    found = []
    for path in sorted(inbox.rglob("*")):
        if path.is_file() and seen.get(path) != path.stat().st_mtime:
            seen[path] = path.stat().st_mtime
            found.append((path.relative_to(inbox).as_posix(), path.read_bytes()))
    return found


async def _download_results(
    s3: Any,
    aws: LocalStack,
    settings: Settings,
    outbox: Path,
    tracker: _Tracker,
    stop: anyio.Event,
) -> None:
    etags: dict[str, str] = {}
    prefix = settings.results_prefix
    while not stop.is_set():
        paginator = s3.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=aws.results_bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if etags.get(key) == item["ETag"] or not key.endswith(".json"):
                    continue
                etags[key] = item["ETag"]
                await _fetch_result(s3, aws, key, prefix, outbox, tracker)
        if tracker.uploaded and tracker.uploaded.keys() <= tracker.results.keys():
            tracker.all_done.set()
        await wait_for(stop, SCAN_INTERVAL)


async def _fetch_result(
    s3: Any, aws: LocalStack, key: str, prefix: str, outbox: Path, tracker: _Tracker
) -> None:
    job_id = key[len(prefix) : -len(".json")]
    for suffix in (".json", ".overlay.png"):
        target = outbox / f"{job_id}{suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            response = await s3.get_object(
                Bucket=aws.results_bucket, Key=f"{prefix}{job_id}{suffix}"
            )
        except s3.exceptions.NoSuchKey:
            continue
        async with response["Body"] as body:
            target.write_bytes(await body.read())
    document = json.loads((outbox / f"{job_id}.json").read_text())
    tracker.results[job_id] = document
    if job_id in tracker.uploaded:
        tracker.latency[job_id] = time.monotonic() - tracker.uploaded[job_id]
    log.info(
        "result",
        job_id=job_id,
        status=document["status"],
        rooms=len(document["rooms"]),
        error=(document.get("error") or {}).get("code"),
        outbox=str(outbox / f"{job_id}.json"),
    )


async def _finish_demo(tracker: _Tracker, stop: anyio.Event) -> None:
    if not await wait_for(tracker.all_done, DEMO_TIMEOUT):
        log.error(
            "demo_timed_out", waiting_for=sorted(tracker.uploaded.keys() - tracker.results.keys())
        )
    stop.set()


def _print_summary(tracker: _Tracker, outbox: Path) -> int:
    rows = [("job", "status", "rooms", "detect ms", "upload->result s")]
    for job_id in sorted(tracker.uploaded):
        document = tracker.results.get(job_id)
        if document is None:
            rows.append((job_id, "missing", "-", "-", "-"))
            continue
        rows.append(
            (
                job_id,
                document["status"]
                if not document.get("error")
                else f"failed ({document['error']['code']})",
                str(len(document["rooms"])),
                str(document.get("timings_ms", {}).get("detect", "-")),
                f"{tracker.latency.get(job_id, float('nan')):.2f}",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)))
    print(f"\nresults and overlays in {outbox}/")
    complete = all(
        tracker.results.get(j, {}).get("status") == "succeeded" for j in tracker.uploaded
    )
    sys.stdout.flush()
    return 0 if complete and tracker.uploaded else 1
