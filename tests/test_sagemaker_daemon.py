"""The real daemon with the SageMaker backend: S3 event -> endpoint -> result.

Needs the worker's ``sagemaker-runtime`` client to reach the emulator while S3
and SQS stay on moto, i.e. the ``sagemaker_runtime_url`` setting.
"""

import uuid

import anyio
import pytest

from locdetect_worker.config import Settings
from locdetect_worker.local_stack import LOCAL_REGION
from locdetect_worker.sagemaker_emulator import sagemaker_stack
from tests.conftest import queue_depth, simple_plan_png, wait_for_object, worker_settings
from tests.hostile.processes import WorkerProcess
from tests.sagemaker_fixtures import container_url_fixture  # noqa: F401

pytestmark = pytest.mark.skipif(
    "sagemaker_runtime_url" not in Settings.model_fields,
    reason="needs Settings.sagemaker_runtime_url used by aws.open_clients",
)


def endpoint_settings(stack, local):
    return worker_settings(
        stack,
        backend="sagemaker",
        sagemaker_endpoint=local.endpoint_name,
        outcomes_queue_url=local.outcomes_queue_url,
        sagemaker_runtime_url=local.endpoint_url,
        sagemaker_request_ttl=60,
        sagemaker_invocation_timeout=30,
        sagemaker_sweep_interval=0.5,
    )


def endpoint(aws, stack, container_url):
    return sagemaker_stack(
        aws.s3,
        aws.sqs,
        aws.sns,
        bucket=stack.results_bucket,
        endpoint_name=f"d-{uuid.uuid4().hex[:8]}",
        container_url=container_url,
        region=LOCAL_REGION,
    )


async def settled(aws, stack, local):
    """Nothing left anywhere: events, outcomes, pending markers."""
    with anyio.fail_after(30):
        while (
            await queue_depth(aws.sqs, stack.queue_url)
            or await queue_depth(aws.sqs, local.outcomes_queue_url)
            or (await aws.s3.list_objects_v2(Bucket=stack.results_bucket, Prefix="pending/")).get(
                "KeyCount"
            )
        ):
            await anyio.sleep(0.1)


async def test_daemon_hands_off_and_finishes_every_blueprint(
    aws, stack, container_url, start_worker
):
    async with endpoint(aws, stack, container_url) as local:
        worker = await start_worker(endpoint_settings(stack, local))
        plans = {"site a/level 1": simple_plan_png(), "level 2": simple_plan_png(3)}
        plans["broken"] = simple_plan_png()[:1500]
        for job_id, data in plans.items():
            await aws.s3.put_object(
                Bucket=stack.blueprints_bucket, Key=f"blueprints/{job_id}.png", Body=data
            )
        for job_id in plans:
            document = await wait_for_object(aws.s3, stack.results_bucket, f"results/{job_id}.json")
            assert document["backend"] == "sagemaker"
            assert document["source"]["key"] == f"blueprints/{job_id}.png"
            if job_id == "broken":
                assert document["error"]["code"] == "endpoint_failed"
            else:
                assert document["status"] == "succeeded"
                assert len(document["rooms"]) == (4 if job_id == "site a/level 1" else 6)
        await settled(aws, stack, local)
        assert local.emulator.stats["accepted"] == 3
        await worker.stop()


@pytest.mark.slow
async def test_worker_killed_after_the_hand_off_another_one_finishes(aws, stack, container_url):
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    async with endpoint(aws, stack, container_url) as local:
        settings = endpoint_settings(stack, local)
        local.emulator.pause()  # the endpoint is scaling up from zero
        first = WorkerProcess(settings)
        try:
            await aws.s3.put_object(
                Bucket=stack.blueprints_bucket, Key="blueprints/orphan.png", Body=simple_plan_png()
            )
            await first.wait_for_log("sagemaker_submitted", job_id="orphan")
            with anyio.fail_after(30):
                while await queue_depth(aws.sqs, stack.queue_url):  # the event is gone
                    await anyio.sleep(0.1)
            first.kill()
        finally:
            first.close()
        local.emulator.resume()
        second = WorkerProcess(settings)
        try:
            document = await wait_for_object(aws.s3, stack.results_bucket, "results/orphan.json")
            assert document["status"] == "succeeded"
            assert len(document["rooms"]) == 4
            await settled(aws, stack, local)
            versions = await aws.s3.list_object_versions(
                Bucket=stack.results_bucket, Prefix="results/orphan.json"
            )
            assert len(versions["Versions"]) == 1
            assert local.emulator.stats["accepted"] == 1
        finally:
            second.close()
