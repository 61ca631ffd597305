"""The SageMaker backend against the emulator, the real container process and moto's server.

Each test hands jobs over with ``process`` (what the consumer does) while the
backend's ``serve()`` runs the outcome listener and the sweeper; assertions are
on what lands in S3 (results, overlays, markers) and what stays in SQS.
"""

import json

import anyio
import pytest
from botocore.exceptions import ClientError

from backends.sagemaker_records import inference_id_for
from locdetect_worker.analysis import analyse_blueprint
from locdetect_worker.decode import DecodeLimits
from locdetect_worker.errors import JobError
from tests.conftest import simple_plan_png
from tests.sagemaker_fixtures import container_url_fixture, sagemaker_env, wait_until  # noqa: F401


async def _overlay(env, job_id):
    response = await env.aws.s3.get_object(
        Bucket=env.stack.results_bucket, Key=f"results/{job_id}.overlay.png"
    )
    async with response["Body"] as body:
        return await body.read()


async def test_success_path_writes_the_local_result_with_overlay(aws, stack, container_url):
    plan = simple_plan_png()
    async with sagemaker_env(aws, stack, container_url) as env:
        job = await env.upload("site a/level 1.png", plan)
        assert await env.backend.process(job) is None
        document = await env.result("site a/level 1")
        assert document["status"] == "succeeded"
        assert document["job_id"] == "site a/level 1"
        assert document["backend"] == "sagemaker"
        assert document["source"]["key"] == "blueprints/site a/level 1.png"
        assert document["source"]["etag"] == job.source.etag
        local = analyse_blueprint(plan, DecodeLimits(), overlay=False)
        assert [r["polygon"] for r in document["rooms"]] == [
            [list(p) for p in room.polygon] for room in local.rooms
        ]
        assert len(document["rooms"]) == 4
        assert document["image"] == {"width": 1200, "height": 900, "pages": 1}
        assert document["timings_ms"]["total"] > 0
        assert (await _overlay(env, "site a/level 1")).startswith(b"\x89PNG")
        await wait_until(lambda: _empty(env))
        assert env.emulator.stats["requests"] == 1


async def _empty(env):
    return not await env.pending() and not await env.outcomes_left()


async def test_process_writes_a_marker_with_the_locations(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url, serve=False) as env:
        job = await env.upload("m.png", simple_plan_png())
        await env.backend.process(job)
        [key] = await env.pending()
        response = await aws.s3.get_object(Bucket=stack.results_bucket, Key=key)
        async with response["Body"] as body:
            marker = json.loads(await body.read())
        assert key == f"pending/{marker['inference_id']}.json"
        assert marker["job_id"] == "m"
        assert marker["attempt"] == 1
        assert marker["content_type"] == "image/png"
        assert marker["input_location"] == f"s3://{stack.blueprints_bucket}/blueprints/m.png"
        assert marker["output_location"].endswith(".out")
        assert marker["failure_location"].endswith("-error.out")
        assert marker["deadline"] > marker["submitted_at"]
        # The same object version is the same inference: a redelivered event is not re-sent.
        await env.backend.process(job)
        assert env.emulator.stats["accepted"] == 1


async def test_unsupported_extension_is_a_permanent_job_error(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url, serve=False) as env:
        job = await env.upload("notes.txt", b"hello")
        with pytest.raises(JobError) as caught:
            await env.backend.process(job)
        assert caught.value.code == "unsupported_format"
        assert env.emulator.stats["requests"] == 0


async def test_corrupt_file_fails_with_the_containers_reason(aws, stack, container_url):
    corrupt = simple_plan_png()[:2000]
    async with sagemaker_env(aws, stack, container_url) as env:
        job = await env.upload("broken.png", corrupt)
        await env.backend.process(job)
        document = await env.result("broken")
        assert document["status"] == "failed"
        assert document["error"]["code"] == "endpoint_failed"
        assert document["error"]["message"].startswith("decode_failed:")
        assert document["rooms"] == []
        assert document["source"]["key"] == "blueprints/broken.png"
        await wait_until(lambda: _empty(env))


async def test_lost_notification_is_resolved_by_the_sweeper(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url, serve=False, deadline=0) as env:
        env.emulator.faults.drop_notifications = 1
        job = await env.upload("quiet.png", simple_plan_png())
        await env.backend.process(job)
        await env.emulator.wait_idle()  # answered, but nobody was told
        assert env.emulator.stats["dropped"] == 1
        await env.backend.sweep()
        document = await env.result("quiet", within=1)
        assert document["status"] == "succeeded"
        assert len(document["rooms"]) == 4
        assert env.emulator.stats["requests"] == 1  # resolved from the output, not re-invoked
        assert await env.pending() == []


