"""An emulated AWS for development and tests: moto's server plus the resources we deploy.

Creates what the CloudFormation templates create, in miniature: the blueprints
and results buckets, the events queue with its DLQ and redrive policy, and the
S3 -> SQS notification on the input prefix.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

LOCAL_REGION = "us-east-1"


@dataclass(frozen=True)
class LocalStack:
    endpoint_url: str
    blueprints_bucket: str
    results_bucket: str
    queue_url: str
    queue_arn: str
    dlq_url: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def use_fake_credentials() -> None:
    """moto accepts any credentials; make sure botocore finds some and a region."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's HTTP server on a free 127.0.0.1 port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    use_fake_credentials()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


async def create_stack(
    s3: Any,
    sqs: Any,
    endpoint_url: str,
    *,
    name: str = "locdetect",
    input_prefix: str = "blueprints/",
    max_receive_count: int = 3,
    visibility_timeout: int = 120,
) -> LocalStack:
    """Buckets, queue + DLQ (redrive after ``max_receive_count``) and the S3 notification."""
    blueprints, results = f"{name}-blueprints", f"{name}-results"
    for bucket in (blueprints, results):
        await s3.create_bucket(Bucket=bucket)
    dlq_url = (await sqs.create_queue(QueueName=f"{name}-events-dlq"))["QueueUrl"]
    dlq_arn = await _queue_arn(sqs, dlq_url)
    queue_url = (
        await sqs.create_queue(
            QueueName=f"{name}-events",
            Attributes={
                "VisibilityTimeout": str(visibility_timeout),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}
                ),
            },
        )
    )["QueueUrl"]
    queue_arn = await _queue_arn(sqs, queue_url)
    await s3.put_bucket_notification_configuration(
        Bucket=blueprints,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": queue_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": input_prefix}]}},
                }
            ]
        },
    )
    return LocalStack(endpoint_url, blueprints, results, queue_url, queue_arn, dlq_url)


async def _queue_arn(sqs: Any, queue_url: str) -> str:
    attributes = await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])
