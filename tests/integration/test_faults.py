"""The retry path for real: a proxy in front of the moto server throttles, drops and cuts."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url
from s32s.sync.events import NullReporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from tests.faultproxy import FaultProxy


def run(factory: ClientFactory, source_dest: str, folder: Path, attempts: int = 4) -> Any:
    """push or pull between `folder` and s3://faulty/data; `attempts`: the engine's tries."""
    with StoreFactory(factory, 4) as stores:
        remote = stores.s3(S3Url("faulty", "data"))
        local = LocalStore(folder)
        source, dest = (local, remote) if source_dest == "push" else (remote, local)
        options = ExecuteOptions(workers=4, attempts=attempts, backoff_base=0.01)
        job = SyncJob(source_dest, source, dest, execute_options=options)
        return execute(prepare(job), NullReporter())


def test_push_and_pull_through_faults_end_with_every_file_correct(
    moto_server: Any, tmp_path: Path, multipart_threshold: int
) -> None:
    direct = ClientFactory(AwsOptions(endpoint_url=moto_server.url, region="us-east-1"))
    direct.s3().create_bucket(Bucket="faulty")
    master, slave = tmp_path / "master", tmp_path / "slave"
    master.mkdir()
    expected = {}
    for index in range(30):
        data = os.urandom(2000 + index)
        (master / f"f{index:02d}.bin").write_bytes(data)
        expected[f"f{index:02d}.bin"] = data
    big = os.urandom(multipart_threshold + 1024 * 1024)
    (master / "big.bin").write_bytes(big)
    expected["big.bin"] = big
    with FaultProxy(moto_server.url) as proxy:
        faulty = ClientFactory(
            AwsOptions(
                endpoint_url=proxy.url, region="us-east-1", max_attempts=10, retry_mode="standard"
            )
        )
        pushed = run(faulty, "push", master)
        assert pushed.failed == {} and pushed.copied == 31
        pulled = run(faulty, "pull", slave)
        assert pulled.failed == {} and pulled.copied == 31
        assert proxy.faults["slowdown"] > 0 and proxy.faults["drop"] > 0 and proxy.faults["cut"] > 0
    for name, data in expected.items():
        assert (slave / name).read_bytes() == data
        stored = direct.s3().get_object(Bucket="faulty", Key=f"data/{name}")["Body"].read()
        assert stored == data
    assert sorted(p.name for p in slave.iterdir()) == sorted(expected)  # no temporary files left


# --------------------------------------------------------------------- each retry layer alone
MiB = 1024 * 1024


def layered_run(
    proxy: FaultProxy,
    source_dest: str,
    folder: Path,
    *,
    botocore_attempts: int,
    engine_attempts: int,
) -> Any:
    """A push or pull through `proxy` with each retry layer set on its own."""
    factory = ClientFactory(
        AwsOptions(
            endpoint_url=proxy.url,
            region="us-east-1",
            max_attempts=botocore_attempts,
            retry_mode="standard",
        )
    )
    return run(factory, source_dest, folder, engine_attempts)


def faulty_bucket(
    server: Any, tmp_path: Path, count: int, big: int = 0
) -> tuple[ClientFactory, dict[str, bytes], Path]:
    """The bucket (a direct client), a master folder of `count` small files (and one of `big`
    bytes), and an empty slave folder."""
    direct = ClientFactory(AwsOptions(endpoint_url=server.url, region="us-east-1"))
    direct.s3().create_bucket(Bucket="faulty")
    expected = write_tree(tmp_path / "master", count, big)
    slave = tmp_path / "slave"
    slave.mkdir()
    return direct, expected, slave


def write_tree(master: Path, count: int, big: int = 0) -> dict[str, bytes]:
    master.mkdir()
    expected = {f"f{index:02d}.bin": os.urandom(3000 + index) for index in range(count)}
    if big:
        expected["big.bin"] = os.urandom(big)
    for name, data in expected.items():
        (master / name).write_bytes(data)
    return expected


def object_gets(method: str, path: str) -> bool:
    return method == "GET" and "?" not in path  # GetObject, whole or ranged; never a listing


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Files of 5 MiB or more move in 5 MiB parts; a state folder of the test's own."""
    monkeypatch.setenv("S32S_MULTIPART_THRESHOLD", "5MiB")
    monkeypatch.setenv("S32S_MULTIPART_CHUNKSIZE", "5MiB")
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path / "state"))


