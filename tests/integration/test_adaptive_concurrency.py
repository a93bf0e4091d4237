"""Concurrency that adapts, for real: a push through a proxy that holds every answer back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from s32s.aws.clients import AwsOptions, ClientFactory, watch_throttling
from tests.faultproxy import FaultProxy

NO_FAULTS = {"slowdown_every": 0, "drop_every": 0, "cut_every": 0}


def small_files(folder: Path, count: int) -> None:
    folder.mkdir()
    for index in range(count):
        (folder / f"f{index:04d}.txt").write_bytes(b"%d\n" % index * 50)


def test_without_workers_a_slow_link_gets_more_requests_in_flight(
    cli: Any, s3_server: Any, s3_client: Any, tmp_path: Path
) -> None:
    s3_client.create_bucket(Bucket="slowlink")
    small_files(tmp_path / "site", 150)
    with FaultProxy(s3_server.url, delay=0.05, **NO_FAULTS) as proxy:
        result = cli(
            "--endpoint-url",
            proxy.url,
            "--json",
            "sync",
            str(tmp_path / "site"),
            "s3://slowlink/site",
        )
        most_in_flight = proxy.most_in_flight
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["maps"][0]
    assert report["copied"] == 150
    assert report["concurrency"]["mode"] == "adaptive"
    assert report["concurrency"]["peak"] > 16  # the old fixed default
    assert most_in_flight > 16  # the endpoint saw it, not just the report
    listed = s3_client.list_objects_v2(Bucket="slowlink", Prefix="site/")
    assert listed["KeyCount"] == 150


def test_workers_pins_the_concurrency(
    cli: Any, s3_server: Any, s3_client: Any, tmp_path: Path
) -> None:
    s3_client.create_bucket(Bucket="pinned")
    small_files(tmp_path / "site", 20)
    with FaultProxy(s3_server.url, delay=0.02, **NO_FAULTS) as proxy:
        result = cli(
            "--endpoint-url", proxy.url, "--json",
            "sync", str(tmp_path / "site"), "s3://pinned/site", "--workers", "4",
        )  # fmt: skip
        most_in_flight = proxy.most_in_flight
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["maps"][0]
    assert report["concurrency"] == {"mode": "fixed", "final": 4, "peak": 4, "max": 4}
    assert most_in_flight <= 4 + 2  # the copies, plus the two listings made before them


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
