"""Inference ids, S3 URIs and the SageMaker notification parser."""

import json

import pytest

from backends.sagemaker_records import inference_id_for, parse_outcome, split_s3_uri
from locdetect_worker.results import S3Source

COMPLETED = {
    "awsRegion": "us-east-1",
    "eventTime": "2026-11-27T10:00:03.123Z",
    "receivedTime": "2026-11-27T10:00:00.456Z",
    "invocationStatus": "Completed",
    "requestParameters": {
        "accept": "application/json",
        "contentType": "image/png",
        "endpointName": "locdetect",
        "inputLocation": "s3://in/blueprints/site a/l1.png",
    },
    "responseParameters": {
        "contentType": "application/json",
        "outputLocation": "s3://out/sagemaker/outputs/0b1c.out",
    },
    "inferenceId": "ld-abc",
    "eventVersion": "1.0",
    "eventSource": "aws:sagemaker",
    "eventName": "InferenceResult",
}
FAILED = {
    **{k: v for k, v in COMPLETED.items() if k != "responseParameters"},
    "invocationStatus": "Failed",
    "failureReason": "ClientError: Received client error (400) from primary",
}


def sns_envelope(message: dict) -> str:
    return json.dumps(
        {
            "Type": "Notification",
            "MessageId": "5e3f",
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:locdetect-success",
            "Message": json.dumps(message),
            "Timestamp": "2026-11-27T10:00:03.200Z",
        }
    )


@pytest.mark.parametrize("wrap", [json.dumps, sns_envelope], ids=["raw", "sns"])
def test_completed_and_failed_notifications(wrap):
    done = parse_outcome(wrap(COMPLETED))
    assert done.invocationStatus == "Completed"
    assert done.inferenceId == "ld-abc"
    assert done.requestParameters.inputLocation == "s3://in/blueprints/site a/l1.png"
    assert done.responseParameters.outputLocation == "s3://out/sagemaker/outputs/0b1c.out"
    failed = parse_outcome(wrap(FAILED))
    assert failed.invocationStatus == "Failed"
    assert failed.responseParameters is None
    assert failed.failureReason.startswith("ClientError")


@pytest.mark.parametrize("wrap", [json.dumps, sns_envelope], ids=["raw", "sns"])
def test_test_notification_is_ignored(wrap):
    assert parse_outcome(wrap({"eventName": "TestNotification"})) is None


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"Records": []}),
        json.dumps({**COMPLETED, "invocationStatus": "Pending"}),
        json.dumps({k: v for k, v in COMPLETED.items() if k != "responseParameters"}),
        json.dumps({k: v for k, v in COMPLETED.items() if k != "inferenceId"}),
        sns_envelope({"hello": "world"}),
        json.dumps({"Type": "Notification", "Message": 123}),  # json.loads: TypeError
        "[" * 100_000,  # json.loads: RecursionError
        json.dumps({"Type": "Notification", "Message": "[" * 100_000}),
    ],
)
def test_anything_else_is_invalid(body):
    with pytest.raises(ValueError):
        parse_outcome(body)


def test_inference_id_is_stable_per_object_version():
    source = S3Source(bucket="b", key="blueprints/a.png", etag="abc")
    same = S3Source(bucket="b", key="blueprints/a.png", etag='"abc"', size=10)
    assert inference_id_for(source) == inference_id_for(same)
    assert len(inference_id_for(source)) <= 64
    for other in (
        S3Source(bucket="b", key="blueprints/a.png", etag="abd"),
        S3Source(bucket="b", key="blueprints/b.png", etag="abc"),
        S3Source(bucket="c", key="blueprints/a.png", etag="abc"),
    ):
        assert inference_id_for(other) != inference_id_for(source)


def test_split_s3_uri():
    assert split_s3_uri("s3://bucket/a/b c.png") == ("bucket", "a/b c.png")
    for bad in ("bucket/key", "s3://bucket", "s3:///key", "https://x/y"):
        with pytest.raises(ValueError):
            split_s3_uri(bad)
