"""An emulator of SageMaker's asynchronous inference front end, for tests and local mode.

moto accepts ``InvokeEndpointAsync`` but never calls a model or notifies anyone,
so this small aiohttp server plays the managed part of an async endpoint: it
speaks the real REST contract (botocore's ``sagemaker-runtime`` client reaches it
through ``endpoint_url``), queues each invocation, reads the input from S3,
POSTs it to our container's ``/invocations`` with at most
``MaxConcurrentInvocationsPerInstance`` in flight, writes the output or failure
object and publishes SageMaker's notification JSON to the success or error SNS
topic. :class:`Faults` lets a test make it refuse invocations or drop and
duplicate notifications. :func:`local_sagemaker` starts the container process
and the emulator together for ``locdetect-worker local --backend sagemaker``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import aioboto3
import aiohttp
import anyio
import structlog
from aiohttp import web
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from locdetect_worker.local_stack import free_port

if TYPE_CHECKING:
    from locdetect_worker.config import Settings
    from locdetect_worker.local_stack import LocalStack

log = structlog.get_logger("locdetect.sagemaker_emulator")

REFUSALS: dict[str, int] = {
    "ThrottlingException": 400,
    "ServiceUnavailable": 503,
    "InternalFailure": 500,
}
DEFAULT_TTL = 21600
DEFAULT_INVOCATION_TIMEOUT = 900
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AsyncEndpoint:
    """What an endpoint config's ``AsyncInferenceConfig`` says, plus where the model listens."""

    name: str
    container_url: str
    output_path: str
    failure_path: str
    success_topic_arn: str | None = None
    error_topic_arn: str | None = None
    max_concurrent_invocations: int = 4


@dataclass
class Faults:
    """Misbehaviour a test can switch on; each counter is consumed as it fires.

    ``refuse_invocations`` answers InvokeEndpointAsync with ``refuse_with``;
    ``lose_invocations`` accepts requests and never answers them (no output, no
    notification); the notification counters drop or double what is published.
    """

    refuse_invocations: int = 0
    refuse_with: Literal["ThrottlingException", "ServiceUnavailable", "InternalFailure"] = (
        "ThrottlingException"
    )
    lose_invocations: int = 0
    drop_notifications: int = 0
    duplicate_notifications: int = 0


@dataclass
class _Invocation:
    endpoint: AsyncEndpoint
    inference_id: str
    input_location: str
    content_type: str
    accept: str
    custom_attributes: str | None
    output_location: str
    failure_location: str
    received: float
    ttl: int
    timeout: int


