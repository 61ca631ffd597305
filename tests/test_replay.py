"""``locdetect-worker replay`` as a real process against moto's server."""

import json
import os
import sys

import anyio
import pytest

from locdetect_worker.events import parse_message
from locdetect_worker.handler import FORCE_ATTRIBUTE
from tests.conftest import queue_depth, simple_plan_png, wait_for_object, worker_settings

FORCED = {FORCE_ATTRIBUTE: {"DataType": "String", "StringValue": "true"}}


async def replay(stack, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "LOCDETECT_QUEUE_URL": stack.queue_url,
        "LOCDETECT_ENDPOINT_URL": stack.endpoint_url,
        "LOCDETECT_REGION": "us-east-1",
    }
    command = [sys.executable, "-m", "locdetect_worker.cli", "replay", *args]
    done = await anyio.run_process(command, env=env, check=False)
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def take_all(sqs, queue_url: str) -> list[dict]:
    """Every message on the queue (consumed), without S3's test event."""
    messages = []
    while True:
        response = await sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        batch = response.get("Messages", [])
        if not batch:
            return [m for m in messages if "s3:TestEvent" not in m["Body"]]
        messages += batch
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)]
        await sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)


@pytest.fixture
async def dead_letters(aws, stack):
    """Three messages waiting in the DLQ, one with an attribute; the main queue emptied."""
    await take_all(aws.sqs, stack.queue_url)
    for index in range(3):
        await aws.sqs.send_message(
            QueueUrl=stack.dlq_url,
            MessageBody=json.dumps({"dead": index}),
            MessageAttributes={"origin": {"DataType": "String", "StringValue": f"o{index}"}},
        )
    return stack


async def test_dlq_replay_moves_messages_intact(aws, dead_letters):
    stack = dead_letters
    code, out, err = await replay(stack, "dlq")
    assert code == 0, err
    assert "replay dlq: seen 3, moved 3, failed 0" in out
    assert "StartMessageMoveTask is not available" in err  # moto lacks it: the fallback ran
    assert await queue_depth(aws.sqs, stack.dlq_url) == 0
    moved = await take_all(aws.sqs, stack.queue_url)
    assert sorted(m["Body"] for m in moved) == [json.dumps({"dead": i}) for i in range(3)]
    origins = {json.loads(m["Body"])["dead"]: m["MessageAttributes"] for m in moved}
    assert origins[2]["origin"]["StringValue"] == "o2"
    assert FORCE_ATTRIBUTE not in origins[2]


async def test_dlq_replay_max_force_and_explicit_dlq(aws, dead_letters):
    stack = dead_letters
    code, out, err = await replay(stack, "dlq", "--max", "2", "--force", "--dlq-url", stack.dlq_url)
    assert code == 0, err
    assert "moved 2" in out
    assert await queue_depth(aws.sqs, stack.dlq_url) == 1
    moved = await take_all(aws.sqs, stack.queue_url)
    assert len(moved) == 2
    assert all(m["MessageAttributes"][FORCE_ATTRIBUTE]["StringValue"] == "true" for m in moved)
    assert all("origin" in m["MessageAttributes"] for m in moved)


async def test_dlq_dry_run_changes_nothing(aws, dead_letters):
    stack = dead_letters
    code, out, err = await replay(stack, "dlq", "--dry-run")
    assert code == 0, err
    assert "(dry run)" in out and "would be moved 3" in out
    assert await queue_depth(aws.sqs, stack.dlq_url) == 3
    assert await queue_depth(aws.sqs, stack.queue_url) == 0
    response = await aws.sqs.receive_message(QueueUrl=stack.dlq_url, MaxNumberOfMessages=10)
    assert len(response["Messages"]) == 3  # still visible: nothing was received


async def test_dlq_replay_keeps_what_it_could_not_send(aws, dead_letters):
    stack = dead_letters
    missing = stack.queue_url + "-missing"
    code, out, err = await replay(
        stack, "dlq", "--max", "10", "--queue-url", missing, "--dlq-url", stack.dlq_url
    )
    assert code == 1
    assert "moved 0, failed 3" in out and "NonExistentQueue" in err
    assert await queue_depth(aws.sqs, stack.dlq_url) == 3


async def archive_objects(aws, stack) -> dict[str, dict]:
    """Objects outside the notified prefix, so only replay announces them."""
    uploaded = {}
    for key in ("archive/site a/level+1.png", "archive/plan é.pdf", "archive/b.png"):
        put = await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key=key, Body=key.encode())
        uploaded[key] = {"etag": put["ETag"].strip('"'), "size": len(key.encode())}
    await aws.s3.put_object(Bucket=stack.blueprints_bucket, Key="elsewhere/c.png", Body=b"c")
    await take_all(aws.sqs, stack.queue_url)
    return uploaded


