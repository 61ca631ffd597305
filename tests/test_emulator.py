"""The SageMaker async front-end emulator: botocore's contract, notifications, concurrency, faults.

A tiny in-test model server stands in for the container so each test controls
what the model answers and when; the emulator itself talks to moto's server.
"""

import json
import uuid
from contextlib import asynccontextmanager

import aioboto3
import anyio
import pytest
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import ClientError

from locdetect_worker.local_stack import LOCAL_REGION
from locdetect_worker.sagemaker_emulator import sagemaker_stack


class FakeModel:
    """Answers /invocations with ``status``/``body``; holds requests until ``release`` is set."""

    def __init__(self, status=200, body=b'{"ok": true}'):
        self.status, self.body = status, body
        self.current = self.peak = self.calls = 0
        self.release = anyio.Event()
        self.release.set()
        self.content_types = []

    async def invocations(self, request):
        self.calls += 1
        self.current += 1
        self.peak = max(self.peak, self.current)
        self.content_types.append(request.content_type)
        try:
            await request.read()
            await self.release.wait()
            return web.Response(body=self.body, status=self.status, content_type="application/json")
        finally:
            self.current -= 1


@asynccontextmanager
async def emulated(aws, stack, model, **kwargs):
    app = web.Application()
    app.router.add_post("/invocations", model.invocations)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with sagemaker_stack(
            aws.s3,
            aws.sqs,
            aws.sns,
            bucket=stack.results_bucket,
            endpoint_name=f"emu-{uuid.uuid4().hex[:8]}",
            container_url=f"http://{host}:{port}",
            region=LOCAL_REGION,
            **kwargs,
        ) as local:
            session = aioboto3.Session(region_name=LOCAL_REGION)
            config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
            async with session.client(
                "sagemaker-runtime", endpoint_url=local.endpoint_url, config=config
            ) as runtime:
                yield local, runtime
    finally:
        await runner.cleanup()


async def put_input(aws, stack, data=b"\x89PNG fake"):
    key = f"blueprints/{uuid.uuid4().hex}.png"
    await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=data)
    return f"s3://{stack.blueprints_bucket}/{key}"