async def test_lost_invocation_is_invoked_again(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url, serve=False, deadline=0) as env:
        env.emulator.faults.lose_invocations = 1
        job = await env.upload("again.png", simple_plan_png())
        await env.backend.process(job)
        await env.emulator.wait_idle()
        await env.backend.sweep()  # nothing came back: invoke again
        assert env.emulator.stats["accepted"] == 2
        [key] = await env.pending()
        response = await aws.s3.get_object(Bucket=stack.results_bucket, Key=key)
        async with response["Body"] as body:
            assert json.loads(await body.read())["attempt"] == 2
        await env.emulator.wait_idle()
        await env.backend.sweep()
        document = await env.result("again", within=1)
        assert document["status"] == "succeeded"
        assert env.emulator.stats["lost"] == 1
        assert await env.pending() == []


async def test_endpoint_that_never_answers_times_out(aws, stack, container_url):
    async with sagemaker_env(
        aws, stack, container_url, deadline=0.2, sagemaker_max_attempts=2
    ) as env:
        env.emulator.faults.lose_invocations = 2
        job = await env.upload("void.png", simple_plan_png())
        await env.backend.process(job)
        document = await env.result("void")
        assert document["status"] == "failed"
        assert document["error"]["code"] == "endpoint_timeout"
        assert "2 attempt(s)" in document["error"]["message"]
        assert env.emulator.stats["accepted"] == 2
        await wait_until(lambda: _empty(env))


@pytest.mark.parametrize("refusal", ["ThrottlingException", "ServiceUnavailable"])
async def test_refusing_endpoint_loses_nothing(aws, stack, container_url, refusal):
    async with sagemaker_env(aws, stack, container_url) as env:
        env.emulator.faults.refuse_with = refusal
        env.emulator.faults.refuse_invocations = 4
        jobs = [await env.upload(f"busy-{i}.png", simple_plan_png()) for i in range(3)]
        for job in jobs:
            await env.backend.process(job)
        for job in jobs:
            assert (await env.result(job.job_id))["status"] == "succeeded"
        assert env.emulator.stats["refused"] == 4
        assert env.emulator.stats["accepted"] == 3


async def test_refusal_beyond_the_retries_leaves_the_job_to_be_redelivered(
    aws, stack, container_url
):
    async with sagemaker_env(aws, stack, container_url) as env:
        env.emulator.faults.refuse_invocations = env.backend.submit_attempts
        job = await env.upload("later.png", simple_plan_png())
        with pytest.raises(ClientError) as caught:  # transient: the consumer keeps the message
            await env.backend.process(job)
        assert caught.value.response["Error"]["Code"] == "ThrottlingException"
        assert await env.pending() == []
        await env.backend.process(job)  # the redelivered event
        assert (await env.result("later"))["status"] == "succeeded"


async def test_duplicated_notifications_give_one_result(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url) as env:
        env.emulator.faults.duplicate_notifications = 2
        ok = await env.upload("twice.png", simple_plan_png())
        bad = await env.upload("twice-bad.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
        await env.backend.process(ok)
        await env.backend.process(bad)
        assert (await env.result("twice"))["status"] == "succeeded"
        assert (await env.result("twice-bad"))["status"] == "failed"
        await wait_until(lambda: _empty(env))
        assert env.emulator.stats["notified"] >= 4
        assert await env.result_versions("twice") == 1
        assert await env.result_versions("twice-bad") == 1


async def test_late_failure_after_success_is_ignored(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url) as env:
        job = await env.upload("late.png", simple_plan_png())
        await env.backend.process(job)
        assert (await env.result("late"))["status"] == "succeeded"
        await wait_until(lambda: _empty(env))
        inference_id = inference_id_for(job.source)
        stale = {
            "invocationStatus": "Failed",
            "inferenceId": inference_id,
            "failureReason": "an older attempt failed",
            "requestParameters": {"inputLocation": job_input(job)},
            "eventName": "InferenceResult",
        }
        await aws.sqs.send_message(QueueUrl=env.local.outcomes_queue_url,
                                   MessageBody=json.dumps(stale))
        await wait_until(lambda: _empty(env))
        assert (await env.result("late"))["status"] == "succeeded"
        assert await env.result_versions("late") == 1


def job_input(job):
    return f"s3://{job.source.bucket}/{job.source.key}"


async def test_notification_that_beats_its_marker_still_resolves(aws, stack, container_url):
    async with sagemaker_env(aws, stack, container_url, serve=False) as env:
        job = await env.upload("fast.png", simple_plan_png())
        await env.backend.process(job)
        await env.emulator.wait_idle()
        [key] = await env.pending()
        await aws.s3.delete_object(Bucket=stack.results_bucket, Key=key)  # not written yet
        async with anyio.create_task_group() as group:
            group.start_soon(env.backend.serve)
            document = await env.result("fast")
            group.cancel_scope.cancel()
        assert document["status"] == "succeeded"
        assert document["source"]["etag"] == job.source.etag
        assert len(document["rooms"]) == 4
