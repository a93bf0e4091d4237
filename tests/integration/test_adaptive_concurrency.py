"""Concurrency that adapts, for real: a push through a proxy that holds every answer back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from s32s.aws.clients import AwsOptions, ClientFactory, watch_throttling
from tests.faultproxy import FaultProxy

NO_FAULTS = {"slowdown_every": 0, "drop_every": 0, "cut_every": 0}


def push_through_delay(
    cli: Any, server: Any, tmp_path: Path, count: int, delay: float, *options: str
) -> tuple[dict[str, Any], int]:
    """Push `count` small files through a proxy that holds each answer back `delay` seconds.

    Returns the map's JSON report and the most requests the endpoint saw at once.
    """
    site = tmp_path / "site"
    site.mkdir()
    for index in range(count):
        (site / f"f{index:04d}.txt").write_bytes(b"%d\n" % index * 50)
    with FaultProxy(server.url, delay=delay, **NO_FAULTS) as proxy:
        result = cli(
            "--endpoint-url", proxy.url, "--json", "sync", str(site), "s3://slow/site", *options
        )
        most_in_flight = proxy.most_in_flight
    assert result.exit_code == 0, result.output
    return json.loads(result.output)["maps"][0], most_in_flight


def test_without_workers_a_slow_link_gets_more_requests_in_flight(
    cli: Any, s3_server: Any, s3_client: Any, tmp_path: Path
) -> None:
    s3_client.create_bucket(Bucket="slow")
    report, most_in_flight = push_through_delay(cli, s3_server, tmp_path, 150, 0.05)
    assert report["copied"] == 150
    assert report["concurrency"]["mode"] == "adaptive"
    assert report["concurrency"]["peak"] > 16  # the old fixed default
    assert most_in_flight > 16  # the endpoint saw it, not just the report
    listed = s3_client.list_objects_v2(Bucket="slow", Prefix="site/")
    assert listed["KeyCount"] == 150


def test_workers_pins_the_concurrency(
    cli: Any, s3_server: Any, s3_client: Any, tmp_path: Path
) -> None:
    s3_client.create_bucket(Bucket="slow")
    report, most_in_flight = push_through_delay(
        cli, s3_server, tmp_path, 20, 0.02, "--workers", "4"
    )
    assert report["copied"] == 20
    assert report["concurrency"] == {"mode": "fixed", "final": 4, "peak": 4, "max": 4}
    assert most_in_flight <= 4 + 2  # the copies, plus the two listing requests made before them


def test_throttling_answers_reach_the_watcher_even_when_botocore_retries_them(
    s3_server: Any, s3_client: Any
) -> None:
    s3_client.create_bucket(Bucket="throttled")
    with FaultProxy(s3_server.url, slowdown_every=2, drop_every=0, cut_every=0) as proxy:
        client = ClientFactory(
            AwsOptions(endpoint_url=proxy.url, region="us-east-1", retry_mode="standard")
        ).s3()
        seen: list[int] = []
        stop = watch_throttling(client, lambda: seen.append(1))
        for index in range(4):
            client.put_object(Bucket="throttled", Key=f"k{index}", Body=b"x")
        assert len(seen) == proxy.faults["slowdown"] >= 2  # every attempt answered SlowDown
        stop()
        client.put_object(Bucket="throttled", Key="after", Body=b"x")
        assert len(seen) < proxy.faults["slowdown"]  # no longer watched
    assert s3_client.get_object(Bucket="throttled", Key="k3")["Body"].read() == b"x"
