"""``locdetect-worker replay``: send work through the queue again.

Three sources: ``dlq`` moves dead-lettered messages back to the source queue,
``s3`` announces existing objects with the S3 notification they were (or should
have been) announced with, ``file`` re-sends archived message bodies (JSON
Lines). ``--force`` marks every message so the worker re-runs jobs whose result
already exists; ``--dry-run`` reads and counts but sends, moves and deletes
nothing. Progress goes to stderr, the final count line to stdout, and the exit
status is 1 when anything failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import aioboto3
import anyio
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from locdetect_worker.aws import client_config
from locdetect_worker.config import ConfigError, Settings
from locdetect_worker.handler import FORCE_ATTRIBUTE

SQS_BATCH = 10
SQS_BATCH_BYTES = 256 * 1024
DLQ_RECEIVE_VISIBILITY = 120
PROGRESS_EVERY_S = 2.0
MOVE_TASK_POLL_S = 2.0
# What SQS (or an emulator) answers when StartMessageMoveTask is not available.
UNSUPPORTED_CODES = {
    "UnsupportedOperation",
    "AWS.SimpleQueueService.UnsupportedOperation",
    "InvalidAction",
    "NotImplemented",
    "UnknownOperationException",
}
AWS_ERRORS = (ClientError, BotoCoreError, OSError)


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dry-run", action="store_true", help="read and count only: send, move and delete nothing"
    )
    common.add_argument(
        "--force", action="store_true", help="re-run the jobs even where a result already exists"
    )
    common.add_argument(
        "--rate", type=_positive(float), metavar="R", help="send at most R messages per second"
    )
    common.add_argument(
        "--queue-url", metavar="URL", help="queue to send to (default: LOCDETECT_QUEUE_URL)"
    )
    sources = parser.add_subparsers(title="sources", required=True, metavar="SOURCE")

    dlq = sources.add_parser(
        "dlq", parents=[common], help="move messages from the dead-letter queue back to the queue"
    )
    dlq.add_argument(
        "--dlq-url", metavar="URL", help="the DLQ (default: from the queue's RedrivePolicy)"
    )
    dlq.add_argument("--max", type=_positive(int), metavar="N", help="move at most N messages")
    dlq.set_defaults(replay=replay_dlq)

    s3 = sources.add_parser(
        "s3", parents=[common], help="send an S3 ObjectCreated event for each existing object"
    )
    s3.add_argument("--bucket", required=True, help="the blueprints bucket")
    s3.add_argument(
        "--prefix", metavar="P", help="only keys under P (default: LOCDETECT_INPUT_PREFIX)"
    )
    s3.add_argument(
        "--since",
        type=parse_time,
        metavar="T",
        help="only objects modified at or after T (ISO 8601, UTC unless given)",
    )
    s3.add_argument("--until", type=parse_time, metavar="T", help="only objects modified before T")
    s3.set_defaults(replay=replay_s3)

    archive = sources.add_parser(
        "file", parents=[common], help="re-send archived message bodies, one JSON value a line"
    )
    archive.add_argument(
        "events",
        type=Path,
        metavar="EVENTS.jsonl",
        help="each line a message body, or an SQS message with Body and "
        "MessageAttributes; '-' reads stdin",
    )
    archive.set_defaults(replay=replay_file)


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    queue_url = args.queue_url or settings.queue_url
    if not queue_url:
        raise ConfigError("replay needs a queue: set LOCDETECT_QUEUE_URL or pass --queue-url")
    try:
        tally = anyio.run(_run, args, settings, queue_url)
    except AWS_ERRORS as exc:
        print(f"locdetect-worker replay: {exc}", file=sys.stderr)
        return 1
    print(tally.summary(), flush=True)
    return 1 if tally.failed else 0


def parse_time(text: str) -> datetime:
    """An ISO 8601 date or time; naive values are UTC."""
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date/time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Tally:
    """What a replay did, reported as it goes and once at the end."""

    source: str
    dry_run: bool
    verb: str = "sent"
    seen: int = 0
    sent: int = 0
    failed: int = 0
    last_report: float = field(default=0.0)

    def progress(self, final: bool = False) -> None:
        now = anyio.current_time()
        if final or now - self.last_report >= PROGRESS_EVERY_S:
            self.last_report = now
            print(f"replay {self.source}: {self.counts()}", file=sys.stderr, flush=True)

    def counts(self) -> str:
        if self.dry_run:
            return f"seen {self.seen}, would be {self.verb} {self.seen}, failed {self.failed}"
        return f"seen {self.seen}, {self.verb} {self.sent}, failed {self.failed}"

    def summary(self) -> str:
        return f"replay {self.source}{' (dry run)' if self.dry_run else ''}: {self.counts()}"


@dataclass(frozen=True)
class Outgoing:
    body: str
    attributes: dict[str, Any] = field(default_factory=dict)


class Pacer:
    """At most ``rate`` messages per second (no limit when ``rate`` is None)."""

    def __init__(self, rate: float | None) -> None:
        self.rate = rate
        self.next_at = 0.0

    async def take(self, count: int) -> None:
        if not self.rate:
            return
        now = anyio.current_time()
        if self.next_at > now:
            await anyio.sleep(self.next_at - now)
        self.next_at = max(now, self.next_at) + count / self.rate


async def _run(args: argparse.Namespace, settings: Settings, queue_url: str) -> Tally:
    session = aioboto3.Session(region_name=settings.region)
    kwargs: dict[str, Any] = {"config": client_config(settings)}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    async with AsyncExitStack() as stack:
        clients = {
            name: await stack.enter_async_context(session.client(name, **kwargs))
            for name in ("sqs", "s3")
        }
        replay = Replay(session, kwargs, clients["sqs"], clients["s3"], queue_url, args, settings)
        result: Tally = await args.replay(replay)
        return result


@dataclass
class Replay:
    """Everything one replay needs: clients, the destination queue and the options."""

    session: Any
    client_kwargs: dict[str, Any]
    sqs: Any
    s3: Any
    queue_url: str
    args: argparse.Namespace
    settings: Settings

    def outgoing(self, body: str, attributes: dict[str, Any] | None = None) -> Outgoing:
        attributes = dict(attributes or {})
        if self.args.force:
            attributes[FORCE_ATTRIBUTE] = {"DataType": "String", "StringValue": "true"}
        return Outgoing(body, attributes)

    async def send(self, messages: list[Outgoing]) -> list[bool]:
        """Send in batches that fit SQS's limits; one success flag per message, in order."""
        flags: list[bool] = []
        for batch in _batches(messages):
            entries = [
                {"Id": str(i), "MessageBody": m.body, "MessageAttributes": m.attributes}
                for i, m in enumerate(batch)
            ]
            try:
                response = await self.sqs.send_message_batch(
                    QueueUrl=self.queue_url, Entries=entries
                )
            except AWS_ERRORS as exc:
                print(f"send failed: {exc}", file=sys.stderr)
                flags += [False] * len(batch)
                continue
            for failure in response.get("Failed", []):
                print(
                    f"send refused: {failure.get('Code')}: {failure.get('Message')}",
                    file=sys.stderr,
                )
            ok = {entry["Id"] for entry in response.get("Successful", [])}
            flags += [str(index) in ok for index in range(len(batch))]
        return flags


