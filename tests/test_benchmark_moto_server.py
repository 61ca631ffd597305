"""The benchmarks' moto front: the same S3 and SQS, on persistent connections."""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

import aioboto3
import pytest

from locdetect_worker.local_stack import LOCAL_REGION, free_port, use_fake_credentials

SERVER = Path(__file__).resolve().parent.parent / "benchmarks" / "moto_server.py"


@pytest.fixture
def endpoint():
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SERVER), str(port)])
    try:
        deadline = time.monotonic() + 30
        while True:  # until it answers
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, "no server"
                time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(30)


def test_requests_share_one_connection(endpoint):
    connection = http.client.HTTPConnection("127.0.0.1", endpoint, timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert not response.will_close  # werkzeug's server would close it here
    finally:
        connection.close()


async def test_serves_s3_and_sqs(endpoint):
    use_fake_credentials()
    session = aioboto3.Session(region_name=LOCAL_REGION)
    url = f"http://127.0.0.1:{endpoint}"
    async with (
        session.client("s3", endpoint_url=url) as s3,
        session.client("sqs", endpoint_url=url) as sqs,
    ):
        await s3.create_bucket(Bucket="bench-front")
        await s3.put_object(Bucket="bench-front", Key="plan.png", Body=b"x" * 100_000)
        head = await s3.head_object(Bucket="bench-front", Key="plan.png")
        assert head["ContentLength"] == 100_000
        queue = (await sqs.create_queue(QueueName="bench-front"))["QueueUrl"]
        await sqs.send_message(QueueUrl=queue, MessageBody="hello")
        received = await sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)
        assert [m["Body"] for m in received["Messages"]] == ["hello"]
