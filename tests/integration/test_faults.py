"""The retry path for real: a proxy in front of the moto server throttles, drops and cuts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url
from s32s.sync.events import NullReporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from tests.faultproxy import FaultProxy


def run(factory: ClientFactory, source_dest: str, folder: Path) -> Any:
    with StoreFactory(factory, 4) as stores:
        remote = stores.s3(S3Url("faulty", "data"))
        local = LocalStore(folder)
        source, dest = (local, remote) if source_dest == "push" else (remote, local)
        job = SyncJob(
            source_dest, source, dest, execute_options=ExecuteOptions(workers=4, backoff_base=0.01)
        )
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
