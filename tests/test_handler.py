"""Idempotency and poison messages, decided by the handler; checked in S3 and SQS."""

import json

import anyio
import pytest

from backends.local import LocalBackend
from locdetect_worker.aws import AwsClients
from locdetect_worker.handler import FORCE_ATTRIBUTE, MessageHandler
from locdetect_worker.storage import ResultStore
from tests.conftest import (
    queue_depth,
    s3_event,
    simple_plan_png,
    wait_for_object,
    worker_settings,
)


async def versions(s3, bucket: str, key: str) -> int:
    response = await s3.list_object_versions(Bucket=bucket, Prefix=key)
    return sum(1 for version in response.get("Versions", []) if version["Key"] == key)


async def drained(sqs, queue_url: str) -> None:
    with anyio.fail_after(60):
        while await queue_depth(sqs, queue_url):
            await anyio.sleep(0.1)


@pytest.fixture
async def versioned(aws, stack):
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return stack


async def processed_once(aws, stack, start_worker, key="blueprints/plan.png"):
    await start_worker(worker_settings(stack))
    await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=simple_plan_png())
    await wait_for_object(aws.s3, stack.results_bucket, "results/plan.json")
    await drained(aws.sqs, stack.queue_url)


async def test_event_without_etag_is_skipped_when_the_result_exists(aws, versioned, start_worker):
    stack = versioned
    await processed_once(aws, stack, start_worker)
    body = s3_event(stack.blueprints_bucket, "blueprints/plan.png")  # no eTag: HEAD finds it
    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
    await drained(aws.sqs, stack.queue_url)
    assert await versions(aws.s3, stack.results_bucket, "results/plan.json") == 1


async def test_forced_message_runs_the_job_again(aws, versioned, start_worker):
    stack = versioned
    await processed_once(aws, stack, start_worker)
    await aws.sqs.send_message(
        QueueUrl=stack.queue_url,
        MessageBody=s3_event(stack.blueprints_bucket, "blueprints/plan.png"),
        MessageAttributes={FORCE_ATTRIBUTE: {"DataType": "String", "StringValue": "true"}},
    )
    await drained(aws.sqs, stack.queue_url)
    assert await versions(aws.s3, stack.results_bucket, "results/plan.json") == 2


async def test_same_job_at_once_leaves_one_result(aws, versioned, start_worker):
    stack = versioned
    put = await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/twice.png", Body=simple_plan_png()
    )
    duplicate = s3_event(stack.blueprints_bucket, "blueprints/twice.png", put["ETag"].strip('"'))
    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=duplicate)
    # Both copies are received in one batch and run side by side.
    await start_worker(worker_settings(stack, concurrency=3))
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/twice.json")
    await drained(aws.sqs, stack.queue_url)
    assert await versions(aws.s3, stack.results_bucket, "results/twice.json") == 1
    assert await versions(aws.s3, stack.results_bucket, "results/twice.overlay.png") == 1
    assert document["source"]["etag"] == put["ETag"].strip('"')


class UploadDuringJob(LocalBackend):
    """Processes the object, then a newer version lands before the result is written."""

    async def process(self, job):
        outcome = await super().process(job)
        await self.clients.s3.put_object(
            Bucket=job.source.bucket, Key=job.source.key, Body=simple_plan_png(3)
        )
        return outcome


def direct_handler(aws, settings, backend_class=LocalBackend) -> MessageHandler:
    """The handler the daemon would build, called here without the consumer around it."""
    store = ResultStore(aws.s3, settings.results_bucket)
    backend = backend_class(settings, AwsClients(aws.s3, aws.sqs), store)
    return MessageHandler(settings, backend, store)


async def test_result_of_a_changed_object_is_not_written(aws, stack):
    handler = direct_handler(aws, worker_settings(stack), UploadDuringJob)
    key = "blueprints/moving.png"
    await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=simple_plan_png())
    message = {"MessageId": "m-1", "Body": s3_event(stack.blueprints_bucket, key)}
    disposition = await handler(message)
    assert disposition.delete
    assert await handler.store.read("moving") is None  # the newer version's event writes it
    assert handler.skipped == 1


