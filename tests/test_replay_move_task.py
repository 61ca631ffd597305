"""``replay dlq`` through StartMessageMoveTask, against the move-task emulator in front of moto.

The CLI runs as a real process pointed at the emulator; the emulator's own
contract (statuses, progress, rate, errors) is checked with direct aioboto3 calls.
"""

import base64
import dataclasses
import json
import uuid

import aioboto3
import anyio
import pytest
from botocore.exceptions import ClientError

from locdetect_worker.local_stack import LOCAL_REGION
from tests.conftest import queue_depth
from tests.sqs_move_emulator import SqsMoveEmulator
from tests.test_replay import dead_letters, replay, take_all  # noqa: F401

pytestmark = pytest.mark.usefixtures("dead_letters")  # three messages in each DLQ

SPEED = 20  # emulated seconds per real second: a 2/s task moves 3 messages in 0.05 s


@pytest.fixture
async def emulator(moto_endpoint):
    async with SqsMoveEmulator(moto_endpoint, speed=SPEED) as running:
        yield running


@pytest.fixture
async def sqs(emulator):
    """An SQS client that talks to the emulator."""
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with session.client("sqs", endpoint_url=emulator.url) as client:
        yield client


def via(emulator, stack):
    """``stack`` as the CLI sees it when its endpoint is the emulator."""
    return dataclasses.replace(stack, endpoint_url=emulator.url)


async def queue_arn(sqs, queue_url: str) -> str:
    response = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return response["Attributes"]["QueueArn"]


async def latest(sqs, source_arn: str) -> dict:
    [task] = (await sqs.list_message_move_tasks(SourceArn=source_arn))["Results"]
    return task


