"""SQS message move tasks (DLQ redrive) emulated in front of moto's server.

moto 5.2 answers ``StartMessageMoveTask`` with a 500, so replay's move-task path
would otherwise only ever run against AWS. :class:`SqsMoveEmulator` is an aiohttp
server speaking SQS's JSON protocol (botocore 1.40 sends ``POST /`` with
``X-Amz-Target: AmazonSQS.<Operation>`` and ``application/x-amz-json-1.0``): it
answers ``StartMessageMoveTask``, ``ListMessageMoveTasks`` and
``CancelMessageMoveTask`` itself and forwards every other request to moto byte
for byte, so queues and messages stay moto's. A task runs in the background and
really moves messages: receive from the DLQ, send to the destination, delete
from the DLQ only what was sent.

The contract, from the API reference and the DLQ redrive guide (error codes and
statuses as AWS answers them, recorded by LocalStack's AWS-validated snapshots):

- the source must exist (404 ``ResourceNotFoundException`` naming SourceArn) and
  be the dead-letter target of at least one queue's RedrivePolicy (400
  ``InvalidParameterValue``); a given DestinationArn must exist (404); only one
  active (RUNNING or CANCELLING) task per source (400 ``InvalidParameterValue``);
  ``MaxNumberOfMessagesPerSecond`` is 1..500, otherwise the rate is unlimited;
- ``ApproximateNumberOfMessagesToMove`` is the source's depth when the task is
  picked up; the task moves at most that many, in batches of up to 10 (and up to
  ``MaxNumberOfMessagesPerSecond`` a second), each message a new message (new id,
  receive count and retention) with its body and attributes;
- ``ListMessageMoveTasks`` gives the most recent tasks first (``MaxResults``
  1..10, default 1); ``TaskHandle`` only while RUNNING, ``DestinationArn`` and the
  rate only when they were given, ``FailureReason`` only when FAILED (the error
  code that stopped it, e.g. ``AWS.SimpleQueueService.NonExistentQueue`` when the
  destination was deleted); messages already moved stay moved;
- the task handle is base64 JSON of the task id and source ARN; a handle that does
  not decode is ``InvalidParameterValue``, an unknown source or task is 404;
  cancelling turns RUNNING into CANCELLING until the batch in flight is done,
  then CANCELLED.

Simplifications: without DestinationArn, AWS returns each message to the queue it
was dead-lettered from (the message's ``DeadLetterQueueSourceArn``); moto does
not record that, so the emulator sends everything to the DLQ's only source queue
and fails the task (``CouldNotDetermineMessageSource``, a name we chose) when the
DLQ serves several. Cancelling a task that is not RUNNING answers
``InvalidParameterValue`` (AWS's exact answer is unrecorded). A batch the task
cannot send is made visible again in the DLQ at once. Messages go in the order
moto's ReceiveMessage gives them, ten to a SendMessageBatch (a batch over the
batch size limit fails the task). FIFO queues, the 36 hour limit, throttling and
permissions are not modelled. ``speed`` scales the
emulator's own clock (the rate pacing) so tests run fast; timestamps stay real.

Being a front, it can also put races in a chosen order: :meth:`SqsMoveEmulator.hold`
keeps any forwarded operation's requests waiting until :meth:`SqsMoveEmulator.release`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any

import aioboto3
import aiohttp
from aiohttp import web
from botocore.exceptions import ClientError
from multidict import CIMultiDict
from yarl import URL

from locdetect_worker.local_stack import LOCAL_REGION

TARGET_PREFIX = "AmazonSQS."
JSON_1_0 = "application/x-amz-json-1.0"
MAX_RATE = 500
MAX_LIST_RESULTS = 10
SQS_BATCH = 10
IN_FLIGHT_VISIBILITY = 60  # seconds a batch the task has received stays hidden in the DLQ
# Not forwarded: they describe one connection or one encoding of the body, not the request.
HOP_BY_HOP = {"host", "connection", "keep-alive", "content-length", "transfer-encoding"}


class SqsError(Exception):
    """An error as SQS's JSON protocol returns it: the query-compatible code in a header."""

    def __init__(self, status: int, code: str, message: str, shape: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.shape = shape or code

    def response(self) -> web.Response:
        return web.json_response(
            {"__type": f"com.amazonaws.sqs#{self.shape}", "message": self.message},
            status=self.status,
            content_type=JSON_1_0,
            headers={
                "x-amzn-query-error": f"{self.code};Sender",
                "x-amzn-RequestId": str(uuid.uuid4()),
            },
        )


def not_found(parameter: str) -> SqsError:
    message = f"The resource that you specified for the {parameter} parameter doesn't exist."
    return SqsError(404, "ResourceNotFoundException", message)


def invalid(message: str) -> SqsError:
    return SqsError(400, "InvalidParameterValue", message)


class TaskFailed(Exception):
    """Stops a task; the argument is its FailureReason."""


@dataclass
class MoveTask:
    task_id: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started_ms: int
    status: str = "RUNNING"
    to_move: int | None = None
    moved: int = 0
    in_flight: int = 0
    failure_reason: str | None = None
    batches: list[tuple[float, int]] = field(
        default_factory=list
    )  # (emulated time received, moved)

    @property
    def handle(self) -> str:
        document = json.dumps({"taskId": self.task_id, "sourceArn": self.source_arn})
        return base64.b64encode(document.encode()).decode()

    @property
    def active(self) -> bool:
        return self.status in ("RUNNING", "CANCELLING")

    def entry(self) -> dict[str, Any]:
        """This task as one ``ListMessageMoveTasks`` result."""
        entry: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "StartedTimestamp": self.started_ms,
        }
        optional = {
            "TaskHandle": self.handle if self.status == "RUNNING" else None,
            "DestinationArn": self.destination_arn,
            "MaxNumberOfMessagesPerSecond": self.rate,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "FailureReason": self.failure_reason if self.status == "FAILED" else None,
        }
        entry.update({key: value for key, value in optional.items() if value is not None})
        return entry


