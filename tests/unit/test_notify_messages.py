"""Notification targets and messages: parsing what users write, building and reading messages."""

from __future__ import annotations

import json

import pytest

from s32s.errors import ConfigError
from s32s.notify.message import RUN_FIELDS, read_message, run_message, run_status
from s32s.notify.targets import SNS, SQS, parse_target, parse_targets
from s32s.paths import S3Url
from s32s.sync.events import Report

ARN = "arn:aws:sns:eu-west-1:123456789012:site-updates"


@pytest.mark.parametrize(
    ("text", "kind", "name", "url", "arn", "region"),
    [
        ("sqs://site-updates", SQS, "site-updates", None, None, None),
        ("site-updates", SQS, "site-updates", None, None, None),
        ("sqs://jobs.fifo", SQS, "jobs.fifo", None, None, None),
        (
            "https://sqs.eu-west-1.amazonaws.com/123456789012/site",
            SQS,
            None,
            "https://sqs.eu-west-1.amazonaws.com/123456789012/site",
            None,
            "eu-west-1",
        ),
        (f"sns:{ARN}", SNS, None, None, ARN, "eu-west-1"),
        (ARN, SNS, None, None, ARN, "eu-west-1"),
    ],
)
def test_targets_spellings(text, kind, name, url, arn, region) -> None:
    target = parse_target(text)
    assert (target.kind, target.queue_name, target.queue_url, target.topic_arn) == (
        kind,
        name,
        url,
        arn,
    )
    assert target.region == region
    assert str(target) == text


def test_a_local_queue_url_is_its_own_endpoint() -> None:
    local = parse_target("http://127.0.0.1:5000/123456789012/q1")
    assert local.endpoint_url == "http://127.0.0.1:5000"
    aws = parse_target("https://sqs.us-east-2.amazonaws.com/123456789012/q1")
    assert aws.endpoint_url is None


@pytest.mark.parametrize(
    "text",
    [
        "sqs://",
        "sqs://has space",
        "sns:arn:aws:sqs:eu-west-1:123456789012:q",
        "sns:arn:aws:sns:eu-west-1:notanaccount:topic",
        "https://sqs.eu-west-1.amazonaws.com/only-one-part",
        "ftp://example.com/x",
        "s3://bucket/prefix",
    ],
)
def test_bad_targets_name_the_option_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_target(text, where="s32s.ini: [MAIN] notify")
    assert caught.value.message.startswith("s32s.ini: [MAIN] notify:")
    assert repr(text) in caught.value.message
    assert caught.value.hint


def test_several_targets_in_one_ini_value_without_repeats() -> None:
    targets = parse_targets(f"sqs://a, sqs://b  sns:{ARN},sqs://a", where="notify")
    assert [str(target) for target in targets] == ["sqs://a", "sqs://b", f"sns:{ARN}"]


def report(**changes) -> Report:
    base = Report(
        name="site", source="/srv/site", destination="s3://bkt/site", started_at=1700000000.4
    )
    base.seconds = 2.2
    for key, value in changes.items():
        setattr(base, key, value)
    return base


def test_run_message_has_exactly_the_documented_fields() -> None:
    message = run_message("push", report(copied=3, bytes_copied=5120, deleted=1), log=None)
    assert tuple(message) == RUN_FIELDS
    assert message == {
        "event": "s32s.run",
        "version": 1,
        "command": "push",
        "name": "site",
        "source": "/srv/site",
        "destination": "s3://bkt/site",
        "status": "ok",
        "copied": 3,
        "deleted": 1,
        "failed": 0,
        "bytes": 5120,
        "started": "2023-11-14T22:13:20Z",
        "ended": "2023-11-14T22:13:22Z",
        "log": None,
    }


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, "ok"),
        ({"failed": {"a": "denied"}, "copied": 2}, "partial"),
        ({"failed": {"a": "denied"}}, "failed"),
        ({"refused": ["would delete everything"]}, "refused"),
    ],
)
def test_run_status(changes, status) -> None:
    assert run_status(report(**changes)) == status


# --------------------------------------------------------------------------- reading
SITE = S3Url("bkt", "site")
OTHER = S3Url("bkt", "other")


def s3_event(key: str, name: str = "ObjectCreated:Put", bucket: str = "bkt") -> dict:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "eventName": name,
                "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 3}},
            }
        ]
    }


def sns_envelope(inner: dict) -> dict:
    return {
        "Type": "Notification",
        "MessageId": "5c0a3e3e-0000-0000-0000-000000000000",
        "TopicArn": ARN,
        "Message": json.dumps(inner),
    }