async def replay_dlq(replay: Replay) -> Tally:
    args = replay.args
    tally = Tally("dlq", args.dry_run, verb="moved")
    dlq_url = args.dlq_url or await find_dlq(replay.sqs, replay.queue_url)
    print(f"replay dlq: {dlq_url} -> {replay.queue_url}", file=sys.stderr)
    if args.dry_run:
        count = await _queue_attribute(replay.sqs, dlq_url, "ApproximateNumberOfMessages")
        waiting = int(count or 0)
        tally.seen = min(waiting, args.max) if args.max else waiting
        return tally
    # A move task can neither mark, count out, nor go below one message a second.
    by_task = not args.force and args.max is None and (args.rate is None or args.rate >= 1)
    if by_task and await _move_task(replay, dlq_url, tally):
        return tally
    await _move_by_hand(replay, dlq_url, tally)
    tally.progress(final=True)
    return tally


async def find_dlq(sqs: Any, queue_url: str) -> str:
    """The DLQ named by the queue's RedrivePolicy."""
    policy = await _queue_attribute(sqs, queue_url, "RedrivePolicy")
    if not policy:
        raise ConfigError(f"{queue_url} has no RedrivePolicy: pass --dlq-url")
    arn = json.loads(policy)["deadLetterTargetArn"]
    _, _, _, _, account, name = arn.split(":", 5)
    response = await sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)
    return str(response["QueueUrl"])