class SqsMoveEmulator:
    """The front end and the task runner; use as an async context manager, then ``url``."""

    def __init__(
        self,
        moto_url: str,
        *,
        speed: float = 1.0,
        region: str = LOCAL_REGION,
        host: str = "127.0.0.1",
    ) -> None:
        self.moto_url, self.speed, self.region, self.host = moto_url, speed, region, host
        self.available = True  # False: answer like a service without move tasks
        self.tasks: list[MoveTask] = []  # oldest first
        self.requests: Counter[str] = Counter()  # answered, by operation (forwarded too)
        self.held: Counter[str] = Counter()  # requests that arrived while their operation was held
        self._holds: dict[str, asyncio.Event] = {}
        self.url = ""
        self._operations = {
            "StartMessageMoveTask": self._start,
            "ListMessageMoveTasks": self._list,
            "CancelMessageMoveTask": self._cancel,
        }
        self._stack = AsyncExitStack()
        self._movers: set[asyncio.Task[None]] = set()
        self._running = asyncio.Event()
        self._running.set()
        self._changed = asyncio.Event()
        self._epoch = time.monotonic()

    async def __aenter__(self) -> SqsMoveEmulator:
        await self._stack.__aenter__()
        try:
            self._http = await self._stack.enter_async_context(
                aiohttp.ClientSession(auto_decompress=False)
            )
            session = aioboto3.Session(region_name=self.region)
            self._sqs = await self._stack.enter_async_context(
                session.client("sqs", endpoint_url=self.moto_url)
            )
            app = web.Application(client_max_size=16 * 1024 * 1024)
            app.router.add_route("*", "/{path:.*}", self._handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            self._stack.push_async_callback(runner.cleanup)
            self._stack.push_async_callback(self._stop_movers)
            site = web.TCPSite(runner, self.host, 0)
            await site.start()
            host, port = runner.addresses[0][:2]
            self.url = f"http://{host}:{port}"
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._stack.__aexit__(*exc_info)

    def pause(self) -> None:
        """Hold every task once it has received its next batch (a slow or stuck redrive)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def hold(self, operation: str) -> None:
        """Keep requests for a forwarded ``operation`` waiting until :meth:`release`."""
        self._holds[operation] = asyncio.Event()

    def release(self, operation: str) -> None:
        self._holds.pop(operation).set()

    def clock(self) -> float:
        """The emulator's time in seconds, ``speed`` times faster than the wall clock."""
        return (time.monotonic() - self._epoch) * self.speed

    async def until(self, condition: Callable[[], Any], within: float = 10) -> None:
        """Wait until ``condition()`` holds, re-checking whenever a request or task moves on."""
        async with asyncio.timeout(within):
            while not condition():
                await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _stop_movers(self) -> None:
        for mover in self._movers:
            mover.cancel()
        await asyncio.gather(*self._movers, return_exceptions=True)

    # -- the HTTP front ------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        target = request.headers.get("X-Amz-Target", "")
        operation = target.removeprefix(TARGET_PREFIX) if target.startswith(TARGET_PREFIX) else ""
        try:
            handler = self._operations.get(operation)
            if handler is None:
                if operation in self._holds:
                    self.held[operation] += 1
                    self._notify()
                    await self._holds[operation].wait()
                return await self._forward(request, body)
            if not self.available:
                raise SqsError(
                    400,
                    "AWS.SimpleQueueService.UnsupportedOperation",
                    f"{operation} is not supported here.",
                    "UnsupportedOperation",
                )
            result = await handler(json.loads(body or b"{}"))
        except SqsError as error:
            return error.response()
        finally:  # counted once answered: a test that saw the count rise knows what was said
            self.requests[operation or request.method] += 1
            self._notify()
        return web.json_response(
            result, content_type=JSON_1_0, headers={"x-amzn-RequestId": str(uuid.uuid4())}
        )

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        headers = CIMultiDict(
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in HOP_BY_HOP
        )
        url = URL(self.moto_url + request.raw_path, encoded=True)
        async with self._http.request(
            request.method, url, headers=headers, data=body, allow_redirects=False
        ) as upstream:
            payload = await upstream.read()
            answer = CIMultiDict(
                (name, value)
                for name, value in upstream.headers.items()
                if name.lower() not in HOP_BY_HOP
            )
            return web.Response(status=upstream.status, body=payload, headers=answer)

    # -- the three operations ------------------------------------------------------------

    async def _start(self, params: dict[str, Any]) -> dict[str, Any]:
        source_arn = _required(params, "SourceArn")
        source_url = await self._queue_url(source_arn)
        if source_url is None:
            raise not_found("SourceArn")
        sources = await self._dead_letter_sources(source_url)
        if not sources:
            raise invalid("Source queue must be configured as a Dead Letter Queue.")
        destination_arn = params.get("DestinationArn")
        destination_url = None
        if destination_arn is not None:
            destination_url = await self._queue_url(destination_arn)
            if destination_url is None:
                raise not_found("DestinationArn")
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and (type(rate) is not int or not 1 <= rate <= MAX_RATE):
            raise invalid(
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                f"Reason: must be between 1 and {MAX_RATE}."
            )
        # No await from this check to the append: two concurrent starts cannot both pass.
        if any(task.active and task.source_arn == source_arn for task in self.tasks):
            raise invalid(
                "There is already a task running. "
                "Only one active task is allowed for a source queue arn at a given time."
            )
        task = MoveTask(
            str(uuid.uuid4()), source_arn, destination_arn, rate, started_ms=int(time.time() * 1000)
        )
        self.tasks.append(task)
        route = [destination_url] if destination_url else sources
        mover = asyncio.get_running_loop().create_task(self._move(task, source_url, route))
        self._movers.add(mover)
        mover.add_done_callback(self._movers.discard)
        return {"TaskHandle": task.handle}

    async def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        source_arn = _required(params, "SourceArn")
        limit = params.get("MaxResults")
        limit = 1 if limit is None else limit
        if type(limit) is not int or not 1 <= limit <= MAX_LIST_RESULTS:
            raise invalid(
                f"Value {limit} for parameter MaxResults is invalid. "
                f"Reason: must be between 1 and {MAX_LIST_RESULTS}."
            )
        if await self._queue_url(source_arn) is None:
            raise not_found("SourceArn")
        recent = [task for task in reversed(self.tasks) if task.source_arn == source_arn]
        return {"Results": [task.entry() for task in recent[:limit]]}

    async def _cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        handle = _required(params, "TaskHandle")
        try:
            document = json.loads(base64.b64decode(handle, validate=True))
            task_id, source_arn = str(document["taskId"]), str(document["sourceArn"])
        except (ValueError, TypeError, KeyError, binascii.Error):
            raise invalid("Value for parameter TaskHandle is invalid.") from None
        if await self._queue_url(source_arn) is None:
            raise not_found("SourceArn")
        task = next(
            (t for t in self.tasks if t.task_id == task_id and t.source_arn == source_arn), None
        )
        if task is None:
            raise SqsError(404, "ResourceNotFoundException", "Task does not exist.")
        if task.status != "RUNNING":
            raise invalid(f"Only a RUNNING task can be cancelled; this one is {task.status}.")
        task.status = "CANCELLING"
        return {"ApproximateNumberOfMessagesMoved": task.moved}

    # -- the task ------------------------------------------------------------------------

    async def _move(self, task: MoveTask, source_url: str, route: list[str]) -> None:
        """Run ``task`` to its end; ``route`` is the destination, or the DLQ's source queues."""
        try:
            depth = await self._sqs.get_queue_attributes(
                QueueUrl=source_url, AttributeNames=["ApproximateNumberOfMessages"]
            )
            task.to_move = int(depth["Attributes"]["ApproximateNumberOfMessages"])
            self._notify()
            next_at = self.clock()
            while task.moved < task.to_move and task.status == "RUNNING":
                want = min(SQS_BATCH, task.to_move - task.moved, task.rate or SQS_BATCH)
                while task.rate and (wait := next_at - self.clock()) > 0:
                    await asyncio.sleep(wait / self.speed)
                received_at = self.clock()
                if task.rate:
                    next_at = received_at + want / task.rate
                received = await self._sqs.receive_message(
                    QueueUrl=source_url,
                    MaxNumberOfMessages=want,
                    VisibilityTimeout=IN_FLIGHT_VISIBILITY,
                    MessageAttributeNames=["All"],
                )
                messages = received.get("Messages", [])
                if not messages:
                    break  # the rest was taken by someone else or expired
                task.in_flight = len(messages)
                self._notify()
                await self._running.wait()
                await self._deliver(task, source_url, route, messages, received_at)
            task.status = "CANCELLED" if task.status == "CANCELLING" else "COMPLETED"
        except TaskFailed as failure:
            task.status, task.failure_reason = "FAILED", str(failure)
        except ClientError as error:  # the source itself went away
            task.status, task.failure_reason = "FAILED", _error_code(error)
        finally:
            self._notify()

    async def _deliver(
        self,
        task: MoveTask,
        source_url: str,
        route: list[str],
        messages: list[dict[str, Any]],
        received_at: float,
    ) -> None:
        """Send one received batch on, then delete from the DLQ exactly what was sent."""
        unsent = messages
        try:
            if len(route) != 1:
                raise TaskFailed("CouldNotDetermineMessageSource")
            entries = [
                {
                    "Id": str(index),
                    "MessageBody": message["Body"],
                    "MessageAttributes": _sendable(message.get("MessageAttributes", {})),
                }
                for index, message in enumerate(messages)
            ]
            try:
                response = await self._sqs.send_message_batch(QueueUrl=route[0], Entries=entries)
            except ClientError as error:
                raise TaskFailed(_error_code(error)) from None
            sent_ids = {int(entry["Id"]) for entry in response.get("Successful", [])}
            sent = [m for index, m in enumerate(messages) if index in sent_ids]
            unsent = [m for index, m in enumerate(messages) if index not in sent_ids]
            if sent:
                await self._sqs.delete_message_batch(QueueUrl=source_url, Entries=_handles(sent))
                task.moved += len(sent)
                task.batches.append((received_at, len(sent)))
            if failed := response.get("Failed"):
                raise TaskFailed(failed[0].get("Code", "InternalError"))
        except TaskFailed:
            if unsent:  # back in the DLQ at once, not after the in-flight visibility
                entries = [dict(entry, VisibilityTimeout=0) for entry in _handles(unsent)]
                await self._sqs.change_message_visibility_batch(
                    QueueUrl=source_url, Entries=entries
                )
            raise
        finally:
            task.in_flight = 0

    # -- moto look-ups -------------------------------------------------------------------

    async def _queue_url(self, arn: str) -> str | None:
        """The URL of the queue ``arn`` names, None when there is no such queue."""
        parts = arn.split(":")
        if len(parts) != 6 or parts[:3] != ["arn", "aws", "sqs"] or not parts[5]:
            return None
        try:
            response = await self._sqs.get_queue_url(
                QueueName=parts[5], QueueOwnerAWSAccountId=parts[4]
            )
        except ClientError as error:
            if _error_code(error) == "AWS.SimpleQueueService.NonExistentQueue":
                return None
            raise
        return str(response["QueueUrl"])

    async def _dead_letter_sources(self, dlq_url: str) -> list[str]:
        paginator = self._sqs.get_paginator("list_dead_letter_source_queues")
        return [
            url
            async for page in paginator.paginate(QueueUrl=dlq_url)
            for url in page.get("queueUrls", [])
        ]


def _required(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise SqsError(400, "MissingParameter", f"The request must contain the parameter {name}.")
    return value


def _handles(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "InternalError"))


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Received message attributes as SendMessageBatch takes them (no empty list fields)."""
    return {
        name: {
            key: value[key] for key in ("DataType", "StringValue", "BinaryValue") if key in value
        }
        for name, value in attributes.items()
    }