class AnotherWorkerWritesMeanwhile(LocalBackend):
    """Processes the object; meanwhile another worker writes its result for ``their_etag``.

    ``None`` stands for this very object version (a duplicate job that finished
    first); an ETag stands for an older version (a slow job on it finishing late).
    """

    their_etag: str | None = None
    THEIR_OVERLAY = b"their overlay"

    async def process(self, job):
        outcome = await super().process(job)
        source = outcome.document.source
        theirs = outcome.document.model_copy(
            update={
                "backend": "another-worker",
                "source": source.model_copy(update={"etag": self.their_etag or source.etag}),
            }
        )
        await self.store.write(theirs, self.THEIR_OVERLAY)
        return outcome


async def stored_overlay(s3, bucket: str, job_id: str) -> bytes:
    response = await s3.get_object(Bucket=bucket, Key=f"results/{job_id}.overlay.png")
    async with response["Body"] as body:
        return await body.read()


async def test_a_result_written_meanwhile_for_the_same_version_is_kept(aws, stack):
    handler = direct_handler(aws, worker_settings(stack), AnotherWorkerWritesMeanwhile)
    key = "blueprints/raced.png"
    await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=simple_plan_png())
    disposition = await handler(
        {"MessageId": "m-1", "Body": s3_event(stack.blueprints_bucket, key)}
    )
    assert disposition.delete
    assert handler.skipped == 1
    assert (await handler.store.read("raced")).backend == "another-worker"
    overlay = await stored_overlay(aws.s3, stack.results_bucket, "raced")
    assert overlay == AnotherWorkerWritesMeanwhile.THEIR_OVERLAY  # not mixed with ours


class StaleResultWrittenMeanwhile(AnotherWorkerWritesMeanwhile):
    their_etag = "0123456789abcdef0123456789abcdef"  # the previous version's


async def test_a_stale_result_written_meanwhile_is_replaced(aws, stack):
    handler = direct_handler(aws, worker_settings(stack), StaleResultWrittenMeanwhile)
    key = "blueprints/late.png"
    put = await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=simple_plan_png())
    disposition = await handler(
        {"MessageId": "m-1", "Body": s3_event(stack.blueprints_bucket, key)}
    )
    assert disposition.delete
    assert handler.skipped == 0
    document = await handler.store.read("late")
    assert document.backend == "local"
    assert document.source.etag == put["ETag"].strip('"')
    overlay = await stored_overlay(aws.s3, stack.results_bucket, "late")
    assert overlay.startswith(b"\x89PNG")


async def failure_record(s3, bucket: str, message_id: str):
    try:
        response = await s3.get_object(Bucket=bucket, Key=f"failures/{message_id}.json")
    except s3.exceptions.NoSuchKey:
        return None
    async with response["Body"] as body:
        return json.loads(await body.read())


def poison(receive_count: int) -> dict:
    return {
        "MessageId": f"poison-{receive_count}",
        "Body": "<xml>not an event</xml>" + "x" * 5000,
        "Attributes": {"ApproximateReceiveCount": str(receive_count)},
    }


async def test_poison_message_gets_a_failure_record_on_its_last_receive(aws, stack):
    handler = direct_handler(aws, worker_settings(stack))
    early = await handler(poison(2))
    assert not early.delete and early.retry_after == 0
    assert await failure_record(aws.s3, stack.results_bucket, "poison-2") is None
    last = await handler(poison(3))  # the stack's maxReceiveCount
    assert not last.delete and last.retry_after == 0  # SQS moves it to the DLQ next
    record = await failure_record(aws.s3, stack.results_bucket, "poison-3")
    assert record["error"]["code"] == "invalid_event"
    assert record["receive_count"] == 3
    assert record["body_head"].startswith("<xml>not an event</xml>xxx")
    assert len(record["body_head"]) == 1024 and record["body_bytes"] == 5023


async def test_poison_message_without_a_dlq_is_recorded_and_dropped(aws, stack):
    lonely = await aws.sqs.create_queue(QueueName=f"{stack.queue_url.rsplit('/', 1)[1]}-nodlq")
    handler = direct_handler(aws, worker_settings(stack, queue_url=lonely["QueueUrl"]))
    disposition = await handler(poison(1))
    assert disposition.delete
    record = await failure_record(aws.s3, stack.results_bucket, "poison-1")
    assert record["error"]["code"] == "invalid_event"