async def test_s3_replay_sends_s3_shaped_events(aws, stack):
    uploaded = await archive_objects(aws, stack)
    code, out, err = await replay(
        stack, "s3", "--bucket", stack.blueprints_bucket, "--prefix", "archive/"
    )
    assert code == 0, err
    assert "replay s3: seen 3, sent 3, failed 0" in out
    announced, raw_keys = {}, set()
    for message in await take_all(aws.sqs, stack.queue_url):
        [created] = parse_message(message["Body"])
        announced[created.key] = {"etag": created.etag, "size": created.size}
        assert created.bucket == stack.blueprints_bucket
        raw_keys.add(json.loads(message["Body"])["Records"][0]["s3"]["object"]["key"])
    assert announced == uploaded
    assert "archive/site+a/level%2B1.png" in raw_keys


async def test_s3_replay_time_window_and_dry_run(aws, stack):
    await archive_objects(aws, stack)
    future = "2100-01-01T00:00:00Z"
    code, out, _ = await replay(
        stack, "s3", "--bucket", stack.blueprints_bucket, "--prefix", "archive/", "--since", future
    )
    assert code == 0 and "seen 0, sent 0" in out
    code, out, _ = await replay(
        stack,
        "s3",
        "--bucket",
        stack.blueprints_bucket,
        "--prefix",
        "archive/",
        "--until",
        future,
        "--dry-run",
    )
    assert code == 0 and "would be sent 3" in out
    assert await queue_depth(aws.sqs, stack.queue_url) == 0


async def test_s3_replay_reprocesses_only_when_forced(aws, stack, start_worker):
    await aws.s3.put_bucket_versioning(
        Bucket=stack.results_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    await start_worker(worker_settings(stack))
    await aws.s3.put_object(
        Bucket=stack.blueprints_bucket, Key="blueprints/again.png", Body=simple_plan_png()
    )
    await wait_for_object(aws.s3, stack.results_bucket, "results/again.json")

    async def result_versions() -> int:
        with anyio.fail_after(60):
            while await queue_depth(aws.sqs, stack.queue_url):
                await anyio.sleep(0.1)
        listing = await aws.s3.list_object_versions(
            Bucket=stack.results_bucket, Prefix="results/again.json"
        )
        return len(listing["Versions"])

    assert await result_versions() == 1
    code, _, err = await replay(stack, "s3", "--bucket", stack.blueprints_bucket)
    assert code == 0, err
    assert await result_versions() == 1  # the result exists for this ETag: skipped
    code, _, err = await replay(stack, "s3", "--bucket", stack.blueprints_bucket, "--force")
    assert code == 0, err
    assert await result_versions() == 2


async def test_file_replay_resends_archived_bodies(aws, stack, tmp_path):
    await take_all(aws.sqs, stack.queue_url)
    archived = {
        "MessageId": "x",
        "Body": '{"archived": true}',
        "MessageAttributes": {"origin": {"DataType": "String", "StringValue": "dlq"}},
    }
    lines = [json.dumps({"plain": 1}), "", json.dumps(archived), "{not json", json.dumps([1, 2])]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")

    code, out, _ = await replay(stack, "file", str(events), "--dry-run")
    assert code == 1  # the broken line counts as a failure even in a dry run
    assert "seen 3, would be sent 3, failed 1" in out
    assert await queue_depth(aws.sqs, stack.queue_url) == 0

    code, out, err = await replay(stack, "file", str(events), "--force")
    assert code == 1
    assert "seen 3, sent 3, failed 1" in out
    assert "events.jsonl:4: skipped: not JSON" in err
    messages = await take_all(aws.sqs, stack.queue_url)
    sent = {m["Body"]: m.get("MessageAttributes", {}) for m in messages}
    assert set(sent) == {'{"plain": 1}', '{"archived": true}', "[1, 2]"}
    assert sent['{"archived": true}']["origin"]["StringValue"] == "dlq"
    assert all(attributes[FORCE_ATTRIBUTE]["StringValue"] == "true" for attributes in sent.values())


async def test_dlq_replay_needs_a_redrive_policy_or_a_dlq_url(aws, stack):
    name = stack.queue_url.rsplit("/", 1)[1] + "-plain"
    plain = (await aws.sqs.create_queue(QueueName=name))["QueueUrl"]
    code, _, err = await replay(stack, "dlq", "--queue-url", plain)
    assert code == 2
    assert "has no RedrivePolicy: pass --dlq-url" in err
