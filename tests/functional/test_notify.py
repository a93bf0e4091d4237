"""--notify and `notify =`: run messages received from SQS queues and through SNS → SQS on a moto server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s32s.notify.message import RUN_FIELDS, read_message
from s32s.paths import S3Url

BUCKET = "notify-bkt"


@pytest.fixture
def aws(moto_clients: dict[str, Any]) -> dict[str, Any]:
    moto_clients["s3"].create_bucket(Bucket=BUCKET)
    return moto_clients


@pytest.fixture
def site(aws: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """A master folder with three files, a map, and an ini without notify."""
    master, slave = tmp_path / "master", tmp_path / "slave"
    master.mkdir()
    for index in range(3):
        (master / f"page{index}.html").write_text(f"<p>{index}</p>" * (index + 1))
    maps = [{"name": "site", "s3": f"{BUCKET}/site", "master": str(master), "slave": str(slave)}]
    map_file = tmp_path / "maps.json"
    map_file.write_text(json.dumps(maps))
    ini = tmp_path / "s32s.ini"
    ini.write_text(f"[MAIN]\nismaster = True\n[MASTER]\nmaps_s3_path = {map_file}\n")
    return {"master": master, "slave": slave, "ini": ini, "tmp": tmp_path}


def receive_all(sqs: Any, queue_url: str, expected: int = 1) -> list[str]:
    """Message bodies, deleting them; waits (long poll) for `expected` of them."""
    bodies: list[str] = []
    for _ in range(10):
        answer = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        for message in answer.get("Messages", []):
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= expected:
            break
    return bodies


def test_push_notifies_an_sqs_queue_by_name(cli, aws, site) -> None:
    queue_url = aws["sqs"].create_queue(QueueName="site-updates")["QueueUrl"]
    result = cli(
        "--config", str(site["ini"]), "--endpoint-url", aws["url"],
        "master", "push", "site", "--notify", "sqs://site-updates",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [body] = receive_all(aws["sqs"], queue_url)
    message = json.loads(body)
    assert tuple(message) == RUN_FIELDS
    sizes = sum(path.stat().st_size for path in site["master"].iterdir())
    assert message["event"] == "s32s.run" and message["version"] == 1
    assert (message["command"], message["name"], message["status"]) == ("push", "site", "ok")
    assert message["source"] == str(site["master"])
    assert message["destination"] == f"s3://{BUCKET}/site"
    assert (message["copied"], message["deleted"], message["failed"]) == (3, 0, 0)
    assert message["bytes"] == sizes
    assert message["started"] <= message["ended"]
    assert message["started"].endswith("Z") and message["log"] is None


def test_sync_notifies_through_sns_to_a_subscribed_queue(cli, aws, site) -> None:
    topic = aws["sns"].create_topic(Name="site-topic")["TopicArn"]
    queue_url = aws["sqs"].create_queue(QueueName="slave-a")["QueueUrl"]
    queue_arn = aws["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    result = cli(
        "--endpoint-url", aws["url"], "--json",
        "sync", str(site["master"]), f"s3://{BUCKET}/mirror", "--notify", f"sns:{topic}",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.json["maps"][0]["warnings"] == []
    [body] = receive_all(aws["sqs"], queue_url)
    envelope = json.loads(body)
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
    message = json.loads(envelope["Message"])
    assert (message["command"], message["name"], message["copied"]) == ("sync", "sync", 3)
    assert message["destination"] == f"s3://{BUCKET}/mirror"
    assert read_message(body).changed(S3Url(BUCKET, "mirror"))


def test_ini_notify_is_used_and_notify_option_replaces_it(cli, aws, site) -> None:
    from_ini = aws["sqs"].create_queue(QueueName="from-ini")["QueueUrl"]
    from_flag = aws["sqs"].create_queue(QueueName="from-flag")["QueueUrl"]
    second = aws["sqs"].create_queue(QueueName="second")["QueueUrl"]
    site["ini"].write_text(
        site["ini"].read_text().replace("[MASTER]", "notify = sqs://from-ini\n[MASTER]")
    )
    base = ["--config", str(site["ini"]), "--endpoint-url", aws["url"], "master", "push", "site"]
    assert cli(*base).exit_code == 0
    assert [json.loads(body)["copied"] for body in receive_all(aws["sqs"], from_ini)] == [3]
    (site["master"] / "new.txt").write_text("new")
    # A queue URL works as well as a name; both flags are used, the ini's queue is not.
    assert cli(*base, "--notify", from_flag, "--notify", "sqs://second").exit_code == 0
    assert [json.loads(body)["copied"] for body in receive_all(aws["sqs"], from_flag)] == [1]
    assert [json.loads(body)["copied"] for body in receive_all(aws["sqs"], second)] == [1]
    assert receive_all(aws["sqs"], from_ini, 0) == []


def test_a_failed_notification_is_a_warning_not_a_failed_run(cli, aws, site) -> None:
    result = cli(
        "--config", str(site["ini"]), "--endpoint-url", aws["url"], "--json",
        "master", "push", "site", "--notify", "sqs://no-such-queue",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    [warning] = result.json["maps"][0]["warnings"]
    assert warning.startswith("Could not notify sqs://no-such-queue:")
    assert "not affected" in warning
    assert "Could not notify sqs://no-such-queue" in result.stderr
    objects = aws["s3"].list_objects_v2(Bucket=BUCKET, Prefix="site/")["KeyCount"]
    assert objects == 3


def test_an_unreachable_notification_endpoint_is_a_warning(cli, aws, site) -> None:
    from tests.s3servers import free_port

    dead = f"http://127.0.0.1:{free_port()}/123456789012/q"
    result = cli(
        "--config", str(site["ini"]), "--endpoint-url", aws["url"],
        "master", "push", "site", "--notify", dead,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"Could not notify {dead}: Cannot reach" in " ".join(result.stderr.split())


def test_bad_notify_values_are_usage_errors(cli, aws, site) -> None:
    result = cli("--config", str(site["ini"]), "master", "push", "--notify", "s3://bucket/x")
    assert result.exit_code == 2
    assert "--notify: 's3://bucket/x' is not a queue or topic" in result.stderr
    site["ini"].write_text(
        site["ini"].read_text().replace("[MASTER]", "notify = sns:nope\n[MASTER]")
    )
    result = cli("--config", str(site["ini"]), "master", "push")
    assert result.exit_code == 2
    assert "[MAIN] notify: 'sns:nope' is not an SNS topic ARN" in result.stderr


def test_dry_run_announces_nothing(cli, aws, site) -> None:
    queue_url = aws["sqs"].create_queue(QueueName="dry")["QueueUrl"]
    result = cli(
        "--config", str(site["ini"]), "--endpoint-url", aws["url"],
        "master", "push", "--dry-run", "--notify", "sqs://dry",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert receive_all(aws["sqs"], queue_url, 0) == []


def test_transfer_notifies_with_its_log(cli, aws, tmp_path: Path) -> None:
    aws["s3"].create_bucket(Bucket="dst-bkt")
    for index in range(2):
        aws["s3"].put_object(Bucket=BUCKET, Key=f"data/o{index}", Body=b"x" * 10)
    queue_url = aws["sqs"].create_queue(QueueName="transfers")["QueueUrl"]
    config = tmp_path / "transfer.yaml"
    config.write_text(
        f"src: {{bucket: {BUCKET}, bucket_prefix: data/, endpoint_urls: [{aws['url']}]}}\n"
        f"dst: {{bucket: dst-bkt, bucket_prefix: copy/, endpoint_urls: [{aws['url']}]}}\n"
        f"log: {{local_directory: {tmp_path / 'logs'}}}\n"
    )
    result = cli(
        "--endpoint-url", aws["url"], "transfer", "run", str(config), "--notify", "sqs://transfers"
    )
    assert result.exit_code == 0, result.output
    [body] = receive_all(aws["sqs"], queue_url)
    message = json.loads(body)
    assert (message["command"], message["copied"], message["bytes"]) == ("transfer", 2, 20)
    assert message["destination"] == "s3://dst-bkt/copy"
    [log_file] = (tmp_path / "logs").glob("dt_data_*.json")
    assert message["log"] == str(log_file)


def test_a_run_that_ends_on_an_error_is_announced_as_failed(cli, aws, site) -> None:
    queue_url = aws["sqs"].create_queue(QueueName="errors")["QueueUrl"]
    result = cli(
        "--endpoint-url", aws["url"],
        "sync", str(site["master"]), "s3://no-such-bucket/x", "--notify", "sqs://errors",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    [body] = receive_all(aws["sqs"], queue_url)
    message = json.loads(body)
    assert tuple(message) == RUN_FIELDS
    assert (message["status"], message["copied"], message["failed"]) == ("failed", 0, 0)
    assert message["destination"] == "s3://no-such-bucket/x"