async def refusal(call) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the ClientError ``call`` must raise."""
    with pytest.raises(ClientError) as caught:
        await call
    response = caught.value.response
    assert response["Error"]["Type"] == "Sender"
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def task_started(emulator) -> bool:
    return bool(emulator.tasks) and emulator.tasks[-1].in_flight > 0


async def test_dlq_replay_moves_through_the_move_task(aws, sqs, stack, emulator):
    code, out, err = await replay(via(emulator, stack), "dlq", "--rate", "2.9")
    assert code == 0, err
    assert "StartMessageMoveTask is not available" not in err
    assert "replay dlq: seen 3, moved 3, failed 0" in out
    assert emulator.requests["StartMessageMoveTask"] == 1
    assert emulator.requests["SendMessageBatch"] == 0  # not moved by hand through the front
    task = await latest(sqs, await queue_arn(sqs, stack.dlq_url))
    assert task["Status"] == "COMPLETED" and task["DestinationArn"] == stack.queue_arn
    assert task["MaxNumberOfMessagesPerSecond"] == 2  # whole messages, never above --rate
    assert [count for _, count in emulator.tasks[-1].batches] == [2, 1]
    assert await queue_depth(aws.sqs, stack.dlq_url) == 0
    moved = await take_all(aws.sqs, stack.queue_url)
    assert sorted(m["Body"] for m in moved) == [json.dumps({"dead": i}) for i in range(3)]
    origins = {json.loads(m["Body"])["dead"]: m["MessageAttributes"] for m in moved}
    assert origins[1]["origin"]["StringValue"] == "o1"


async def test_rate_below_one_a_second_is_not_exceeded(aws, stack, emulator):
    """A move task cannot go slower than 1 message a second: below that, move by hand."""
    code, out, err = await replay(via(emulator, stack), "dlq", "--rate", "0.5")
    assert code == 0, err
    assert "moved 3" in out
    assert emulator.requests["StartMessageMoveTask"] == 0  # a task would move 1 a second
    assert len(await take_all(aws.sqs, stack.queue_url)) == 3


async def run_in_background(group, emulator, stack, *args: str) -> dict:
    """Start ``replay`` in ``group``; the returned dict gets ``result`` when it exits."""
    outcome: dict = {}

    async def run() -> None:
        outcome["result"] = await replay(via(emulator, stack), *args)

    group.start_soon(run)
    return outcome


async def test_failed_task_fails_the_replay(aws, stack, emulator):
    emulator.pause()
    async with anyio.create_task_group() as group:
        outcome = await run_in_background(group, emulator, stack, "dlq")
        await emulator.until(lambda: task_started(emulator))
        await aws.sqs.delete_queue(QueueUrl=stack.queue_url)  # the destination goes away
        emulator.resume()
    code, out, err = outcome["result"]
    assert code == 1
    assert "message move task FAILED: AWS.SimpleQueueService.NonExistentQueue" in err
    assert "moved 0, failed 3" in out
    assert emulator.tasks[-1].status == "FAILED"
    response = await aws.sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10)
    assert len(response["Messages"]) == 3  # back in the DLQ and visible at once


async def test_cancelled_task_is_followed_until_it_stops(aws, sqs, stack, emulator):
    """CANCELLING is not an end: replay must wait for CANCELLED and report what moved."""
    emulator.pause()
    async with anyio.create_task_group() as group:
        outcome = await run_in_background(group, emulator, stack, "dlq", "--rate", "1")
        await emulator.until(lambda: task_started(emulator))
        await sqs.cancel_message_move_task(TaskHandle=emulator.tasks[-1].handle)
        polls = emulator.requests["ListMessageMoveTasks"]
        await emulator.until(lambda: emulator.requests["ListMessageMoveTasks"] > polls)
        emulator.resume()  # replay has seen CANCELLING; the batch in flight now lands
    code, out, err = outcome["result"]
    assert emulator.tasks[-1].status == "CANCELLED"
    assert "message move task CANCELLED" in err
    assert "seen 3, moved 1, failed 2" in out
    assert code == 1
    assert await queue_depth(aws.sqs, stack.dlq_url) == 2


async def test_falls_back_when_the_service_refuses_move_tasks(aws, stack, emulator):
    emulator.available = False  # answers UnsupportedOperation the way SQS's JSON protocol does
    code, out, err = await replay(via(emulator, stack), "dlq")
    assert code == 0, err
    assert "StartMessageMoveTask is not available" in err
    assert "replay dlq: seen 3, moved 3, failed 0" in out
    assert emulator.requests["StartMessageMoveTask"] == 1 and not emulator.tasks
    assert emulator.requests["SendMessageBatch"] >= 1
    assert len(await take_all(aws.sqs, stack.queue_url)) == 3


async def test_task_moves_at_the_rate_and_reports_progress(aws, sqs, stack, emulator):
    for index in range(3, 5):
        await aws.sqs.send_message(QueueUrl=stack.dlq_url, MessageBody=json.dumps({"dead": index}))
    source = await queue_arn(sqs, stack.dlq_url)
    emulator.pause()
    handle = (
        await sqs.start_message_move_task(
            SourceArn=source, DestinationArn=stack.queue_arn, MaxNumberOfMessagesPerSecond=2
        )
    )["TaskHandle"]
    await emulator.until(lambda: task_started(emulator))
    running = await latest(sqs, source)
    assert running["Status"] == "RUNNING" and running["TaskHandle"] == handle
    assert running["ApproximateNumberOfMessagesToMove"] == 5
    assert running["ApproximateNumberOfMessagesMoved"] == 0
    emulator.resume()
    await emulator.until(lambda: emulator.tasks[-1].status != "RUNNING")
    done = await latest(sqs, source)
    assert done["Status"] == "COMPLETED" and "TaskHandle" not in done
    assert done["ApproximateNumberOfMessagesMoved"] == 5 and "FailureReason" not in done
    batches = emulator.tasks[-1].batches
    assert [count for _, count in batches] == [2, 2, 1]
    for (before, count), (after, _) in zip(batches, batches[1:]):
        assert after - before >= count / 2  # never more than 2 a second
    assert len(await take_all(aws.sqs, stack.queue_url)) == 5


async def test_cancel_keeps_what_was_not_moved(aws, sqs, stack, emulator):
    source = await queue_arn(sqs, stack.dlq_url)
    emulator.pause()
    started = await sqs.start_message_move_task(
        SourceArn=source, DestinationArn=stack.queue_arn, MaxNumberOfMessagesPerSecond=1
    )
    handle = started["TaskHandle"]
    await emulator.until(lambda: task_started(emulator))
    cancelled = await sqs.cancel_message_move_task(TaskHandle=handle)
    assert cancelled["ApproximateNumberOfMessagesMoved"] == 0
    cancelling = await latest(sqs, source)
    assert cancelling["Status"] == "CANCELLING" and "TaskHandle" not in cancelling
    code, status, _ = await refusal(sqs.cancel_message_move_task(TaskHandle=handle))
    assert (code, status) == ("InvalidParameterValue", 400)  # only RUNNING tasks cancel
    emulator.resume()
    await emulator.until(lambda: emulator.tasks[-1].status == "CANCELLED")
    assert (await latest(sqs, source))["ApproximateNumberOfMessagesMoved"] == 1
    assert await queue_depth(aws.sqs, stack.dlq_url) == 2
    assert len(await take_all(aws.sqs, stack.queue_url)) == 1


async def test_without_destination_messages_return_to_the_source_queue(aws, sqs, stack, emulator):
    source = await queue_arn(sqs, stack.dlq_url)
    await sqs.start_message_move_task(SourceArn=source)
    await emulator.until(lambda: emulator.tasks[-1].status != "RUNNING")
    first = await latest(sqs, source)
    assert first["Status"] == "COMPLETED" and "DestinationArn" not in first
    assert len(await take_all(aws.sqs, stack.queue_url)) == 3

    # A second queue dead-letters into the same DLQ: moto does not record where a
    # message came from, so the emulator cannot choose and the task fails.
    await aws.sqs.create_queue(
        QueueName=f"{stack.queue_url.rsplit('/', 1)[1]}-second",
        Attributes={
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": source, "maxReceiveCount": "3"})
        },
    )
    await aws.sqs.send_message(QueueUrl=stack.dlq_url, MessageBody="orphan")
    await sqs.start_message_move_task(SourceArn=source)
    await emulator.until(lambda: emulator.tasks[-1].status != "RUNNING")
    failed = await latest(sqs, source)
    assert failed["Status"] == "FAILED"
    assert failed["FailureReason"] == "CouldNotDetermineMessageSource"
    assert await queue_depth(aws.sqs, stack.dlq_url) == 1
    both = (await sqs.list_message_move_tasks(SourceArn=source, MaxResults=10))["Results"]
    assert [task["Status"] for task in both] == ["FAILED", "COMPLETED"]  # most recent first


async def test_move_task_errors_follow_the_contract(aws, sqs, stack, emulator):
    source = await queue_arn(sqs, stack.dlq_url)
    missing = source + "-missing"

    code, status, message = await refusal(sqs.start_message_move_task(SourceArn=stack.queue_arn))
    assert (code, status) == ("InvalidParameterValue", 400)
    assert "must be configured as a Dead Letter Queue" in message
    code, status, message = await refusal(sqs.start_message_move_task(SourceArn=missing))
    assert (code, status) == ("ResourceNotFoundException", 404) and "SourceArn" in message
    code, status, message = await refusal(
        sqs.start_message_move_task(SourceArn=source, DestinationArn=missing)
    )
    assert (code, status) == ("ResourceNotFoundException", 404) and "DestinationArn" in message
    code, _, _ = await refusal(
        sqs.start_message_move_task(SourceArn=source, MaxNumberOfMessagesPerSecond=501)
    )
    assert code == "InvalidParameterValue"
    code, _, _ = await refusal(sqs.list_message_move_tasks(SourceArn=source, MaxResults=11))
    assert code == "InvalidParameterValue"
    assert (await sqs.list_message_move_tasks(SourceArn=source))["Results"] == []

    emulator.pause()
    await sqs.start_message_move_task(SourceArn=source, DestinationArn=stack.queue_arn)
    code, status, message = await refusal(sqs.start_message_move_task(SourceArn=source))
    assert (code, status) == ("InvalidParameterValue", 400) and "already a task running" in message
    emulator.resume()

    code, status, _ = await refusal(sqs.cancel_message_move_task(TaskHandle="not-a-handle"))
    assert (code, status) == ("InvalidParameterValue", 400)

    def handle(task_id: str, source_arn: str) -> str:
        document = json.dumps({"taskId": task_id, "sourceArn": source_arn})
        return base64.b64encode(document.encode()).decode()

    unknown_task = handle(str(uuid.uuid4()), source)
    code, status, message = await refusal(sqs.cancel_message_move_task(TaskHandle=unknown_task))
    assert (code, status, message) == ("ResourceNotFoundException", 404, "Task does not exist.")
    unknown_source = handle(str(uuid.uuid4()), missing)
    code, status, message = await refusal(sqs.cancel_message_move_task(TaskHandle=unknown_source))
    assert (code, status) == ("ResourceNotFoundException", 404) and "SourceArn" in message


async def test_a_queue_that_is_no_dlq_is_moved_by_hand(aws, stack, emulator):
    """SQS refuses a task on a queue no RedrivePolicy names (say, a DLQ left by a redeploy)."""
    name = stack.queue_url.rsplit("/", 1)[1] + "-parked"
    parked = (await aws.sqs.create_queue(QueueName=name))["QueueUrl"]
    await aws.sqs.send_message(QueueUrl=parked, MessageBody="parked")
    code, out, err = await replay(via(emulator, stack), "dlq", "--dlq-url", parked)
    assert code == 0, err
    assert "replay dlq: seen 1, moved 1, failed 0" in out
    assert not emulator.tasks
    assert [m["Body"] for m in await take_all(aws.sqs, stack.queue_url)] == ["parked"]
