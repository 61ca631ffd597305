"""The SageMaker backend against the emulator, the real container process and moto's server.

Each test hands jobs over with ``process`` (what the consumer does) while the
backend's ``serve()`` runs the outcome listener and the sweeper; assertions are
on what lands in S3 (results, overlays, markers) and what stays in SQS.
"""

import io
import json
from datetime import UTC, datetime

import aioboto3
import anyio
import pytest
import structlog
from botocore.exceptions import ClientError
from structlog.contextvars import merge_contextvars
from structlog.testing import LogCapture

from backends.sagemaker import SageMakerBackend
from backends.sagemaker_records import Marker, inference_id_for, parse_outcome
from locdetect_worker.analysis import analyse_blueprint
from locdetect_worker.aws import AwsClients
from locdetect_worker.config import ConfigError
from locdetect_worker.decode import DecodeLimits
from locdetect_worker.errors import JobError
from locdetect_worker.local_stack import LOCAL_REGION
from locdetect_worker.metrics import JobMetrics
from locdetect_worker.results import S3Source
from locdetect_worker.storage import ResultStore
from tests.conftest import simple_plan_png, worker_settings
from tests.sagemaker_fixtures import container_url_fixture, sagemaker_env, wait_until  # noqa: F401

JOB_CONTEXT = ("job_id", "bucket", "key", "inference_id")


@pytest.fixture
def logs():
    """The structlog events of the test, with the bound context merged in."""
    saved = structlog.get_config()
    capture = LogCapture()
    structlog.configure(processors=[merge_contextvars, capture])
    yield capture.entries
    structlog.configure(**saved)


def events(logs, name):
    return [entry for entry in logs if entry["event"] == name]


def logged(logs, name, count=1):
    async def check():
        return len(events(logs, name)) >= count

    return check


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
        emf = io.StringIO()
        env.backend.metrics = JobMetrics("locdetect-test", stream=emf)
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
        # One EMF record per written result, none for the duplicates.
        records = [json.loads(line) for line in emf.getvalue().splitlines()]
        assert sorted((r["job_id"], r["status"], r["Backend"]) for r in records) == [
            ("twice", "succeeded", "sagemaker"),
            ("twice-bad", "failed", "sagemaker"),
        ]
        assert [r["JobsSucceeded"] for r in records if r["job_id"] == "twice"] == [1]


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
        await aws.sqs.send_message(
            QueueUrl=env.local.outcomes_queue_url, MessageBody=json.dumps(stale)
        )
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


async def _outcomes_left(env, count):
    return await env.outcomes_left() == count


async def test_bad_messages_neither_stop_the_listener_nor_get_lost(aws, stack, container_url, logs):
    async with sagemaker_env(aws, stack, container_url) as env:
        queue = env.local.outcomes_queue_url
        for garbage in (json.dumps({"Type": "Notification", "Message": 123}), "[" * 100_000):
            await aws.sqs.send_message(QueueUrl=queue, MessageBody=garbage)
        blocked = await env.upload("blocked.png", simple_plan_png())
        unreadable = {  # valid, but its output cannot be read: a transient failure
            "invocationStatus": "Completed",
            "inferenceId": inference_id_for(blocked.source),
            "requestParameters": {"inputLocation": job_input(blocked)},
            "responseParameters": {"outputLocation": "s3://no-such-bucket-here/x.out"},
            "eventName": "InferenceResult",
        }
        await aws.sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(unreadable))
        job = await env.upload("after.png", simple_plan_png())
        await env.backend.process(job)
        assert (await env.result("after"))["status"] == "succeeded"  # the listener lives on
        await wait_until(logged(logs, "outcome_failed"))
        await wait_until(lambda: _outcomes_left(env, 1))  # garbage dropped, the failure kept
    [failed] = events(logs, "outcome_failed")
    assert {k: failed[k] for k in JOB_CONTEXT} == {
        "job_id": "blocked",
        "bucket": stack.blueprints_bucket,
        "key": "blueprints/blocked.png",
        "inference_id": inference_id_for(blocked.source),
    }
    assert failed["exc_info"] and failed["message_id"]
    invalid = events(logs, "outcome_invalid")
    assert len(invalid) == 2
    assert all(entry["message_id"] for entry in invalid)


