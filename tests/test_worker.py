"""The daemon end to end against moto's server: what lands in S3 and what stays in SQS."""

import json
import signal

import anyio
import pytest

from tests.conftest import (
    queue_depth,
    s3_event,
    simple_plan_png,
    wait_for_object,
    worker_settings,
    worker_subprocess,
)
from tests.hostile.processes import slow_plan


async def test_uploaded_blueprint_yields_result_and_overlay(aws, stack, start_worker):
    await start_worker(worker_settings(stack))
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/site a/level 1.png", Body=simple_plan_png()
    )
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/site a/level 1.json")
    assert document["status"] == "succeeded"
    assert document["job_id"] == "site a/level 1"
    assert document["source"]["key"] == "blueprints/site a/level 1.png"
    assert document["source"]["etag"]
    assert document["image"] == {"width": 1200, "height": 900, "pages": 1}
    assert len(document["rooms"]) == 4
    assert document["backend"] == "local"
    overlay = await aws.s3.get_object(
        Bucket=stack.results_bucket, Key="results/site a/level 1.overlay.png"
    )
    async with overlay["Body"] as body:
        assert (await body.read()).startswith(b"\x89PNG")
    with anyio.fail_after(30):
        while await queue_depth(aws.sqs, stack.queue_url):
            await anyio.sleep(0.1)


async def test_missing_object_gives_failed_result(aws, stack, start_worker):
    await start_worker(worker_settings(stack))
    body = s3_event(stack.blueprints_bucket, "blueprints/ghost.png", "abc")
    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=body)
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/ghost.json")
    assert document["status"] == "failed"
    assert document["error"]["code"] == "object_missing"
    assert document["rooms"] == []


async def test_garbage_goes_to_dlq_while_daemon_keeps_serving(aws, stack, start_worker):
    await start_worker(worker_settings(stack))
    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="this is not an event")
    with anyio.fail_after(60):
        while await queue_depth(aws.sqs, stack.dlq_url) == 0:
            await anyio.sleep(0.2)
    response = await aws.sqs.receive_message(QueueUrl=stack.dlq_url, WaitTimeSeconds=1)
    assert response["Messages"][0]["Body"] == "this is not an event"
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/after.png", Body=simple_plan_png()
    )
    document = await wait_for_object(aws.s3, stack.results_bucket, "results/after.json")
    assert document["status"] == "succeeded"


async def test_duplicate_event_yields_one_result(aws, stack, start_worker):
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    put = await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/dup.png", Body=simple_plan_png()
    )
    event = s3_event(stack.blueprints_bucket, "blueprints/dup.png", put["ETag"].strip('"'))
    for _ in range(2):
        await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=event)
    worker = await start_worker(worker_settings(stack, concurrency=1))
    first = await wait_for_object(aws.s3, stack.results_bucket, "results/dup.json")
    with anyio.fail_after(60):  # the notification and both copies are all consumed
        while await queue_depth(aws.sqs, stack.queue_url):
            await anyio.sleep(0.1)
    await worker.stop()
    versions = await aws.s3.list_object_versions(
        Bucket=stack.results_bucket, Prefix="results/dup.json"
    )
    assert len(versions["Versions"]) == 1
    final = await wait_for_object(aws.s3, stack.results_bucket, "results/dup.json")
    assert final == first


@pytest.mark.slow
async def test_sigterm_during_a_job_finishes_it_and_exits_zero(aws, stack):
    plan = slow_plan()  # noise makes decoding and detection take a while
    process = worker_subprocess(worker_settings(stack, shutdown_grace=60))
    try:
        await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key="blueprints/big.png", Body=plan)
        lines: list[str] = []
        with anyio.fail_after(60):
            while True:
                line = await anyio.to_thread.run_sync(process.stdout.readline)
                assert line, "worker exited early:\n" + "".join(lines)
                lines.append(line.decode())
                if '"job_started"' in lines[-1] and "big" in lines[-1]:
                    break
        process.send_signal(signal.SIGTERM)
        rest = await anyio.to_thread.run_sync(process.communicate, None)
        log = "".join(lines) + rest[0].decode()
        assert process.returncode == 0, log
        assert '"in_flight": 1' in log and '"draining"' in log
        [emf] = [json.loads(line) for line in log.splitlines() if line.startswith('{"_aws"')]
        assert emf["JobsSucceeded"] == 1 and emf["JobsFailed"] == 0
        # end to end includes detection (the event time has whole-second resolution in moto)
        assert emf["DetectTime"] > 0 and emf["EndToEndLatency"] >= emf["DetectTime"] - 1000
        assert emf["Backend"] == "local"
        document = await wait_for_object(aws.s3, stack.results_bucket, "results/big.json", within=5)
        assert document["status"] == "succeeded"
        assert await queue_depth(aws.sqs, stack.queue_url) == 0
    finally:
        if process.poll() is None:
            process.kill()