@dataclass
class SageMakerEmulator:
    """The async front end of one or more endpoints; use as an async context manager."""

    endpoints: list[AsyncEndpoint]
    s3: Any
    sns: Any
    region: str = "us-east-1"
    host: str = "127.0.0.1"
    port: int = 0
    faults: Faults = field(default_factory=Faults)
    stats: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._by_name = {endpoint.name: endpoint for endpoint in self.endpoints}
        self._queues: dict[str, MemoryObjectSendStream[_Invocation]] = {}
        self._stack = AsyncExitStack()
        self._in_flight = 0
        self._idle = anyio.Event()
        self._idle.set()
        self._running = anyio.Event()
        self._running.set()
        self.url = ""

    async def __aenter__(self) -> SageMakerEmulator:
        await self._stack.__aenter__()
        try:
            self._http = await self._stack.enter_async_context(aiohttp.ClientSession())
            group: TaskGroup = await self._stack.enter_async_context(anyio.create_task_group())
            self._stack.callback(group.cancel_scope.cancel)
            for endpoint in self.endpoints:
                send, receive = anyio.create_memory_object_stream[_Invocation](math.inf)
                self._queues[endpoint.name] = send
                for _ in range(endpoint.max_concurrent_invocations):
                    group.start_soon(self._work, receive.clone())
                receive.close()
            app = web.Application()
            app.router.add_post("/endpoints/{name}/async-invocations", self._invoke)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            self._stack.push_async_callback(runner.cleanup)
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
        except BaseException:
            await self._stack.__aexit__(*sys.exc_info())
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._stack.__aexit__(*exc_info)

    async def send_test_notification(self) -> None:
        """What SageMaker publishes to the topics when an endpoint is created or updated."""
        for endpoint in self.endpoints:
            for topic in {endpoint.success_topic_arn, endpoint.error_topic_arn} - {None}:
                await self.sns.publish(
                    TopicArn=topic, Message=json.dumps({"eventName": "TestNotification"})
                )

    def pause(self) -> None:
        """Keep accepting invocations but start none (a model stuck or scaling up from zero)."""
        if self._running.is_set():
            self._running = anyio.Event()

    def resume(self) -> None:
        self._running.set()

    async def wait_idle(self) -> None:
        """Return once every accepted invocation has been answered and notified."""
        while not self._idle.is_set():
            await self._idle.wait()

    # -- the REST front end -------------------------------------------------------------

    async def _invoke(self, request: web.Request) -> web.Response:
        self.stats["requests"] += 1
        if self.faults.refuse_invocations > 0:
            self.faults.refuse_invocations -= 1
            self.stats["refused"] += 1
            code = self.faults.refuse_with
            return _error(code, "the endpoint cannot take this request now", REFUSALS[code])
        endpoint = self._by_name.get(request.match_info["name"])
        if endpoint is None:
            name = request.match_info["name"]
            return _error("ValidationError", f"Endpoint {name} not found.", 400)
        headers = request.headers
        input_location = headers.get("X-Amzn-SageMaker-InputLocation", "")
        if not input_location.startswith("s3://") or "/" not in input_location[5:]:
            message = f"InputLocation {input_location!r} is not an S3 URI"
            return _error("ValidationError", message, 400)
        try:
            ttl = int(headers.get("X-Amzn-SageMaker-RequestTTLSeconds", DEFAULT_TTL))
            timeout = int(
                headers.get("X-Amzn-SageMaker-InvocationTimeoutSeconds", DEFAULT_INVOCATION_TIMEOUT)
            )
        except ValueError as exc:
            return _error("ValidationError", str(exc), 400)
        if not 60 <= ttl <= 21600 or not 1 <= timeout <= 3600:
            message = "RequestTTLSeconds or InvocationTimeoutSeconds is out of range"
            return _error("ValidationError", message, 400)
        inference_id = headers.get("X-Amzn-SageMaker-Inference-Id") or str(uuid.uuid4())
        if len(inference_id) > 64:
            return _error("ValidationError", "InferenceId is longer than 64 characters", 400)
        object_id = str(uuid.uuid4())
        invocation = _Invocation(
            endpoint=endpoint,
            inference_id=inference_id,
            input_location=input_location,
            content_type=headers.get("X-Amzn-SageMaker-Content-Type", "application/octet-stream"),
            accept=headers.get("X-Amzn-SageMaker-Accept", "application/json"),
            custom_attributes=headers.get("X-Amzn-SageMaker-Custom-Attributes"),
            output_location=f"{endpoint.output_path.rstrip('/')}/{object_id}.out",
            failure_location=f"{endpoint.failure_path.rstrip('/')}/{object_id}-error.out",
            received=time.time(),
            ttl=ttl,
            timeout=timeout,
        )
        self._begin()
        await self._queues[endpoint.name].send(invocation)
        self.stats["accepted"] += 1
        return web.json_response(
            {
                "InferenceId": invocation.inference_id,
                "OutputLocation": invocation.output_location,
                "FailureLocation": invocation.failure_location,
            },
            status=202,
            headers={
                "X-Amzn-SageMaker-OutputLocation": invocation.output_location,
                "X-Amzn-SageMaker-FailureLocation": invocation.failure_location,
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )

    # -- the managed queue and the model ---------------------------------------------

    async def _work(self, queue: MemoryObjectReceiveStream[_Invocation]) -> None:
        async with queue:
            async for invocation in queue:
                await self._running.wait()
                try:
                    await self._run(invocation)
                except Exception:  # a broken dependency (S3, SNS) must not stop the endpoint
                    log.exception("emulator_crashed", inference_id=invocation.inference_id)
                finally:
                    self._end()

    async def _run(self, invocation: _Invocation) -> None:
        if self.faults.lose_invocations > 0:  # as if the instance died mid-inference
            self.faults.lose_invocations -= 1
            self.stats["lost"] += 1
            return
        if time.time() > invocation.received + invocation.ttl:
            await self._fail(invocation, "Request expired before it was processed.", None)
            return
        try:
            data = await self._read_input(invocation.input_location)
        except Exception as exc:
            await self._fail(
                invocation, f"ClientError: Failed to download data. {type(exc).__name__}", None
            )
            return
        headers = {"Content-Type": invocation.content_type, "Accept": invocation.accept}
        if invocation.custom_attributes:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = invocation.custom_attributes
        try:
            async with self._http.post(
                f"{invocation.endpoint.container_url}/invocations",
                data=data,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=invocation.timeout),
            ) as response:
                body = await response.read()
                status = response.status
                response_type = response.content_type
        except TimeoutError:
            await self._fail(invocation, "Inference request timed out.", None)
            return
        except aiohttp.ClientError as exc:
            await self._fail(invocation, f"ServerError: the model did not answer: {exc}", None)
            return
        if status >= 300:
            kind = "client" if status < 500 else "server"
            text = body.decode("utf-8", "replace")
            reason = f"ClientError: Received {kind} error ({status}) from primary with message "
            reason += f'"{text}"'
            await self._fail(invocation, reason, body)
            return
        bucket, key = _split_s3(invocation.output_location)
        await self.s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=response_type)
        self.stats["completed"] += 1
        await self._notify(
            invocation.endpoint.success_topic_arn,
            self._notification(invocation, "Completed", response_type=response_type),
        )

    async def _read_input(self, location: str) -> bytes:
        bucket, key = _split_s3(location)
        response = await self.s3.get_object(Bucket=bucket, Key=key)
        async with response["Body"] as body:
            return await body.read()

    async def _fail(self, invocation: _Invocation, reason: str, body: bytes | None) -> None:
        bucket, key = _split_s3(invocation.failure_location)
        await self.s3.put_object(Bucket=bucket, Key=key, Body=body or reason.encode())
        self.stats["failed"] += 1
        await self._notify(
            invocation.endpoint.error_topic_arn,
            self._notification(invocation, "Failed", failure_reason=reason),
        )

    def _notification(
        self,
        invocation: _Invocation,
        status: str,
        response_type: str | None = None,
        failure_reason: str | None = None,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "awsRegion": self.region,
            "eventTime": _iso(time.time()),
            "receivedTime": _iso(invocation.received),
            "invocationStatus": status,
            "requestParameters": {
                "accept": invocation.accept,
                "contentType": invocation.content_type,
                "endpointName": invocation.endpoint.name,
                "inputLocation": invocation.input_location,
            },
        }
        if status == "Completed":
            message["responseParameters"] = {
                "contentType": response_type,
                "outputLocation": invocation.output_location,
            }
        else:
            message["failureReason"] = failure_reason
        message.update(
            inferenceId=invocation.inference_id,
            eventVersion="1.0",
            eventSource="aws:sagemaker",
            eventName="InferenceResult",
        )
        return message

    async def _notify(self, topic_arn: str | None, message: dict[str, Any]) -> None:
        if topic_arn is None:
            return
        if self.faults.drop_notifications > 0:
            self.faults.drop_notifications -= 1
            self.stats["dropped"] += 1
            return
        copies = 1
        if self.faults.duplicate_notifications > 0:
            self.faults.duplicate_notifications -= 1
            copies = 2
        for _ in range(copies):
            await self.sns.publish(TopicArn=topic_arn, Message=json.dumps(message))
            self.stats["notified"] += 1

    def _begin(self) -> None:
        self._in_flight += 1
        if self._idle.is_set():
            self._idle = anyio.Event()

    def _end(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()


def _error(code: str, message: str, status: int) -> web.Response:
    """An error in the rest-json shape botocore parses into ``ClientError``."""
    return web.json_response(
        {"__type": code, "message": message}, status=status, headers={"X-Amzn-ErrorType": code}
    )


def _split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- the container process and the whole local stack -----------------------------------


def container_command(port: int, model_dir: Path) -> list[str]:
    """The container's ``serve`` entry point on 127.0.0.1:``port``, as a child process command."""
    return [
        sys.executable,
        "-m",
        "container.server",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model-dir",
        str(model_dir),
    ]


@asynccontextmanager
async def inference_container(
    port: int | None = None, *, workers: int | None = None, ready_timeout: float = 60.0
) -> AsyncIterator[str]:
    """Run ``python -m container.server serve`` as a child process; yield its URL once /ping is 200.

    On exit the process gets SIGTERM (it drains), then SIGKILL if it outlives the grace.
    """
    if not (REPO_ROOT / "container" / "server.py").is_file():
        raise RuntimeError(f"the inference container's code is not in {REPO_ROOT}")
    port = port or free_port()
    command = container_command(port, REPO_ROOT / "container" / "no-model-dir")
    env = {**os.environ, "LOCDETECT_WORKERS": str(workers)} if workers else None
    process = await anyio.open_process(
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=None
    )
    url = f"http://127.0.0.1:{port}"
    try:
        with anyio.fail_after(ready_timeout):
            await _wait_ready(url, process)
        yield url
    finally:
        with anyio.CancelScope(shield=True):
            if process.returncode is None:
                process.terminate()
                with anyio.move_on_after(30):
                    await process.wait()
            if process.returncode is None:
                process.kill()
                await process.wait()
            await process.aclose()


async def _wait_ready(url: str, process: Any) -> None:
    """Poll /ping the way SageMaker does; fail fast if the process dies."""
    async with aiohttp.ClientSession() as session:
        while True:
            if process.returncode is not None:
                raise RuntimeError(f"the inference container exited with {process.returncode}")
            try:
                async with session.get(f"{url}/ping") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await anyio.sleep(0.1)


@dataclass(frozen=True)
class LocalSageMaker:
    """What a worker needs to use the local endpoint (see :func:`sagemaker_stack`)."""

    endpoint_url: str
    endpoint_name: str
    outcomes_queue_url: str
    container_url: str
    emulator: SageMakerEmulator


@asynccontextmanager
async def sagemaker_stack(
    s3: Any,
    sqs: Any,
    sns: Any,
    *,
    bucket: str,
    region: str = "us-east-1",
    endpoint_name: str = "locdetect-local",
    output_prefix: str = "sagemaker/",
    max_concurrent_invocations: int = 4,
    container_url: str | None = None,
    container_workers: int | None = None,
) -> AsyncIterator[LocalSageMaker]:
    """The container process, SNS topics, the outcomes queue and the emulator, wired together.

    The clients talk to the AWS emulator (moto) that holds ``bucket``, where
    outputs and failures land under ``output_prefix``. A worker's
    ``sagemaker-runtime`` client must use the yielded ``endpoint_url``. Pass
    ``container_url`` to reuse a running container instead of starting one.
    """
    async with AsyncExitStack() as stack:
        if container_url is None:
            container_url = await stack.enter_async_context(
                inference_container(workers=container_workers)
            )
        queue_url = (await sqs.create_queue(QueueName=f"{endpoint_name}-outcomes"))["QueueUrl"]
        queue_arn = (
            await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        )["Attributes"]["QueueArn"]
        topics = {}
        for kind in ("success", "error"):
            arn = (await sns.create_topic(Name=f"{endpoint_name}-{kind}"))["TopicArn"]
            await sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn)
            topics[kind] = arn
        endpoint = AsyncEndpoint(
            name=endpoint_name,
            container_url=container_url,
            output_path=f"s3://{bucket}/{output_prefix}outputs",
            failure_path=f"s3://{bucket}/{output_prefix}failures",
            success_topic_arn=topics["success"],
            error_topic_arn=topics["error"],
            max_concurrent_invocations=max_concurrent_invocations,
        )
        emulator = await stack.enter_async_context(
            SageMakerEmulator([endpoint], s3=s3, sns=sns, region=region)
        )
        await emulator.send_test_notification()
        yield LocalSageMaker(
            endpoint_url=emulator.url,
            endpoint_name=endpoint_name,
            outcomes_queue_url=queue_url,
            container_url=container_url,
            emulator=emulator,
        )


@asynccontextmanager
async def local_sagemaker(
    aws: LocalStack, s3: Any, sqs: Any, settings: Settings
) -> AsyncIterator[dict[str, Any]]:
    """For ``locdetect-worker local --backend sagemaker``: the settings updates for the worker.

    ``sagemaker_runtime_url`` is where the worker's ``sagemaker-runtime`` client must point
    (the emulator), while S3 and SQS stay on ``aws.endpoint_url``.
    """
    session = aioboto3.Session(region_name=settings.region or "us-east-1")
    async with session.client("sns", endpoint_url=aws.endpoint_url) as sns:
        async with sagemaker_stack(
            s3, sqs, sns, bucket=aws.results_bucket, region=settings.region or "us-east-1"
        ) as local:
            yield {
                "sagemaker_endpoint": local.endpoint_name,
                "outcomes_queue_url": local.outcomes_queue_url,
                "sagemaker_runtime_url": local.endpoint_url,
            }
