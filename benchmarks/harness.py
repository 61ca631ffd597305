"""What the benchmarks share: waiting for a moto server, and a worker's environment."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aioboto3

from locdetect_worker.local_stack import LOCAL_REGION, LocalStack


@asynccontextmanager
async def moto_clients(endpoint: str) -> AsyncIterator[tuple[Any, Any]]:
    """(s3, sqs) clients on a freshly started moto server, once it answers."""
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with (
        session.client("s3", endpoint_url=endpoint) as s3,
        session.client("sqs", endpoint_url=endpoint) as sqs,
    ):
        await wait_until_up(s3)
        yield s3, sqs


async def wait_until_up(s3: Any, seconds: float = 10.0) -> None:
    """Wait for a freshly started moto server to answer."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            await s3.list_buckets()
            return
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.1)


def worker_env(stack: LocalStack, workers: int, **settings: str) -> dict[str, str]:
    """The environment of a `locdetect-worker run` process against ``stack``.

    ``settings`` are extra LOCDETECT_* values, named without the prefix.
    """
    return dict(
        os.environ,
        LOCDETECT_QUEUE_URL=stack.queue_url,
        LOCDETECT_RESULTS_BUCKET=stack.results_bucket,
        LOCDETECT_ENDPOINT_URL=stack.endpoint_url,
        LOCDETECT_REGION=LOCAL_REGION,
        LOCDETECT_WORKERS=str(workers),
        LOCDETECT_WAIT_TIME_SECONDS="1",
        **{f"LOCDETECT_{name.upper()}": value for name, value in settings.items()},
    )
