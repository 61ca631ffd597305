"""Shared fixtures: one moto server per session, real aioboto3 clients, a fresh stack per test."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioboto3
import anyio
import cv2
import numpy as np
import pytest

from locdetect_worker.config import Settings
from locdetect_worker.daemon import run_worker
from locdetect_worker.local_stack import LOCAL_REGION, LocalStack, create_stack, moto_server

REPO = Path(__file__).resolve().parent.parent
CVC_FP = REPO.parent / "shared" / "data" / "cvc-fp-dev"
EVENTS = Path(__file__).parent / "events"


def event_fixture(name: str) -> str:
    return (EVENTS / name).read_text()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@dataclass
class Aws:
    endpoint_url: str
    s3: Any
    sqs: Any
    sns: Any


@pytest.fixture(scope="session")
async def aws(moto_endpoint: str) -> AsyncIterator[Aws]:
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(session.client(name, endpoint_url=moto_endpoint))
            for name in ("s3", "sqs", "sns")
        ]
        yield Aws(moto_endpoint, *clients)


@pytest.fixture
async def stack(aws: Aws) -> LocalStack:
    """A fresh set of buckets and queues per test (names are unique), redrive after 3."""
    return await create_stack(
        aws.s3, aws.sqs, aws.endpoint_url, name=f"t{uuid.uuid4().hex[:10]}", visibility_timeout=30
    )


def worker_settings(stack: LocalStack, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "queue_url": stack.queue_url,
        "results_bucket": stack.results_bucket,
        "endpoint_url": stack.endpoint_url,
        "region": LOCAL_REGION,
        "wait_time_seconds": 1,
        "visibility_timeout": 30,
        "heartbeat_interval": 5,
        "shutdown_grace": 10,
        "workers": 1,
        "concurrency": 2,
        "log_format": "json",
    }
    values.update(overrides)
    return Settings(**values)


class RunningWorker:
    """The real daemon running in this event loop; ``stop()`` drains it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = anyio.Event()
        self.finished = anyio.Event()

    async def run(self, ready: anyio.Event) -> None:
        try:
            await run_worker(self.settings, ready=ready, stop=self._stop, handle_signals=False)
        finally:
            self.finished.set()

    async def stop(self) -> None:
        self._stop.set()
        with anyio.fail_after(30):
            await self.finished.wait()


@pytest.fixture
async def start_worker() -> AsyncIterator[Any]:
    """``await start_worker(settings)`` runs a daemon for the rest of the test.

    Each daemon is an asyncio task of its own: pytest-asyncio runs fixture set-up
    and teardown in different tasks, so no task group may span the ``yield``.
    """
    running: list[tuple[RunningWorker, asyncio.Task[None]]] = []

    async def start(settings: Settings) -> RunningWorker:
        worker = RunningWorker(settings)
        ready = anyio.Event()
        task = asyncio.get_running_loop().create_task(worker.run(ready))
        running.append((worker, task))
        with anyio.fail_after(30):
            while not ready.is_set():
                if task.done():
                    task.result()  # raises the start-up error
                await anyio.sleep(0.05)
        return worker

    yield start
    for worker, task in running:
        await worker.stop()
        await task


async def wait_for_object(s3: Any, bucket: str, key: str, within: float = 60) -> dict[str, Any]:
    """Poll S3 until ``key`` exists; returns its JSON content."""
    with anyio.fail_after(within):
        while True:
            try:
                response = await s3.get_object(Bucket=bucket, Key=key)
            except s3.exceptions.NoSuchKey:
                await anyio.sleep(0.1)
                continue
            async with response["Body"] as body:
                return json.loads(await body.read())


async def queue_depth(sqs: Any, queue_url: str) -> int:
    attributes = await sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )
    values = attributes["Attributes"]
    return int(values["ApproximateNumberOfMessages"]) + int(
        values["ApproximateNumberOfMessagesNotVisible"]
    )


def s3_event(bucket: str, key: str, etag: str | None = None) -> str:
    """The body S3 sends to SQS for one object creation (key as given, already encoded)."""
    obj = {"key": key, **({"eTag": etag} if etag else {})}
    record = {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": obj},
    }
    return json.dumps({"Records": [record]})


def simple_plan_png(rooms_across: int = 2, size: tuple[int, int] = (1200, 900)) -> bytes:
    """A clean plan: an outer wall split into ``rooms_across`` x 2 rooms, doorless."""
    width, height = size
    image = np.full((height, width, 3), 255, np.uint8)
    margin, wall = 100, 12
    cv2.rectangle(image, (margin, margin), (width - margin, height - margin), (0, 0, 0), wall)
    for i in range(1, rooms_across):
        x = margin + i * (width - 2 * margin) // rooms_across
        cv2.line(image, (x, margin), (x, height - margin), (0, 0, 0), wall)
    cv2.line(image, (margin, height // 2), (width - margin, height // 2), (0, 0, 0), wall)
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes()


def worker_subprocess(
    settings: Settings, env_extra: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[bytes]:
    """``locdetect-worker run`` as a real process configured through LOCDETECT_* variables."""
    env = dict(os.environ, **(env_extra or {}))
    for name, value in settings.model_dump(exclude_none=True).items():
        env[f"LOCDETECT_{name.upper()}"] = str(value)
    return subprocess.Popen(
        [sys.executable, "-m", "locdetect_worker.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,
    )


def make_pdf(page_streams: list[str], width: int = 600, height: int = 450) -> bytes:
    """A minimal valid PDF whose pages draw the given content streams (PDF operators)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(page_streams)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(page_streams)} >>")
    for i, stream in enumerate(page_streams):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Contents {4 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out += trailer.encode()
    return out


def pdf_plan_stream(width: int = 600, height: int = 450, wall: float = 6) -> str:
    """PDF operators drawing simple_plan_png's layout (two by two rooms) in points."""
    m = 50
    lines = [
        f"{wall} w",
        f"{m} {m} {width - 2 * m} {height - 2 * m} re S",
        f"{width / 2} {m} m {width / 2} {height - m} l S",
        f"{m} {height / 2} m {width - m} {height / 2} l S",
    ]
    return "\n".join(lines)
