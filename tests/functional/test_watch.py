"""`s32s slave pull --watch`: a slave that pulls when a queue tells it to, on a moto server over HTTP."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.notify.watch import QueueWatcher, WatchedMap, WatchOptions, open_queue
from s32s.paths import S3Url
from tests.helpers import s32s_executable

BUCKET = "watch-bkt"
GENEROUS = 120.0  # seconds to wait for something a loaded machine may do slowly


@pytest.fixture
def site(moto_clients: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """One map `site` on s3://watch-bkt/site; a master and a slave ini sharing the map file."""
    aws = moto_clients
    aws["s3"].create_bucket(Bucket=BUCKET)
    master, slave = tmp_path / "master", tmp_path / "slave"
    master.mkdir()
    slave.mkdir()
    (master / "index.html").write_text("<h1>v1</h1>")
    (master / "about.html").write_text("<p>about</p>")
    (master / "style.css").write_text("h1 {}")
    maps = [{"name": "site", "s3": f"{BUCKET}/site", "master": str(master), "slave": str(slave)}]
    map_file = tmp_path / "maps.json"
    map_file.write_text(json.dumps(maps))
    master_ini, slave_ini = tmp_path / "master.ini", tmp_path / "slave.ini"
    master_ini.write_text(
        f"[MAIN]\nismaster = True\nnotify = sqs://site-updates\n[MASTER]\nmaps_s3_path = {map_file}\n"
    )
    slave_ini.write_text(
        f"[MAIN]\nismaster = False\ntime_sleep_after_rm = 0\n[SLAVE]\nmaps_s3_path = {map_file}\n"
    )
    queue_url = aws["sqs"].create_queue(
        QueueName="site-updates", Attributes={"VisibilityTimeout": "3"}
    )["QueueUrl"]
    return {
        "master": master,
        "slave": slave,
        "master_ini": master_ini,
        "slave_ini": slave_ini,
        "queue": queue_url,
        **aws,
    }


def run_message(destination: str, copied: int = 1) -> str:
    return json.dumps(
        {
            "event": "s32s.run", "version": 1, "command": "push", "name": "site",
            "source": "/srv/site", "destination": destination, "status": "ok",
            "copied": copied, "deleted": 0, "failed": 0, "bytes": 10,
            "started": "2024-01-15T10:30:00Z", "ended": "2024-01-15T10:30:01Z", "log": None,
        }
    )  # fmt: skip