async def _queue_attribute(sqs: Any, queue_url: str, name: str) -> str | None:
    response = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=[name])
    value = response.get("Attributes", {}).get(name)
    return None if value is None else str(value)


async def _move_task(replay: Replay, dlq_url: str, tally: Tally) -> bool:
    """Move with StartMessageMoveTask and follow it; False when the service lacks it."""
    # SQS moves only out of a queue some RedrivePolicy names (not, say, a DLQ left behind
    # by a redeploy); empty any other queue by hand.
    named_by = await replay.sqs.list_dead_letter_source_queues(QueueUrl=dlq_url, MaxResults=1)
    if not named_by.get("queueUrls"):
        print("no queue dead-letters into it: moving message by message", file=sys.stderr)
        return False
    source_arn = await _queue_attribute(replay.sqs, dlq_url, "QueueArn")
    destination_arn = await _queue_attribute(replay.sqs, replay.queue_url, "QueueArn")
    request: dict[str, Any] = {"SourceArn": source_arn, "DestinationArn": destination_arn}
    if replay.args.rate:
        request["MaxNumberOfMessagesPerSecond"] = min(500, int(replay.args.rate))
    # One attempt only: an emulator's "not implemented" 500 is not worth retrying.
    probe_kwargs = {**replay.client_kwargs, "config": Config(retries={"max_attempts": 1})}
    async with replay.session.client("sqs", **probe_kwargs) as probe:
        try:
            await probe.start_message_move_task(**request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if error.get("Code") in UNSUPPORTED_CODES or status >= 500:
                print(
                    "StartMessageMoveTask is not available here: moving message by message",
                    file=sys.stderr,
                )
                return False
            raise
    while True:
        tasks = await replay.sqs.list_message_move_tasks(SourceArn=source_arn, MaxResults=1)
        if not tasks.get("Results"):  # not listed yet
            await anyio.sleep(MOVE_TASK_POLL_S)
            continue
        task = tasks["Results"][0]
        tally.seen = int(task.get("ApproximateNumberOfMessagesToMove", tally.seen) or 0)
        tally.sent = int(task.get("ApproximateNumberOfMessagesMoved", 0))
        if task["Status"] not in ("RUNNING", "CANCELLING"):  # CANCELLING ends in CANCELLED
            break
        tally.progress()
        await anyio.sleep(MOVE_TASK_POLL_S)
    if task["Status"] != "COMPLETED":
        print(
            f"message move task {task['Status']}: {task.get('FailureReason', '')}", file=sys.stderr
        )
        tally.failed = max(1, tally.seen - tally.sent)
    tally.progress(final=True)
    return True


async def _move_by_hand(replay: Replay, dlq_url: str, tally: Tally) -> None:
    """Receive from the DLQ, send to the queue, delete from the DLQ only what was sent.

    A message whose send failed stays invisible in the DLQ for a while, so this
    run does not pick it up again; it is counted as failed and left there.
    """
    pacer, limit = Pacer(replay.args.rate), replay.args.max
    while limit is None or tally.seen < limit:
        want = SQS_BATCH if limit is None else min(SQS_BATCH, limit - tally.seen)
        response = await replay.sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=want,
            WaitTimeSeconds=1,
            VisibilityTimeout=DLQ_RECEIVE_VISIBILITY,
            MessageAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return
        tally.seen += len(messages)
        await pacer.take(len(messages))
        outgoing = [
            replay.outgoing(m["Body"], _sendable(m.get("MessageAttributes", {}))) for m in messages
        ]
        flags = await replay.send(outgoing)
        sent = [message for message, ok in zip(messages, flags, strict=True) if ok]
        deleted = await _delete(replay.sqs, dlq_url, sent)
        tally.sent += deleted
        tally.failed += len(messages) - deleted
        tally.progress()


async def _delete(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> int:
    """Delete ``messages``; the number actually deleted."""
    if not messages:
        return 0
    entries = [
        {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
        for index, message in enumerate(messages)
    ]
    try:
        response = await sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
    except AWS_ERRORS as exc:
        print(f"delete from the DLQ failed (the messages were sent): {exc}", file=sys.stderr)
        return 0
    return len(response.get("Successful", []))


def _sendable(attributes: dict[str, Any]) -> dict[str, Any]:
    """Received message attributes in the shape SendMessage accepts."""
    keep = ("DataType", "StringValue", "BinaryValue")
    return {
        name: {key: value[key] for key in keep if key in value}
        for name, value in attributes.items()
    }


async def replay_s3(replay: Replay) -> Tally:
    args = replay.args
    prefix = replay.settings.input_prefix if args.prefix is None else args.prefix
    tally = Tally("s3", args.dry_run)
    region = replay.settings.region or "us-east-1"
    pacer = Pacer(args.rate)
    async for page in _object_pages(replay.s3, args.bucket, prefix):
        chosen = [
            obj
            for obj in page
            if not obj["Key"].endswith("/")
            and (args.since is None or obj["LastModified"] >= args.since)
            and (args.until is None or obj["LastModified"] < args.until)
        ]
        tally.seen += len(chosen)
        if not args.dry_run:
            for start in range(0, len(chosen), SQS_BATCH):
                batch = chosen[start : start + SQS_BATCH]
                await pacer.take(len(batch))
                bodies = [json.dumps(s3_event(args.bucket, obj, region)) for obj in batch]
                flags = await replay.send([replay.outgoing(body) for body in bodies])
                tally.sent += sum(flags)
                tally.failed += flags.count(False)
        tally.progress()
    tally.progress(final=True)
    return tally


async def _object_pages(s3: Any, bucket: str, prefix: str) -> AsyncIterator[list[dict[str, Any]]]:
    paginator = s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        yield page.get("Contents", [])


def s3_event(bucket: str, obj: dict[str, Any], region: str) -> dict[str, Any]:
    """The S3 event notification (direct to SQS) announcing ``obj`` from a listing."""
    modified: datetime = obj["LastModified"]
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": modified.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "locdetect-replay"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "locdetect-replay",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": quote_plus(obj["Key"], safe="/"),
                        "size": int(obj["Size"]),
                        "eTag": str(obj["ETag"]).strip('"'),
                    },
                },
            }
        ]
    }