async def receive(aws, queue_url, count, within=15):
    """``count`` notification bodies (SNS unwrapped) from the outcomes queue, test ones skipped."""
    found = []
    with anyio.fail_after(within):
        while len(found) < count:
            response = await aws.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in response.get("Messages", []):
                envelope = json.loads(message["Body"])
                assert envelope["Type"] == "Notification"
                body = json.loads(envelope["Message"])
                if body.get("eventName") != "TestNotification":
                    found.append(body)
                await aws.sqs.delete_message(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
    return found


async def read(aws, uri):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    response = await aws.s3.get_object(Bucket=bucket, Key=key)
    async with response["Body"] as body:
        return await body.read()


async def test_botocore_request_and_success_notification(aws, stack):
    model = FakeModel(body=b'{"rooms": []}')
    async with emulated(aws, stack, model) as (local, runtime):
        input_location = await put_input(aws, stack)
        response = await runtime.invoke_endpoint_async(
            EndpointName=local.endpoint_name,
            InputLocation=input_location,
            InferenceId="job-1",
            ContentType="image/png",
            Accept="application/json",
            RequestTTLSeconds=600,
            InvocationTimeoutSeconds=60,
        )
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert response["InferenceId"] == "job-1"
        assert response["OutputLocation"].startswith(f"s3://{stack.results_bucket}/sagemaker/")
        assert response["OutputLocation"].endswith(".out")
        assert response["FailureLocation"].endswith("-error.out")
        [note] = await receive(aws, local.outcomes_queue_url, 1)
        assert note["invocationStatus"] == "Completed"
        assert note["inferenceId"] == "job-1"
        assert note["eventSource"] == "aws:sagemaker"
        assert note["eventName"] == "InferenceResult"
        assert note["eventVersion"] == "1.0"
        assert note["awsRegion"] == LOCAL_REGION
        assert note["receivedTime"] <= note["eventTime"]
        assert note["requestParameters"] == {
            "accept": "application/json",
            "contentType": "image/png",
            "endpointName": local.endpoint_name,
            "inputLocation": input_location,
        }
        assert note["responseParameters"]["outputLocation"] == response["OutputLocation"]
        assert "failureReason" not in note
        assert await read(aws, response["OutputLocation"]) == b'{"rooms": []}'
        assert model.content_types == ["image/png"]


async def test_model_error_gives_failure_object_and_error_notification(aws, stack):
    model = FakeModel(status=400, body=b'{"error": "bad plan"}')
    async with emulated(aws, stack, model) as (local, runtime):
        response = await runtime.invoke_endpoint_async(
            EndpointName=local.endpoint_name, InputLocation=await put_input(aws, stack)
        )
        assert uuid.UUID(response["InferenceId"])  # generated when the caller gives none
        [note] = await receive(aws, local.outcomes_queue_url, 1)
        assert note["invocationStatus"] == "Failed"
        assert "responseParameters" not in note
        assert note["failureReason"].startswith("ClientError: Received client error (400)")
        assert "bad plan" in note["failureReason"]
        assert await read(aws, response["FailureLocation"]) == b'{"error": "bad plan"}'


async def test_missing_input_fails_without_calling_the_model(aws, stack):
    model = FakeModel()
    async with emulated(aws, stack, model) as (local, runtime):
        await runtime.invoke_endpoint_async(
            EndpointName=local.endpoint_name,
            InputLocation=f"s3://{stack.blueprints_bucket}/blueprints/ghost.png",
        )
        [note] = await receive(aws, local.outcomes_queue_url, 1)
        assert note["invocationStatus"] == "Failed"
        assert model.calls == 0


async def test_errors_parse_as_botocore_client_errors(aws, stack):
    async with emulated(aws, stack, FakeModel()) as (local, runtime):
        with pytest.raises(ClientError) as caught:
            await runtime.invoke_endpoint_async(
                EndpointName="no-such-endpoint", InputLocation=await put_input(aws, stack)
            )
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert "no-such-endpoint" in caught.value.response["Error"]["Message"]
        for refusal, status in [
            ("ThrottlingException", 400),
            ("ServiceUnavailable", 503),
            ("InternalFailure", 500),
        ]:
            local.emulator.faults.refuse_with = refusal
            local.emulator.faults.refuse_invocations = 1
            with pytest.raises(ClientError) as caught:
                await runtime.invoke_endpoint_async(
                    EndpointName=local.endpoint_name, InputLocation=await put_input(aws, stack)
                )
            assert caught.value.response["Error"]["Code"] == refusal
            assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
        with pytest.raises(ClientError) as caught:
            await runtime.invoke_endpoint_async(
                EndpointName=local.endpoint_name, InputLocation="/tmp/plan.png"
            )
        assert caught.value.response["Error"]["Code"] == "ValidationError"
        assert local.emulator.stats["accepted"] == 0


async def test_max_concurrent_invocations_is_honoured(aws, stack):
    model = FakeModel()
    model.release = anyio.Event()
    async with emulated(aws, stack, model, max_concurrent_invocations=2) as (local, runtime):
        for _ in range(6):
            await runtime.invoke_endpoint_async(
                EndpointName=local.endpoint_name, InputLocation=await put_input(aws, stack)
            )
        with anyio.fail_after(10):
            while model.current < 2:
                await anyio.sleep(0.02)
        model.release.set()
        await local.emulator.wait_idle()
        assert model.calls == 6
        assert model.peak == 2


async def test_dropped_and_duplicated_notifications(aws, stack):
    async with emulated(aws, stack, FakeModel()) as (local, runtime):
        local.emulator.faults.drop_notifications = 1
        local.emulator.faults.duplicate_notifications = 1
        for name in ("dropped", "doubled", "single"):
            await runtime.invoke_endpoint_async(
                EndpointName=local.endpoint_name,
                InputLocation=await put_input(aws, stack),
                InferenceId=name,
            )
            await local.emulator.wait_idle()
        notes = await receive(aws, local.outcomes_queue_url, 3)
        assert sorted(n["inferenceId"] for n in notes) == ["doubled", "doubled", "single"]
        assert local.emulator.stats["dropped"] == 1