def test_the_engine_alone_retries_a_body_cut_while_it_streams(
    moto_server: Any, tmp_path: Path
) -> None:
    """botocore tries each request once: every cut GET body is retried by the engine alone."""
    direct, expected, slave = faulty_bucket(moto_server, tmp_path, 12)
    assert run(direct, "push", tmp_path / "master").failed == {}
    with FaultProxy(
        moto_server.url, slowdown_every=0, drop_every=0, cut_every=3, only=object_gets
    ) as proxy:
        # Without the engine's layer the cut files fail (every third GET), and say why.
        alone = layered_run(proxy, "pull", slave, botocore_attempts=1, engine_attempts=1)
        assert len(alone.failed) == 4
        assert all("cut off" in reason for reason in alone.failed.values())
        # With it they arrive, though one of their GETs is cut again.
        pulled = layered_run(proxy, "pull", slave, botocore_attempts=1, engine_attempts=4)
        assert pulled.failed == {} and pulled.copied == 4
    assert proxy.faults["cut"] == 5
    assert {name: (slave / name).read_bytes() for name in expected} == expected
    assert sorted(p.name for p in slave.iterdir()) == sorted(expected)  # no temporary files left


def test_a_part_cut_while_it_streams_is_fetched_again_alone(
    moto_server: Any, tmp_path: Path, small_parts: None
) -> None:
    """A large file's ranged GETs, every second one cut: each range is fetched again, not the file."""
    direct, expected, slave = faulty_bucket(moto_server, tmp_path, 0, big=4 * 5 * MiB + 1000)
    assert run(direct, "push", tmp_path / "master").failed == {}

    def big_file_gets(method: str, path: str) -> bool:
        return object_gets(method, path) and path.endswith("big.bin")

    with FaultProxy(
        moto_server.url, slowdown_every=0, drop_every=0, cut_every=2, only=big_file_gets
    ) as proxy:
        # Each try of the file fetches its missing ranges; half of them are cut: room for 6.
        pulled = layered_run(proxy, "pull", slave, botocore_attempts=1, engine_attempts=6)
    assert pulled.failed == {} and (slave / "big.bin").read_bytes() == expected["big.bin"]
    fetched = Counter(r for m, p, r, _ in proxy.requests if big_file_gets(m, p))
    cut = Counter(r for _, _, r, _ in proxy.faulted)
    assert len(fetched) == 5 and sum(cut.values()) >= 2
    assert fetched == {r: cut[r] + 1 for r in fetched}  # each range once more than it was cut
    assert sorted(p.name for p in slave.iterdir()) == ["big.bin"]


def test_botocore_alone_retries_throttling_and_dropped_connections(
    moto_server: Any, tmp_path: Path, small_parts: None
) -> None:
    """The engine tries each file once: SlowDown answers and dropped connections are botocore's."""
    _, expected, slave = faulty_bucket(moto_server, tmp_path, 6, big=3 * 5 * MiB + 1000)
    with FaultProxy(moto_server.url, slowdown_every=4, drop_every=5, cut_every=0) as proxy:
        pushed = layered_run(
            proxy, "push", tmp_path / "master", botocore_attempts=8, engine_attempts=1
        )
        pulled = layered_run(proxy, "pull", slave, botocore_attempts=8, engine_attempts=1)
    assert pushed.failed == {} and pushed.copied == len(expected)
    assert pulled.failed == {} and pulled.copied == len(expected)
    assert proxy.faults["slowdown"] > 2 and proxy.faults["drop"] > 2
    assert {name: (slave / name).read_bytes() for name in expected} == expected
    # Every object and every part was stored once: a refused part is sent again on its own.
    stored = Counter(p for m, p, _, status in proxy.requests if m == "PUT" and status == 200)
    assert stored and set(stored.values()) == {1}
    assert sum("partNumber=" in p for p in stored) == 4


def test_a_request_botocore_gave_up_on_is_not_sent_again_by_the_engine(
    moto_server: Any, tmp_path: Path
) -> None:
    """A PUT throttled on its only botocore attempt fails its file; the engine adds no tries."""
    faulty_bucket(moto_server, tmp_path, 8)
    with FaultProxy(
        moto_server.url,
        slowdown_every=2,
        drop_every=0,
        cut_every=0,
        only=lambda method, _: method == "PUT",
    ) as proxy:
        pushed = layered_run(
            proxy, "push", tmp_path / "master", botocore_attempts=1, engine_attempts=4
        )
    assert pushed.failed and all("SlowDown" in reason for reason in pushed.failed.values())
    sent = Counter(p for m, p, _, _ in [*proxy.requests, *proxy.faulted] if m == "PUT")
    failed = [p for p in sent if p.rsplit("/", 1)[-1] in pushed.failed]
    assert failed and all(sent[p] == 1 for p in failed)