def test_run_message_read_back_changes_its_destination_only() -> None:
    incoming = read_message(json.dumps(run_message("push", report(copied=1))))
    assert incoming.kind == "run"
    assert incoming.changed(SITE)
    assert incoming.changed(S3Url("bkt", "site/sub"))  # a map inside the pushed prefix
    assert incoming.changed(S3Url("bkt"))  # a map over the whole bucket
    assert not incoming.changed(OTHER)
    assert not incoming.changed(S3Url("bkt", "sitemap"))  # a sibling sharing the first letters


def test_a_run_that_changed_nothing_is_about_the_map_but_asks_no_pull() -> None:
    incoming = read_message(json.dumps(run_message("push", report())))
    assert not incoming.changed(SITE)
    assert incoming.is_about(SITE)
    assert not incoming.is_about(OTHER)


def test_a_pull_into_a_local_folder_concerns_no_map() -> None:
    pulled = report(copied=4)
    pulled.source, pulled.destination = "s3://bkt/site", "/srv/slave"
    incoming = read_message(json.dumps(run_message("pull", pulled)))
    assert not incoming.changed(SITE) and not incoming.is_about(SITE)


def test_s3_events_created_and_removed_with_encoded_keys() -> None:
    created = read_message(json.dumps(s3_event("site/new+file%C3%A9.txt")))
    assert created.kind == "s3-event"
    assert created.changed(SITE) and not created.changed(OTHER)
    assert created.changes[0].key == "site/new fileé.txt"
    removed = read_message(json.dumps(s3_event("site/a.txt", "ObjectRemoved:Delete")))
    assert removed.changed(SITE)
    restored = read_message(json.dumps(s3_event("site/a.txt", "ObjectRestore:Completed")))
    assert not restored.changed(SITE) and restored.is_about(SITE)
    elsewhere = read_message(json.dumps(s3_event("site/a.txt", bucket="another")))
    assert not elsewhere.changed(SITE) and not elsewhere.is_about(SITE)


def test_sns_wrapped_forms_are_unwrapped() -> None:
    wrapped_event = read_message(json.dumps(sns_envelope(s3_event("site/x.jpg"))))
    assert wrapped_event.kind == "s3-event" and wrapped_event.changed(SITE)
    wrapped_run = read_message(json.dumps(sns_envelope(run_message("sync", report(deleted=2)))))
    assert wrapped_run.kind == "run" and wrapped_run.changed(SITE)


def test_the_s3_test_event_changes_nothing() -> None:
    test_event = {
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": "2024-01-15T10:30:00.000Z",
        "Bucket": "bkt",
        "RequestId": "5582815E1AEA5ADF",
        "HostId": "8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE",
    }
    for body in (test_event, sns_envelope(test_event)):
        incoming = read_message(json.dumps(body))
        assert incoming.kind == "s3-test"
        assert not incoming.changed(SITE)
        assert incoming.is_about(SITE) and not incoming.is_about(S3Url("elsewhere"))


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"hello": "world"}),
        json.dumps({"Records": "nope"}),
        json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]}),
        json.dumps({"Type": "Notification", "Message": "{broken"}),
        json.dumps({"event": "s32s.run", "destination": "s3://"}),
    ],
)
def test_anything_else_is_never_an_error_and_changes_nothing(body: str) -> None:
    incoming = read_message(body)
    assert not incoming.changed(SITE)
    assert not incoming.is_about(SITE)


def test_notification_clients_pick_region_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    from s32s.aws.clients import AwsOptions, ClientFactory
    from s32s.notify.send import client_for

    factory = ClientFactory(AwsOptions(region="us-east-1", endpoint_url="http://s3.local:9000"))
    topic = client_for(parse_target(f"sns:{ARN}"), factory)
    assert topic.meta.region_name == "eu-west-1"
    assert topic.meta.endpoint_url == "http://s3.local:9000"  # the global endpoint by default
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", "https://sqs.us-east-1.amazonaws.com")
    queue = client_for(parse_target("sqs://q"), factory)
    assert queue.meta.endpoint_url == "https://sqs.us-east-1.amazonaws.com"
    local = client_for(parse_target("http://127.0.0.1:5000/123456789012/q"), factory)
    assert local.meta.endpoint_url == "http://127.0.0.1:5000"
    snow = ClientFactory(AwsOptions(region="snow", endpoint_url="https://192.168.1.50:8443"))
    monkeypatch.delenv("AWS_ENDPOINT_URL_SQS")
    from_device = client_for(parse_target("sqs://q"), snow)
    assert from_device.meta.region_name != "snow"
    assert from_device.meta.endpoint_url != "https://192.168.1.50:8443"
