"""The consumer alone, with a controllable handler: leases, drain and release."""

import json

import aioboto3
import anyio

from locdetect_worker.consumer import Consumer, Disposition
from locdetect_worker.local_stack import LOCAL_REGION
from tests.sqs_move_emulator import SqsMoveEmulator


async def _receive_now(sqs, queue_url):
    response = await sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)
    return response.get("Messages", [])


def _consumer(aws, stack, handler, **overrides):
    options = dict(
        concurrency=2,
        visibility_timeout=30,
        heartbeat_interval=1,
        wait_time_seconds=1,
        shutdown_grace=0.5,
    )
    options.update(overrides)
    return Consumer(aws.sqs, stack.queue_url, handler, **options)


async def _drain_notification(aws, stack):
    """Remove the s3:TestEvent moto queues when the notification is configured."""
    for message in await _receive_now(aws.sqs, stack.queue_url):
        await aws.sqs.delete_message(
            QueueUrl=stack.queue_url, ReceiptHandle=message["ReceiptHandle"]
        )


async def _send_numbered(aws, stack, count):
    for n in range(count):
        await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps({"n": n}))


async def _until(condition, seconds):
    """Wait for ``condition()`` to hold, failing after ``seconds``."""
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.05)


async def test_unfinished_message_is_visible_again_at_once_after_grace(aws, stack):
    await _drain_notification(aws, stack)
    started, never = anyio.Event(), anyio.Event()

    async def stuck(message):
        started.set()
        await never.wait()
        return Disposition.done()

    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody=json.dumps({"n": 1}))
    consumer = _consumer(aws, stack, stuck)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        with anyio.fail_after(10):
            await started.wait()
        consumer.stop()
    # Visibility timeout is 30 s; the released message must be receivable right away.
    messages = await _receive_now(aws.sqs, stack.queue_url)
    assert [json.loads(m["Body"]) for m in messages] == [{"n": 1}]
    assert consumer.stats.released == 1


async def test_leases_are_renewed_while_the_handler_runs(aws, stack):
    await _drain_notification(aws, stack)
    release = anyio.Event()

    async def slow(message):
        await release.wait()
        return Disposition.done()

    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{}")
    consumer = _consumer(aws, stack, slow, visibility_timeout=2, heartbeat_interval=0.5)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        await _until(lambda: consumer.stats.received > 0, 10)
        # Three visibility timeouts later the message must still be hidden from others.
        await anyio.sleep(6)
        assert await _receive_now(aws.sqs, stack.queue_url) == []
        release.set()
        await _until(lambda: consumer.stats.deleted > 0, 10)
        consumer.stop()
    assert await _receive_now(aws.sqs, stack.queue_url) == []


async def test_retry_disposition_returns_message_after_its_delay(aws, stack):
    await _drain_notification(aws, stack)
    seen = []

    async def flaky(message):
        seen.append(message["MessageId"])
        return Disposition.retry(0) if len(seen) == 1 else Disposition.done()

    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{}")
    consumer = _consumer(aws, stack, flaky)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        await _until(lambda: consumer.stats.deleted > 0, 15)
        consumer.stop()
    assert len(seen) == 2 and seen[0] == seen[1]
    assert consumer.stats.retried == 1


async def test_in_flight_is_bounded_by_concurrency(aws, stack):
    await _drain_notification(aws, stack)
    active, peak, gate = 0, 0, anyio.Event()

    async def counting(message):
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await gate.wait()
        active -= 1
        return Disposition.done()

    await _send_numbered(aws, stack, 6)
    consumer = _consumer(aws, stack, counting, concurrency=3)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        await _until(lambda: peak >= 3, 10)
        gate.set()
        await _until(lambda: consumer.stats.deleted >= 6, 15)
        consumer.stop()
    assert peak == 3


async def test_messages_are_received_once_half_the_slots_are_free(aws, stack):
    # One receive per finished job costs a request each; waiting for half the slots
    # batches them. With 4 slots: one receive of 4, then none until 2 are free.
    await _drain_notification(aws, stack)
    gates = {n: anyio.Event() for n in range(8)}
    started: list[int] = []

    async def gated(message):
        n = json.loads(message["Body"])["n"]
        started.append(n)
        await gates[n].wait()
        return Disposition.done()

    await _send_numbered(aws, stack, 8)
    consumer = _consumer(aws, stack, gated, concurrency=4)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        await _until(lambda: consumer.stats.received >= 4, 10)
        gates[started[0]].set()
        await _until(lambda: consumer.stats.deleted >= 1, 10)
        assert consumer.stats.received == 4  # one slot free: no receive yet
        gates[started[1]].set()
        await _until(lambda: consumer.stats.received >= 6, 10)
        for gate in gates.values():
            gate.set()
        await _until(lambda: consumer.stats.deleted >= 8, 15)
        consumer.stop()
    assert consumer.stats.received == 8


async def test_deletes_falling_due_together_share_one_request(aws, stack):
    await _drain_notification(aws, stack)
    gate = anyio.Event()

    async def gated(message):
        await gate.wait()
        return Disposition.done()

    await _send_numbered(aws, stack, 6)
    consumer = _consumer(aws, stack, gated, concurrency=6)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consumer.run)
        await _until(lambda: consumer.stats.received >= 6, 10)
        gate.set()
        await _until(lambda: consumer.stats.deleted >= 6, 10)
        consumer.stop()
    assert consumer.stats.delete_requests == 1
    assert await _receive_now(aws.sqs, stack.queue_url) == []


async def test_a_renewal_on_the_wire_cannot_hide_a_released_message(aws, stack, moto_endpoint):
    # A lease renewal is held at an SQS front while the unfinished job is released. Were the
    # release (visibility 0) to go out first, the late renewal would hide the message again.
    await _drain_notification(aws, stack)
    started, cancelled = anyio.Event(), anyio.Event()

    async def stuck(message):
        started.set()
        try:
            await anyio.sleep_forever()
        finally:
            cancelled.set()

    await aws.sqs.send_message(QueueUrl=stack.queue_url, MessageBody="{}")
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with (
        SqsMoveEmulator(moto_endpoint) as front,
        session.client("sqs", endpoint_url=front.url) as sqs,
    ):
        front.hold("ChangeMessageVisibilityBatch")
        consumer = Consumer(
            sqs,
            stack.queue_url,
            stuck,
            concurrency=1,
            visibility_timeout=30,
            heartbeat_interval=0.2,
            wait_time_seconds=1,
            shutdown_grace=0.1,
        )
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(consumer.run)
            await front.until(lambda: front.held["ChangeMessageVisibilityBatch"] >= 1)
            consumer.stop()
            with anyio.fail_after(10):
                await cancelled.wait()
            # The release must wait for the renewal; give a wrong order a moment to show.
            with anyio.move_on_after(1):
                await front.until(lambda: front.requests["ChangeMessageVisibility"] >= 1)
            front.release("ChangeMessageVisibilityBatch")
    assert consumer.stats.released == 1
    assert len(await _receive_now(aws.sqs, stack.queue_url)) == 1