def messages_in_queue(sqs: Any, queue_url: str) -> int:
    """Visible plus in-flight messages: what the queue still holds."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def wait_for(condition, timeout: float = GENEROUS, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def watch_args(site: dict[str, Any], *extra: str) -> list[str]:
    return [
        "--config", str(site["slave_ini"]), "--endpoint-url", site["url"],
        "slave", "pull", "--watch", "sqs://site-updates", *extra,
    ]  # fmt: skip


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT to the watching process")
def test_a_watching_slave_follows_the_master_without_a_schedule(cli, site) -> None:
    """The docs/watch.md walk-through: master push --notify, slave --watch, no cron."""
    watcher = subprocess.Popen(
        [s32s_executable(), *watch_args(site, "--yes")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "AWS_ENDPOINT_URL": site["url"]},
    )
    try:
        master = ["--config", str(site["master_ini"]), "--endpoint-url", site["url"]]
        assert cli(*master, "master", "push").exit_code == 0
        copied = site["slave"] / "index.html"
        wait_for(copied.exists, what="the slave to pull index.html")
        assert copied.read_text() == "<h1>v1</h1>"

        (site["master"] / "index.html").unlink()
        (site["master"] / "news.html").write_text("<p>news</p>")
        assert cli(*master, "master", "push", "--yes").exit_code == 0
        wait_for(
            lambda: (site["slave"] / "news.html").exists() and not copied.exists(),
            what="the slave to follow a change and a deletion",
        )
        wait_for(lambda: messages_in_queue(site["sqs"], site["queue"]) == 0, what="deletes")
    finally:
        watcher.send_signal(signal.SIGINT)
        _, stderr = watcher.communicate(timeout=GENEROUS)
    assert watcher.returncode == 130, stderr
    assert "Watching sqs://site-updates for changes to 1 map(s): site" in stderr
    assert "Traceback" not in stderr


def test_ten_messages_coalesce_into_one_pull(cli, site) -> None:
    for path in site["master"].iterdir():
        path.unlink()
    for index in range(5):
        site["s3"].put_object(Bucket=BUCKET, Key=f"site/img_{index}.jpg", Body=b"jpeg")
    for _ in range(10):
        site["sqs"].send_message(
            QueueUrl=site["queue"], MessageBody=run_message(f"s3://{BUCKET}/site")
        )
    result = cli("--json", *watch_args(site, "--idle-exit", "2"))
    assert result.exit_code == 0, result.output
    stats = result.json
    assert (stats["received"], stats["pulls"], stats["pulled"], stats["deleted"]) == (
        10,
        1,
        ["site"],
        10,
    )
    assert sorted(path.name for path in site["slave"].iterdir()) == [
        f"img_{index}.jpg" for index in range(5)
    ]
    assert messages_in_queue(site["sqs"], site["queue"]) == 0


def test_the_message_stays_when_the_pull_fails_and_is_retried(cli, site) -> None:
    for name in ("new.txt", "a.txt", "b.txt"):
        site["s3"].put_object(Bucket=BUCKET, Key=f"site/{name}", Body=name.encode())
    for name in ("a.txt", "b.txt", "local-only.txt"):
        (site["slave"] / name).write_text("here before")
    body = run_message(f"s3://{BUCKET}/site")
    site["sqs"].send_message(QueueUrl=site["queue"], MessageBody=body)
    # Without --yes the deletion is refused: the pull fails and the message must stay.
    result = cli("--json", *watch_args(site, "--idle-exit", "1"))
    assert result.exit_code == 0, result.output
    assert result.json["failed_pulls"] >= 1 and result.json["deleted"] == 0
    assert "Left in the queue for a retry (pull of site failed)" in result.stderr
    assert messages_in_queue(site["sqs"], site["queue"]) == 1
    # After the visibility timeout the same message comes back; with --yes it is done and deleted.
    result = cli("--json", *watch_args(site, "--yes", "--idle-exit", "1"))
    if result.json["pulls"] == 0:  # still hidden when that watch ended: one more, longer
        result = cli("--json", *watch_args(site, "--yes", "--idle-exit", "10"))
    assert result.exit_code == 0, result.output
    assert result.json["pulled"] == ["site"] and result.json["deleted"] == 1
    assert (site["slave"] / "new.txt").read_text() == "new.txt"
    assert not (site["slave"] / "local-only.txt").exists()
    assert messages_in_queue(site["sqs"], site["queue"]) == 0


def test_a_message_for_another_prefix_is_ignored_or_deleted_as_configured(cli, site) -> None:
    site["s3"].put_object(Bucket=BUCKET, Key="other/file.txt", Body=b"x")
    site["sqs"].send_message(
        QueueUrl=site["queue"], MessageBody=run_message(f"s3://{BUCKET}/other")
    )
    site["sqs"].send_message(QueueUrl=site["queue"], MessageBody="hello, not for s32s")
    # Hidden for 1 s after each receive, they may come back (and be left again) during the watch.
    result = cli("--json", *watch_args(site, "--idle-exit", "1", "--visibility-timeout", "1"))
    assert result.exit_code == 0, result.output
    assert result.json["received"] >= 2 and result.json["unrelated"] == result.json["received"]
    assert (result.json["pulls"], result.json["deleted"]) == (0, 0)
    assert list(site["slave"].iterdir()) == []
    assert messages_in_queue(site["sqs"], site["queue"]) == 2
    result = cli("--json", *watch_args(site, "--delete-unrelated", "--idle-exit", "3"))
    assert (result.json["pulls"], result.json["unrelated"], result.json["deleted"]) == (0, 2, 2)
    assert messages_in_queue(site["sqs"], site["queue"]) == 0


def s3_event(key: str, name: str = "ObjectCreated:Put") -> dict[str, Any]:
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2024-01-15T10:30:00.000Z",
                "eventName": name,
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                    "object": {"key": key, "size": 3},
                },
            }
        ]
    }


def test_s3_event_notifications_direct_and_through_sns(cli, site) -> None:
    site["s3"].put_object(Bucket=BUCKET, Key="site/photo 1.jpg", Body=b"jpg")
    topic = site["sns"].create_topic(Name="bucket-events")["TopicArn"]
    queue_arn = site["sqs"].get_queue_attributes(
        QueueUrl=site["queue"], AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    site["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    site["sqs"].send_message(
        QueueUrl=site["queue"], MessageBody=json.dumps(s3_event("site/photo+1.jpg"))
    )
    site["sns"].publish(
        TopicArn=topic, Message=json.dumps(s3_event("site/old.jpg", "ObjectRemoved:Delete"))
    )
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
    site["sns"].publish(TopicArn=topic, Message=json.dumps(test_event))
    result = cli("--json", *watch_args(site, "--yes", "--idle-exit", "2"))
    assert result.exit_code == 0, result.output
    # Three messages, one pull; the test event is understood (deleted) without a pull of its own.
    assert (result.json["received"], result.json["pulls"], result.json["deleted"]) == (3, 1, 3)
    assert (site["slave"] / "photo 1.jpg").read_bytes() == b"jpg"


def test_watch_refuses_what_it_cannot_watch(cli, site) -> None:
    topic = "sns:arn:aws:sns:us-east-1:123456789012:t"
    base = ["--config", str(site["slave_ini"]), "--endpoint-url", site["url"], "slave", "pull"]
    result = cli(*base, "--watch", topic)
    assert result.exit_code == 2
    assert "--watch needs an SQS queue" in result.stderr
    result = cli(*base, "--watch", "sqs://missing-queue", "--idle-exit", "1")
    assert result.exit_code == 2
    assert "The SQS queue 'missing-queue' does not exist" in result.stderr
    result = cli(*base, "--idle-exit", "5")
    assert result.exit_code == 2
    assert "--idle-exit only applies with --watch" in result.stderr
    result = cli(*base, "--watch", "sqs://site-updates", "--dry-run")
    assert result.exit_code == 2
    assert "--watch cannot be combined with --dry-run" in result.stderr


def test_an_unreachable_queue_is_retried_with_backoff(caplog: pytest.LogCaptureFixture) -> None:
    """A real SQS client against a closed port; the clock and the sleep are the test's."""
    from tests.s3servers import free_port

    dead = f"http://127.0.0.1:{free_port()}/123456789012/q"
    factory = ClientFactory(AwsOptions(region="us-east-1", connect_timeout=1.0))
    client, url = open_queue(dead, factory)
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    watcher = QueueWatcher(
        client,
        url,
        lambda: [WatchedMap("site", S3Url(BUCKET, "site"))],
        lambda names: pytest.fail("nothing should be pulled"),
        WatchOptions(idle_exit=100.0, max_backoff=16.0),
        clock=lambda: now[0],
        sleep=sleep,
    )
    with caplog.at_level(logging.WARNING, logger="s32s"):
        stats = watcher.run()
    assert slept == [1, 2, 4, 8, 16, 16, 16, 16, 16, 16]  # doubling, capped, until idle for 100 s
    assert stats.receive_errors == len(slept) + 1
    assert f"Cannot read the queue {dead}: Cannot reach" in caplog.text
    assert "Retrying in 16 s" in caplog.text


def test_one_failing_map_does_not_hold_back_another(site) -> None:
    """The library's loop with the test's pull: map `a` raises, map `b` pulls; only b's message goes."""
    from s32s.errors import ConfigError

    for prefix in ("a", "b"):
        site["sqs"].send_message(
            QueueUrl=site["queue"], MessageBody=run_message(f"s3://{BUCKET}/{prefix}")
        )
    pulled: list[list[str]] = []

    def pull(names):
        pulled.append(list(names))
        if names == ["a"]:
            raise ConfigError("Map 'a': the slave folder / is the root of the file system.")
        return {name: True for name in names}

    client = boto3.client("sqs", region_name="us-east-1", endpoint_url=site["url"])
    watched = [WatchedMap("a", S3Url(BUCKET, "a")), WatchedMap("b", S3Url(BUCKET, "b"))]
    watcher = QueueWatcher(
        client, site["queue"], lambda: watched, pull, WatchOptions(idle_exit=1, wait_seconds=1)
    )
    stats = watcher.run()
    assert pulled == [["a"], ["b"]]
    assert (stats.pulls, stats.failed_pulls, stats.pulled, stats.deleted) == (2, 1, ["b"], 1)
    assert messages_in_queue(site["sqs"], site["queue"]) == 1
