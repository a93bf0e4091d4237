"""With checksums on (as on AWS), multipart uploads declare CRC32 and complete with each part's."""

from __future__ import annotations

import os
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

MiB = 1024 * 1024


def push_and_pull(factory: ClientFactory, master: Path, slave: Path) -> list[dict[str, Any]]:
    """Push `master` and pull it into `slave`; returns the multipart requests' parameters."""
    seen: list[dict[str, Any]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if "Multipart" in model.name:
            seen.append({"operation": model.name, **params})

    factory.s3().meta.events.register("provide-client-params.s3.*", record)
    with StoreFactory(factory, 2) as stores:
        remote = stores.s3(S3Url("sums", "data"))
        for source, dest in ((LocalStore(master), remote), (remote, LocalStore(slave))):
            job = SyncJob("sums", source, dest, execute_options=ExecuteOptions(workers=2))
            assert execute(prepare(job), NullReporter()).failed == {}
    return seen


@pytest.mark.parametrize("checksums", ["when_supported", "when_required"])
def test_parts_carry_their_checksums_when_the_client_sends_them(
    moto_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checksums: str
) -> None:
    monkeypatch.setenv("S32S_MULTIPART_THRESHOLD", "5MiB")
    monkeypatch.setenv("S32S_MULTIPART_CHUNKSIZE", "5MiB")
    factory = ClientFactory(
        AwsOptions(endpoint_url=moto_server.url, region="us-east-1", checksums=checksums)
    )
    factory.s3().create_bucket(Bucket="sums")
    master, slave = tmp_path / "master", tmp_path / "slave"
    master.mkdir()
    data = os.urandom(2 * 5 * MiB + 123)
    (master / "big.bin").write_bytes(data)
    (master / "small.txt").write_bytes(b"small")
    seen = push_and_pull(factory, master, slave)
    assert (slave / "big.bin").read_bytes() == data
    assert (slave / "small.txt").read_bytes() == b"small"
    created = next(p for p in seen if p["operation"] == "CreateMultipartUpload")
    completed = next(p for p in seen if p["operation"] == "CompleteMultipartUpload")
    parts = completed["MultipartUpload"]["Parts"]
    assert [part["PartNumber"] for part in parts] == [1, 2, 3]
    if checksums == "when_supported":
        assert created["ChecksumAlgorithm"] == "CRC32"
        assert all(part["ChecksumCRC32"] for part in parts)
    else:
        assert "ChecksumAlgorithm" not in created
        assert not any("ChecksumCRC32" in part for part in parts)
