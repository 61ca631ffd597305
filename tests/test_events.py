import json

import pytest

from locdetect_worker.events import InvalidEvent, ObjectCreated, parse_message
from tests.conftest import event_fixture


def test_direct_s3_notification_decodes_key_and_keeps_fields():
    [created] = parse_message(event_fixture("s3_put.json"))
    assert created == ObjectCreated(
        bucket="acme-blueprints",
        key="blueprints/site-a/level 2 (rev).png",
        etag="0123456789abcdef0123456789abcdef",
        size=123456,
        version_id="3HL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY",
        sequencer="0055AED6DCD90281E5",
        event_time="2026-11-27T10:00:00.000Z",
    )


def test_sns_envelope_gives_the_same_object_as_direct_delivery():
    assert parse_message(event_fixture("sns_envelope.json")) == parse_message(
        event_fixture("s3_put.json")
    )


@pytest.mark.parametrize("name", ["eventbridge.json", "sns_eventbridge.json"])
def test_eventbridge_object_created(name):
    [created] = parse_message(event_fixture(name))
    assert created.bucket == "acme-blueprints"
    assert created.key == "blueprints/site-b/ground floor.jpg"
    assert created.version_id == "IYV3p45BhZA4KZrqBV2nVhwvHwcyhaQy"
    assert created.etag == "b1946ac92492d2347c6235b4d2611184"
    assert created.event_time == "2026-11-27T10:00:00Z"


def test_several_records_keep_only_object_creations_in_order():
    created = parse_message(event_fixture("s3_two_records.json"))
    assert [c.key for c in created] == ["blueprints/a.png", "blueprints/b/c.pdf"]
    assert created[1].etag is None and created[1].sequencer is None


def test_s3_test_event_is_acknowledged_without_jobs():
    assert parse_message(event_fixture("s3_test_event.json")) == []


def test_eventbridge_other_detail_types_yield_nothing():
    event = json.loads(event_fixture("eventbridge.json"))
    event["detail-type"] = "Object Deleted"
    assert parse_message(json.dumps(event)) == []


@pytest.mark.parametrize(
    "body, fragment",
    [
        ("", "not JSON"),
        ("\x00\xff garbage", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"hello": "world"}', "not an S3 notification"),
        ('{"Records": []}', "non-empty list"),
        ('{"Records": [{"eventSource": "aws:s3"}]}', "record 0"),
        ('{"Type": "Notification", "Message": "not json"}', "SNS Message is not JSON"),
        ('{"source": "aws.s3", "detail-type": "Object Created", "detail": {}}', "EventBridge"),
    ],
)
def test_garbage_is_an_invalid_event_with_a_reason(body, fragment):
    with pytest.raises(InvalidEvent, match=fragment):
        parse_message(body)


def test_deeply_nested_json_is_an_invalid_event_not_a_crash():
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        parse_message("[" * 100_000)
    envelope = json.dumps({"Type": "Notification", "Message": "[" * 100_000})
    with pytest.raises(InvalidEvent, match="nested too deeply"):
        parse_message(envelope)


def test_nested_envelopes_are_bounded():
    body = event_fixture("s3_put.json")
    for _ in range(5):
        body = json.dumps({"Type": "Notification", "Message": body})
    with pytest.raises(InvalidEvent, match="nested"):
        parse_message(body)