async def replay_file(replay: Replay) -> Tally:
    args = replay.args
    tally = Tally("file", args.dry_run)
    pacer = Pacer(args.rate)
    pending: list[Outgoing] = []

    async def flush() -> None:
        await pacer.take(len(pending))
        flags = await replay.send(pending)
        tally.sent += sum(flags)
        tally.failed += flags.count(False)
        pending.clear()
        tally.progress()

    for number, line in _numbered_lines(args.events):
        try:
            message = archived_message(line)
        except ValueError as exc:
            print(f"{args.events}:{number}: skipped: {exc}", file=sys.stderr)
            tally.failed += 1
            continue
        tally.seen += 1
        if not args.dry_run:
            pending.append(replay.outgoing(message.body, message.attributes))
            if len(pending) == SQS_BATCH:
                await flush()
    if pending:
        await flush()
    tally.progress(final=True)
    return tally


def archived_message(line: str) -> Outgoing:
    """One archive line: a message body, or an SQS message as ReceiveMessage returned it."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if isinstance(value, dict) and isinstance(value.get("Body"), str):
        return Outgoing(value["Body"], _sendable(value.get("MessageAttributes") or {}))
    return Outgoing(line.strip())


def _numbered_lines(path: Path) -> Iterable[tuple[int, str]]:
    stream = sys.stdin if str(path) == "-" else path.open(encoding="utf-8")
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield number, line


def _batches(messages: list[Outgoing]) -> Iterable[list[Outgoing]]:
    """Groups of at most 10 messages and 256 KiB, SendMessageBatch's limits."""
    batch: list[Outgoing] = []
    size = 0
    for message in messages:
        length = len(message.body.encode()) + len(json.dumps(message.attributes))
        if batch and (len(batch) == SQS_BATCH or size + length > SQS_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += length
    if batch:
        yield batch


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text}")
        return value

    parse.__name__ = kind.__name__
    return parse
