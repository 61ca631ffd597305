"""The worst days, with real processes: kill -9, an AWS outage, SIGTERM, a poison message.

Every assertion is on what ends up in S3 and SQS.
"""

import logging
import uuid
from contextlib import AsyncExitStack

import aioboto3
import anyio
import pytest
from moto.server import ThreadedMotoServer

from locdetect_worker.local_stack import LOCAL_REGION, create_stack, free_port
from tests.conftest import queue_depth, simple_plan_png, wait_for_object, worker_settings
from tests.hostile.processes import WorkerProcess, slow_plan


async def emptied(sqs, queue_url: str, within: float = 60) -> None:
    with anyio.fail_after(within):
        while await queue_depth(sqs, queue_url):
            await anyio.sleep(0.2)


async def result_versions(s3, bucket: str, key: str) -> int:
    listing = await s3.list_object_versions(Bucket=bucket, Prefix=key)
    return sum(1 for version in listing.get("Versions", []) if version["Key"] == key)


async def has_object(s3, bucket: str, key: str) -> bool:
    listing = await s3.list_objects_v2(Bucket=bucket, Prefix=key)
    return any(obj["Key"] == key for obj in listing.get("Contents", []))


@pytest.fixture
async def workers():
    """Start worker processes with ``workers(settings)``; all are killed at the end."""
    started: list[WorkerProcess] = []

    def start(settings) -> WorkerProcess:
        started.append(WorkerProcess(settings))
        return started[-1]

    yield start
    for worker in started:
        worker.close()


@pytest.fixture
async def short_lease_stack(aws):
    """A stack whose queue hides a received message for only 10 s (the settings' minimum)."""
    stack = await create_stack(
        aws.s3, aws.sqs, aws.endpoint_url, name=f"f{uuid.uuid4().hex[:10]}", visibility_timeout=10
    )
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return stack


@pytest.mark.slow
async def test_kill_9_during_a_job_ends_with_exactly_one_result(aws, short_lease_stack, workers):
    stack = short_lease_stack
    settings = worker_settings(stack, visibility_timeout=10, heartbeat_interval=3)
    first = workers(settings)
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/big.png", Body=slow_plan()
    )
    await first.wait_for_log("job_started", key="blueprints/big.png")
    first.kill()
    assert not await has_object(aws.s3, stack.results_bucket, "results/big.json")
    assert await queue_depth(aws.sqs, stack.queue_url) >= 1  # invisible, not lost

    second = workers(settings)
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/big.json", 90)
    assert document["status"] == "succeeded"
    await emptied(aws.sqs, stack.queue_url)
    assert await queue_depth(aws.sqs, stack.dlq_url) == 0
    assert await result_versions(aws.s3, stack.results_bucket, "results/big.json") == 1
    assert second.logged("job_finished", key="blueprints/big.png")


@pytest.mark.slow
async def test_sigterm_with_short_grace_puts_the_message_back_at_once(aws, stack, workers):
    settings = worker_settings(stack, shutdown_grace=1, visibility_timeout=300)
    worker = workers(settings)
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/big.png", Body=slow_plan()
    )
    await worker.wait_for_log("job_started", key="blueprints/big.png")
    assert await worker.terminate(within=30) == 0, worker.log
    assert worker.logged("message_released"), worker.log
    with anyio.fail_after(10):  # the lease was 300 s: only a release makes it visible now
        while True:
            response = await aws.sqs.receive_message(
                QueueUrl=stack.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            bodies = [m["Body"] for m in response.get("Messages", [])]
            if any("big.png" in body for body in bodies):  # moto writes the key as %2F-encoded
                break
    assert not await has_object(aws.s3, stack.results_bucket, "results/big.json")


@pytest.mark.slow
async def test_poison_message_reaches_the_dlq_with_a_failure_record(aws, stack, workers):
    worker = workers(worker_settings(stack))
    poison = "\x00\x01 definitely not an event " + "!" * 3000
    sent = await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=poison)
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/fine.png", Body=simple_plan_png()
    )
    record = await wait_for_object(
        aws.s3, stack.results_bucket, f"failures/{sent['MessageId']}.json", 60
    )
    assert record["error"]["code"] == "invalid_event"
    assert record["receive_count"] == 3  # the stack's maxReceiveCount
    assert record["body_head"] == poison[:1024]
    with anyio.fail_after(60):
        while await queue_depth(aws.sqs, stack.dlq_url) == 0:
            await anyio.sleep(0.2)
    dead = await aws.sqs.receive_message(QueueUrl=stack.dlq_url, WaitTimeSeconds=1)
    assert dead["Messages"][0]["Body"] == poison
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/fine.json")
    assert document["status"] == "succeeded"
    await emptied(aws.sqs, stack.queue_url)
    assert worker.process.poll() is None  # still serving


class RestartableMoto:
    """A moto server of its own on a fixed port; moto's state lives in-process, so it survives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.server: ThreadedMotoServer | None = None

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.mark.slow
async def test_aws_outage_of_20_seconds_loses_nothing(aws, workers):
    moto = RestartableMoto()
    moto.start()
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with AsyncExitStack() as clients:
        clients.callback(moto.stop)
        s3, sqs = [
            await clients.enter_async_context(session.client(name, endpoint_url=moto.endpoint_url))
            for name in ("s3", "sqs")
        ]
        stack = await create_stack(
            s3, sqs, moto.endpoint_url, name=f"o{uuid.uuid4().hex[:10]}", visibility_timeout=10
        )
        keys = [f"blueprints/plan-{index}.png" for index in range(6)]
        for key in keys:
            await s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=simple_plan_png())
        worker = workers(worker_settings(stack, visibility_timeout=10, heartbeat_interval=3))
        await wait_for_object(s3, stack.results_bucket, "results/plan-0.json")

        moto.stop()
        down_since = anyio.current_time()
        await worker.wait_for_log("receive_failed", within=60)
        await anyio.sleep(max(0.0, 20 - (anyio.current_time() - down_since)))  # the outage
        moto.start()

        for index in range(6):
            document = await wait_for_object(
                s3, stack.results_bucket, f"results/plan-{index}.json", 120
            )
            assert document["status"] == "succeeded"
        await emptied(sqs, stack.queue_url, within=60)
        assert await queue_depth(sqs, stack.dlq_url) == 0
        await worker.wait_for_log("receive_recovered", within=30)
        assert worker.process.poll() is None, worker.log
