"""Fixtures for the SageMaker path: the container as a real process, the emulator, the backend.

The container runs once per session (``container_url``); each test gets fresh
topics, outcomes queue, emulator and backend from :func:`sagemaker_env`, used
as ``async with`` inside the test body so its task group lives in one task.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aioboto3
import anyio
import pytest
from botocore.config import Config

from backends.sagemaker import SageMakerBackend
from locdetect_worker.aws import AwsClients
from locdetect_worker.config import Settings
from locdetect_worker.jobs import Job, job_id_for_key
from locdetect_worker.local_stack import LOCAL_REGION, LocalStack
from locdetect_worker.results import S3Source
from locdetect_worker.sagemaker_emulator import (
    LocalSageMaker,
    inference_container,
    sagemaker_stack,
)
from locdetect_worker.storage import ResultStore
from tests.conftest import wait_for_object, worker_settings


@pytest.fixture(scope="session", name="container_url")
async def container_url_fixture() -> AsyncIterator[str]:
    """The inference container, started once per session (import this name into a test module)."""
    async with inference_container(workers=2) as url:
        yield url


@dataclass
class SageMakerEnv:
    aws: Any
    stack: LocalStack
    local: LocalSageMaker
    settings: Settings
    backend: SageMakerBackend

    @property
    def emulator(self) -> Any:
        return self.local.emulator

    async def upload(self, name: str, data: bytes) -> Job:
        """Put a blueprint in the input bucket; the job the consumer would build for it."""
        key = f"{self.settings.input_prefix}{name}"
        response = await self.aws.s3.put_object(
            Bucket=self.stack.blueprints_bucket, Key=key, Body=data
        )
        source = S3Source(
            bucket=self.stack.blueprints_bucket,
            key=key,
            etag=response["ETag"].strip('"'),
            size=len(data),
        )
        return Job(job_id=job_id_for_key(key, self.settings.input_prefix), source=source)

    async def result(self, job_id: str, within: float = 30) -> dict[str, Any]:
        key = f"results/{job_id}.json"
        return await wait_for_object(self.aws.s3, self.stack.results_bucket, key, within)

    async def pending(self) -> list[str]:
        response = await self.aws.s3.list_objects_v2(
            Bucket=self.stack.results_bucket, Prefix=self.settings.pending_prefix
        )
        return [item["Key"] for item in response.get("Contents", [])]

    async def result_versions(self, job_id: str) -> int:
        """How many times the result document was written (the results bucket is versioned)."""
        response = await self.aws.s3.list_object_versions(
            Bucket=self.stack.results_bucket, Prefix=f"results/{job_id}.json"
        )
        return len(response.get("Versions", []))

    async def outcomes_left(self) -> int:
        attributes = await self.aws.sqs.get_queue_attributes(
            QueueUrl=self.local.outcomes_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )
        return sum(int(v) for v in attributes["Attributes"].values())


@asynccontextmanager
async def sagemaker_env(
    aws: Any,
    stack: LocalStack,
    container_url: str,
    *,
    serve: bool = True,
    deadline: float = 30.0,
    **overrides: Any,
) -> AsyncIterator[SageMakerEnv]:
    """Emulator + backend on fresh resources; the backend's ``serve()`` runs when ``serve``."""
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    name = f"ep-{uuid.uuid4().hex[:8]}"
    async with sagemaker_stack(
        aws.s3,
        aws.sqs,
        aws.sns,
        bucket=stack.results_bucket,
        endpoint_name=name,
        container_url=container_url,
        region=LOCAL_REGION,
    ) as local:
        values: dict[str, Any] = {
            "backend": "sagemaker",
            "sagemaker_endpoint": name,
            "outcomes_queue_url": local.outcomes_queue_url,
            "sagemaker_sweep_interval": 0.2,
            "sagemaker_request_ttl": 60,
            "sagemaker_invocation_timeout": 30,
        }
        values.update(overrides)
        settings = worker_settings(stack, **values)
        session = aioboto3.Session(region_name=LOCAL_REGION)
        # One attempt per call: the backend's own backoff is what the tests exercise.
        config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
        async with session.client(
            "sagemaker-runtime", endpoint_url=local.endpoint_url, config=config
        ) as runtime:
            clients = AwsClients(s3=aws.s3, sqs=aws.sqs, sagemaker_runtime=runtime)
            store = ResultStore(aws.s3, stack.results_bucket, settings.results_prefix)
            async with SageMakerBackend(settings, clients, store, deadline=deadline) as backend:
                backend.backoff_base = 0.01  # type: ignore[misc]
                env = SageMakerEnv(aws, stack, local, settings, backend)
                async with anyio.create_task_group() as group:
                    if serve:
                        group.start_soon(backend.serve)
                    yield env
                    group.cancel_scope.cancel()


async def wait_until(predicate: Any, within: float = 30) -> None:
    """Poll an async predicate until it holds."""
    with anyio.fail_after(within):
        while not await predicate():
            await anyio.sleep(0.05)
