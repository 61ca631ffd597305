"""The AWS clients a worker holds for its lifetime, opened and closed by one exit stack."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from locdetect_worker.config import ConfigError, Settings


@dataclass
class AwsClients:
    s3: Any
    sqs: Any
    sagemaker_runtime: Any | None = None


def client_config(settings: Settings) -> Config:
    """Retries in standard mode (throttling and 5xx back off); a pool that fits our concurrency."""
    return Config(
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=max(10, settings.effective_concurrency + 4),
        connect_timeout=10,
        read_timeout=60,
    )


async def open_clients(settings: Settings, stack: AsyncExitStack) -> AwsClients:
    """Create every client the configured backend needs; ``stack`` closes them."""
    session = aioboto3.Session(region_name=settings.region)
    kwargs: dict[str, Any] = {"config": client_config(settings)}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    s3 = await stack.enter_async_context(session.client("s3", **kwargs))
    sqs = await stack.enter_async_context(session.client("sqs", **kwargs))
    runtime = None
    if settings.backend == "sagemaker":
        runtime_kwargs = dict(kwargs)
        if settings.sagemaker_runtime_url:
            runtime_kwargs["endpoint_url"] = settings.sagemaker_runtime_url
        runtime = await stack.enter_async_context(
            session.client("sagemaker-runtime", **runtime_kwargs)
        )
    return AwsClients(s3=s3, sqs=sqs, sagemaker_runtime=runtime)


async def check_queue(sqs: Any, queue_url: str, setting: str) -> None:
    """Fail start-up with a message naming ``setting`` when its queue cannot be reached."""
    try:
        await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    except (ClientError, BotoCoreError) as exc:
        raise ConfigError(f"{setting} {queue_url!r} is not usable: {exc}") from None