async def test_listener_backs_off_on_any_botocore_error(aws, stack, monkeypatch, tmp_path, logs):
    """No credentials (NoCredentialsError is no ClientError): the listener waits and retries."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    settings = worker_settings(
        stack, backend="sagemaker", sagemaker_endpoint="ep", outcomes_queue_url=stack.queue_url
    )
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with (
        session.client("sqs", endpoint_url=aws.endpoint_url) as sqs,
        session.client("sagemaker-runtime", endpoint_url=aws.endpoint_url) as runtime,
    ):
        clients = AwsClients(s3=aws.s3, sqs=sqs, sagemaker_runtime=runtime)
        backend = SageMakerBackend(settings, clients, ResultStore(aws.s3, stack.results_bucket))
        backend.backoff_base = 0.01  # type: ignore[misc]
        async with anyio.create_task_group() as group:
            group.start_soon(backend.serve)
            await wait_until(logged(logs, "outcomes_receive_failed", 4), within=10)
            group.cancel_scope.cancel()
    failures = events(logs, "outcomes_receive_failed")
    assert failures[0]["error"].startswith("NoCredentialsError")
    delays = [entry["delay"] for entry in failures[:4]]
    assert delays == sorted(delays) and delays[-1] > delays[0]


async def test_unreachable_outcomes_queue_fails_start_up(aws, stack):
    queue_url = f"{aws.endpoint_url}/123456789012/no-such-outcomes-queue"
    settings = worker_settings(
        stack, backend="sagemaker", sagemaker_endpoint="ep", outcomes_queue_url=queue_url
    )
    session = aioboto3.Session(region_name=LOCAL_REGION)
    async with session.client("sagemaker-runtime", endpoint_url=aws.endpoint_url) as runtime:
        clients = AwsClients(s3=aws.s3, sqs=aws.sqs, sagemaker_runtime=runtime)
        backend = SageMakerBackend(settings, clients, ResultStore(aws.s3, stack.results_bucket))
        with pytest.raises(ConfigError, match="LOCDETECT_OUTCOMES_QUEUE_URL"):
            async with backend:
                pass


async def _outcomes(env, count):
    """The notifications the endpoint published, taken off the queue (no listener runs)."""
    found = {}
    with anyio.fail_after(60):
        while len(found) < count:
            response = await env.aws.sqs.receive_message(
                QueueUrl=env.local.outcomes_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            )
            for message in response.get("Messages", []):
                outcome = parse_outcome(message["Body"])
                if outcome is not None:
                    found[outcome.inferenceId] = outcome
    return found


async def test_late_outcome_of_an_older_version_is_discarded(aws, stack, container_url, logs):
    async with sagemaker_env(aws, stack, container_url, serve=False) as env:
        old = await env.upload("p.png", simple_plan_png(rooms_across=2))
        await env.backend.process(old)
        new = await env.upload("p.png", simple_plan_png(rooms_across=3))
        await env.backend.process(new)
        outcomes = await _outcomes(env, 2)
        # The newer version's notification arrives first, the older one's late.
        await env.backend.apply_outcome(outcomes[inference_id_for(new.source)])
        await env.backend.apply_outcome(outcomes[inference_id_for(old.source)])
        document = await env.result("p")
        assert document["source"]["etag"] == new.source.etag
        assert len(document["rooms"]) == 6
        assert await env.result_versions("p") == 1
        assert await env.pending() == []
    [discarded] = events(logs, "job_result_discarded")
    assert "changed" in discarded["reason"]


async def test_sweeper_discards_the_outcome_of_a_replaced_object(aws, stack, container_url, logs):
    async with sagemaker_env(aws, stack, container_url, serve=False, deadline=0) as env:
        old = await env.upload("q.png", simple_plan_png())
        await env.backend.process(old)
        await env.emulator.wait_idle()
        await env.upload("q.png", simple_plan_png(rooms_across=3))  # its own event comes later
        await env.backend.sweep()
        assert await env.result_versions("q") == 0
        assert await env.pending() == []
    [discarded] = events(logs, "job_result_discarded")
    assert discarded["job_id"] == "q" and "changed" in discarded["reason"]


async def test_overlay_failure_still_stores_the_rooms(aws, stack, container_url, logs):
    # The overlay is drawn within detect_timeout; 1 ms is too short to draw anything.
    async with sagemaker_env(aws, stack, container_url, detect_timeout=0.001) as env:
        job = await env.upload("plain.png", simple_plan_png())
        await env.backend.process(job)
        document = await env.result("plain")
        assert document["status"] == "succeeded"
        assert len(document["rooms"]) == 4
        assert "overlay" not in document["timings_ms"]
        with pytest.raises(ClientError):
            await _overlay(env, "plain")
    [skipped] = events(logs, "sagemaker_overlay_skipped")
    assert skipped["error"].startswith("TimeoutError")
    assert skipped["exc_info"]
    assert skipped["job_id"] == "plain" and skipped["key"] == "blueprints/plain.png"
    assert skipped["inference_id"] == inference_id_for(job.source)


async def test_redelivered_event_keeps_the_attempt_count(aws, stack, container_url):
    async with sagemaker_env(
        aws, stack, container_url, serve=False, deadline=0, sagemaker_max_attempts=2
    ) as env:
        env.emulator.faults.lose_invocations = 2
        job = await env.upload("lost.png", simple_plan_png())
        for _ in range(3):  # the event delivered three times, each after the deadline
            await env.backend.process(job)
            await env.emulator.wait_idle()
        assert env.emulator.stats["accepted"] == 2  # the third was over the bound
        [key] = await env.pending()
        response = await aws.s3.get_object(Bucket=stack.results_bucket, Key=key)
        async with response["Body"] as body:
            assert json.loads(await body.read())["attempt"] == 2
        await env.backend.sweep()
        document = await env.result("lost", within=1)
        assert document["error"]["code"] == "endpoint_timeout"
        assert "2 attempt(s)" in document["error"]["message"]


async def test_sweep_works_through_a_backlog_with_a_fixed_pool(aws, stack, container_url, logs):
    async with sagemaker_env(
        aws, stack, container_url, serve=False, deadline=0, sagemaker_max_attempts=1
    ) as env:
        backend = env.backend
        backend.sweep_workers = 3  # type: ignore[misc]
        names = [f"gone-{i}" for i in range(30)] + ["broken"]
        for name in names:
            await _put_marker(env, name)
        peak = 0

        async def watch():  # the most tasks the backend ran at once
            nonlocal peak
            while True:
                tasks = [t for t in anyio.get_running_tasks() if "SageMakerBackend" in t.name]
                peak = max(peak, len(tasks))
                await anyio.sleep(0.001)

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            await backend.sweep()
            group.cancel_scope.cancel()
        assert 0 < peak <= backend.sweep_workers
        for name in names[:-1]:
            assert (await env.result(name, within=1))["error"]["code"] == "endpoint_timeout"
        assert await env.pending() == ["pending/ld-broken.json"]
    [failed] = events(logs, "sweep_marker_failed")
    assert {k: failed[k] for k in JOB_CONTEXT} == {
        "job_id": "broken",
        "bucket": stack.blueprints_bucket,
        "key": "blueprints/broken.png",
        "inference_id": "ld-broken",
    }


async def _put_marker(env, name):
    """An overdue marker whose endpoint never answered; ``broken`` has a corrupt location."""
    now = datetime.now(UTC)
    bucket = env.stack.results_bucket
    marker = Marker(
        inference_id=f"ld-{name}",
        job_id=name,
        source=S3Source(
            bucket=env.stack.blueprints_bucket, key=f"blueprints/{name}.png", etag="e0"
        ),
        content_type="image/png",
        attempt=1,
        submitted_at=now,
        deadline=now,
        input_location=f"s3://{env.stack.blueprints_bucket}/blueprints/{name}.png",
        output_location=f"s3://{bucket}/out/{name}.out" if name != "broken" else "s3://nokey",
    )
    await env.aws.s3.put_object(
        Bucket=bucket, Key=f"pending/ld-{name}.json", Body=marker.model_dump_json().encode()
    )
