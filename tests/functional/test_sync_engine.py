"""The engine end to end, on moto's in-process mock and on a moto server over HTTP."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import RunOptions, StoreFactory
from s32s.paths import S3Url
from s32s.sync.events import NullReporter
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from s32s.sync.plan import PlanOptions
from s32s.sync.s3 import PART_SIZE, MiB

BUCKET = "engine-bkt"


@pytest.fixture(params=["inprocess", "moto", "rclone"])
def backend(request: pytest.FixtureRequest) -> Any:
    """(client factory, raw client) on moto in-process, moto's server or rclone's, with an empty bucket."""
    if request.param != "inprocess":
        server = request.getfixturevalue(f"{request.param}_server")
        factory = ClientFactory(AwsOptions(endpoint_url=server.url, region="us-east-1"))
        client = factory.s3()
        client.create_bucket(Bucket=BUCKET)
        yield factory, client
        return
    from moto import mock_aws

    with mock_aws():
        factory = ClientFactory(AwsOptions(region="us-east-1"))
        client = factory.s3()
        client.create_bucket(Bucket=BUCKET)
        yield factory, client


# Servers that keep objects as files cannot hold a folder marker beside nothing.
MARKERLESS_BACKENDS = {"rclone"}
# How the servers differ, and what s32s does about it: docs/servers.md.


def on_rclone(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.callspec.params["backend"] == "rclone")


def keeps_folder_markers(request: pytest.FixtureRequest) -> bool:
    return request.node.callspec.params["backend"] not in MARKERLESS_BACKENDS


def mtime_metadata(client: Any, key: str) -> str:
    """The object's `mtime` metadata, whatever the case the server gives its name in."""
    metadata = client.head_object(Bucket=BUCKET, Key=key)["Metadata"]
    return str({name.lower(): value for name, value in metadata.items()}["mtime"])


class RequestCounter:
    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        client.meta.events.register("before-call.s3.*", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1

    def per_object(self) -> int:
        return sum(n for op, n in self.counts.items() if op not in ("ListObjectsV2", "HeadBucket"))


def write(path: Path, text: str | bytes, mtime_s: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    if mtime_s is not None:
        os.utime(path, (mtime_s, mtime_s))
    return path


def push(factory: ClientFactory, folder: Path, prefix: str = "site", **plan: Any) -> Any:
    with StoreFactory(factory, 8) as stores:
        job = SyncJob(
            "push", stores.local(folder), stores.s3(S3Url(BUCKET, prefix)), PlanOptions(**plan)
        )
        prepared = prepare(job)
        return prepared, execute(prepared, NullReporter())


def pull(factory: ClientFactory, folder: Path, prefix: str = "site", **kwargs: Any) -> Any:
    with StoreFactory(factory, 8) as stores:
        job = SyncJob("pull", stores.s3(S3Url(BUCKET, prefix)), LocalStore(folder, **kwargs))
        prepared = prepare(job)
        return prepared, execute(prepared, NullReporter())


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix() + ("/" if p.is_dir() else ""): (
            "" if p.is_dir() else p.read_text()
        )
        for p in sorted(folder.rglob("*"))
    }


def test_round_trip_restores_content_mtimes_and_empty_folders(
    backend: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    factory, client = backend
    master, slave = tmp_path / "master", tmp_path / "slave"
    write(master / "a.txt", "alpha", 1_500_000_000)
    write(master / "deep" / "er" / "b.txt", "beta")
    (master / "empty" / "nested").mkdir(parents=True)
    _, report = push(factory, master)
    assert report.copied == 2 and report.failed == {}
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket=BUCKET)["Contents"])
    meta = client.head_object(Bucket=BUCKET, Key="site/a.txt")["Metadata"]
    assert {k.lower(): v for k, v in meta.items()} == {"mtime": "1500000000.000000000"}
    _, pulled = pull(factory, slave)
    assert pulled.copied == 2
    assert os.stat(slave / "a.txt").st_mtime_ns == os.stat(master / "a.txt").st_mtime_ns
    if keeps_folder_markers(request):
        assert keys == ["site/a.txt", "site/deep/er/b.txt", "site/empty/nested/"]
        assert tree(slave) == tree(master)
        return
    # The server cannot keep the empty folder: it is reported, and never becomes a file.
    assert keys == ["site/a.txt", "site/deep/er/b.txt"]
    assert any("cannot keep empty folders" in warning for warning in report.warnings)
    assert tree(slave) == {k: v for k, v in tree(master).items() if not k.startswith("empty")}
    counter = RequestCounter(client)
    _, again = push(factory, master)  # remembered: no marker requests on the next run
    assert again.copied == 0 and counter.per_object() == 0, counter.counts


def test_noop_runs_make_only_list_requests(backend: Any, tmp_path: Path) -> None:
    factory, client = backend
    master, slave = tmp_path / "master", tmp_path / "slave"
    for index in range(30):
        write(master / f"d{index % 3}" / f"f{index}.txt", f"content {index}")
    push(factory, master)
    pull(factory, slave)
    counter = RequestCounter(client)
    prepared, report = push(factory, master)
    assert prepared.plan.is_empty and report.copied == 0
    prepared, _ = pull(factory, slave)
    assert prepared.plan.is_empty
    assert counter.per_object() == 0, counter.counts
    assert set(counter.counts) == {"ListObjectsV2"}


def test_same_size_changes_are_seen_both_ways(backend: Any, tmp_path: Path) -> None:
    factory, _ = backend
    master, slave = tmp_path / "master", tmp_path / "slave"
    write(master / "f.txt", "aaaa", 1_600_000_000)
    push(factory, master)
    pull(factory, slave)
    write(
        master / "f.txt", "bbbb", 1_500_000_000
    )  # same size, older mtime (restored from a backup)
    prepared, _ = push(factory, master)
    assert [(a.key, a.reason) for a in prepared.plan.copies] == [
        ("f.txt", "modification time changed")
    ]
    prepared, _ = pull(factory, slave)
    assert [a.key for a in prepared.plan.copies] == ["f.txt"]
    assert (slave / "f.txt").read_text() == "bbbb"


def test_lost_cache_costs_local_reads_not_requests(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory, client = backend
    master, slave = tmp_path / "master", tmp_path / "slave"
    write(master / "f.txt", "x")
    write(master / "g.txt", "y")
    push(factory, master)
    pull(factory, slave)
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path / "fresh-state"))
    write(master / "g.txt", "z")  # same size, new content, while the cache is lost
    counter = RequestCounter(client)
    prepared, _ = push(factory, master)
    assert [(a.key, a.reason) for a in prepared.plan.copies] == [("g.txt", "content differs")]
    assert prepared.metadata_requests == 0 and counter.counts["HeadObject"] == 0
    prepared, _ = push(factory, master)
    assert prepared.plan.is_empty and counter.counts["HeadObject"] == 0
    prepared, _ = pull(factory, slave)  # pulls g.txt; f.txt resolved by a local hash
    assert [a.key for a in prepared.plan.copies] == ["g.txt"] and counter.counts["HeadObject"] == 0


def test_unresolvable_objects_cost_one_head(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    factory, client = backend
    master = tmp_path / "master"
    data = os.urandom(16 * MiB + 1)
    write(master / "big.bin", data)
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path / "fresh-state"))
    # Written by another tool in 7 MiB parts: an ETag whose part size s32s cannot guess.
    upload = client.create_multipart_upload(
        Bucket=BUCKET, Key="site/big.bin", Metadata={"mtime": "1.0"}
    )
    part = 7 * 1024 * 1024
    parts = []
    for number, start in enumerate(range(0, len(data), part), start=1):
        result = client.upload_part(
            Bucket=BUCKET,
            Key="site/big.bin",
            UploadId=upload["UploadId"],
            PartNumber=number,
            Body=data[start : start + part],
        )
        parts.append({"PartNumber": number, "ETag": result["ETag"]})
    client.complete_multipart_upload(
        Bucket=BUCKET,
        Key="site/big.bin",
        UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )
    counter = RequestCounter(client)
    prepared, _ = push(factory, master)
    if on_rclone(request):
        # rclone's ETag of a multipart object is the whole object's MD5: the local
        # file's MD5 shows the same content, with no HEAD and nothing to copy.
        assert prepared.metadata_requests == counter.counts["HeadObject"] == 0
        assert prepared.plan.is_empty
        return
    assert prepared.metadata_requests == counter.counts["HeadObject"] == 1
    assert [(a.key, a.reason) for a in prepared.plan.copies] == [
        ("big.bin", "modification time changed")
    ]


def test_multipart_upload_and_download(
    backend: Any, tmp_path: Path, multipart_threshold: int, request: pytest.FixtureRequest
) -> None:
    factory, client = backend
    master, slave = tmp_path / "master", tmp_path / "slave"
    data = os.urandom(multipart_threshold + 3 * 1024 * 1024 + 17)
    write(master / "big.bin", data)
    _, report = push(factory, master)
    assert report.copied == 1 and report.failed == {}
    etag = client.head_object(Bucket=BUCKET, Key="site/big.bin")["ETag"].strip('"')
    if on_rclone(request):  # rclone lists a multipart object with its whole content's MD5
        assert etag == hashlib.md5(data).hexdigest()
    else:
        assert etag.endswith("-3")  # AWS and moto: the MD5 of the parts' MD5s, and their count
    _, report = pull(factory, slave)
    assert (slave / "big.bin").read_bytes() == data
    prepared, _ = push(
        factory,
        master,
        compare=__import__("s32s.sync.compare").sync.compare.CompareOptions(checksum=True),
    )
    assert prepared.plan.is_empty  # the multipart ETag is recomputed locally


def test_checksum_mode_catches_content_change_with_same_size_and_mtime(
    backend: Any, tmp_path: Path
) -> None:
    from s32s.sync.compare import CompareOptions

    factory, _ = backend
    master = tmp_path / "master"
    write(master / "f.txt", "aaaa", 1_600_000_000)
    push(factory, master)
    write(master / "f.txt", "bbbb", 1_600_000_000)
    prepared, _ = push(factory, master)
    assert prepared.plan.is_empty  # size and mtime alike: the default cannot tell
    prepared, _ = push(factory, master, compare=CompareOptions(checksum=True))
    assert [(a.key, a.reason) for a in prepared.plan.copies] == [("f.txt", "content differs")]


def test_s32s_prefix_with_folder_markers_pulls(
    backend: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if not keeps_folder_markers(request):
        pytest.skip(
            "S32S's markers beside files cannot exist on a server that keeps objects as files"
        )
    factory, client = backend
    for key, body in [
        ("old/", b""),
        ("old/docs/", b""),
        ("old/docs/a.txt", b"A"),
        ("old/empty/", b""),
    ]:
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    slave = tmp_path / "slave"
    _, report = pull(factory, slave, prefix="old")
    assert report.failed == {}
    assert tree(slave) == {"docs/": "", "docs/a.txt": "A", "empty/": ""}
    prepared, _ = pull(factory, slave, prefix="old")
    assert prepared.plan.is_empty


def test_hostile_keys_are_refused_per_file(
    backend: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    factory, client = backend
    # rclone refuses to store keys with `.`, `..` or empty segments: only the backslash one exists there.
    posix_hostile = [] if on_rclone(request) else ["../escape.txt", "/abs.txt"]
    for relative in ["ok.txt", "a\\..\\b.txt", *posix_hostile]:
        client.put_object(Bucket=BUCKET, Key=f"in/{relative}", Body=b"x")
    slave = tmp_path / "box" / "slave"
    slave.mkdir(parents=True)
    _, report = pull(factory, slave, prefix="in")
    assert (slave / "ok.txt").read_text() == "x"
    assert set(report.failed) == {"a\\..\\b.txt", *posix_hostile}
    assert all("refused" in reason for reason in report.failed.values())
    assert sorted(p.name for p in (tmp_path / "box").rglob("*")) == ["ok.txt", "slave"]


def test_failed_copy_blocks_deletes(backend: Any, tmp_path: Path) -> None:
    factory, client = backend
    client.put_object(Bucket=BUCKET, Key="p/a\\..\\..\\bad", Body=b"x")  # a key every server stores
    client.put_object(Bucket=BUCKET, Key="p/good", Body=b"x")
    slave = tmp_path / "slave"
    write(slave / "stale1", "s")
    write(slave / "good", "x")
    _, report = pull(factory, slave, prefix="p")
    assert "a\\..\\..\\bad" in report.failed
    assert report.deleted == 0 and "nothing was deleted" in (report.deletes_skipped or "")
    assert (slave / "stale1").exists()


def test_object_replaced_after_listing_fails_cleanly(backend: Any, tmp_path: Path) -> None:
    factory, client = backend
    client.put_object(Bucket=BUCKET, Key="r/f.txt", Body=b"version one")
    slave = tmp_path / "slave"
    with StoreFactory(factory, 2) as stores:
        job = SyncJob("pull", stores.s3(S3Url(BUCKET, "r")), LocalStore(slave))
        prepared = prepare(job)
        client.put_object(Bucket=BUCKET, Key="r/f.txt", Body=b"version two!")
        report = execute(prepared, NullReporter())
    assert "replaced during the run" in report.failed["f.txt"]
    assert not (slave / "f.txt").exists()
    _, report = pull(factory, slave, prefix="r")
    assert (slave / "f.txt").read_text() == "version two!"


def test_interrupted_run_leaves_no_partial_files(backend: Any, tmp_path: Path) -> None:
    factory, client = backend
    for index in range(40):
        client.put_object(Bucket=BUCKET, Key=f"i/f{index:02d}", Body=b"y" * 1000)
    slave = tmp_path / "slave"
    stop = threading.Event()

    class StopAfterFive(NullReporter):
        done = 0

        def finished(self, action: Any, error: str | None) -> None:
            self.done += 1
            if self.done == 5:
                stop.set()

    with StoreFactory(factory, 2) as stores:
        job = SyncJob("pull", stores.s3(S3Url(BUCKET, "i")), LocalStore(slave))
        job.execute_options = type(job.execute_options)(workers=2)
        report = execute(prepare(job), StopAfterFive(), stop)
    files = list(slave.iterdir())
    assert 5 <= len(files) < 40
    assert all(f.read_bytes() == b"y" * 1000 for f in files)
    assert report.deletes_skipped == "the run was interrupted"


def test_s3_to_s3_server_side_copy(backend: Any, tmp_path: Path) -> None:
    from s32s.maps.runner import job_for_paths

    factory, client = backend
    write(tmp_path / "m" / "a.txt", "a", 1_400_000_000)
    push(factory, tmp_path / "m", prefix="from")
    counter = RequestCounter(client)
    with StoreFactory(factory, 4) as stores:
        job = job_for_paths(
            f"s3://{BUCKET}/from",
            f"s3://{BUCKET}/to",
            stores,
            RunOptions(),
            delete=False,
            ignore=(),
        )
        report = execute(prepare(job), NullReporter())
    assert (
        report.copied == 1
        and counter.counts["CopyObject"] == 1
        and counter.counts["GetObject"] == 0
    )
    assert mtime_metadata(client, "to/a.txt") == "1400000000.000000000"


def test_file_vanishing_mid_run_fails_alone(backend: Any, tmp_path: Path) -> None:
    factory, client = backend
    master = tmp_path / "master"
    write(master / "ok.txt", "ok")
    write(master / "gone.txt", "soon gone")
    with StoreFactory(factory, 2) as stores:
        job = SyncJob("push", stores.local(master), stores.s3(S3Url(BUCKET, "v")))
        prepared = prepare(job)
        (master / "gone.txt").unlink()
        report = execute(prepared, NullReporter())
    assert report.copied == 1
    assert "vanished" in report.failed["gone.txt"]
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert keys == ["v/ok.txt"]


def test_stream_copy_between_clients(moto_server: Any, tmp_path: Path) -> None:
    """S3 → S3 through two clients (as across endpoints): GET streamed into a multipart PUT."""
    from s32s.sync.execute import ExecuteOptions

    factory = ClientFactory(AwsOptions(endpoint_url=moto_server.url, region="us-east-1"))
    client = factory.s3()
    client.create_bucket(Bucket=BUCKET)
    data = os.urandom(2 * PART_SIZE + 1024)
    client.put_object(Bucket=BUCKET, Key="src/big", Body=data, Metadata={"mtime": "1.5"})
    other = boto3.client("s3", endpoint_url=moto_server.url, region_name="us-east-1")
    with StoreFactory(factory, 4) as stores:
        source = stores.s3(S3Url(BUCKET, "src"))
        dest = stores.s3(S3Url(BUCKET, "dst"))
        dest.client = other
        job = SyncJob(
            "copy", source, dest, execute_options=ExecuteOptions(workers=2, server_side_copy=False)
        )
        report = execute(prepare(job), NullReporter())
    assert report.failed == {}
    assert client.get_object(Bucket=BUCKET, Key="dst/big")["Body"].read() == data
    assert client.head_object(Bucket=BUCKET, Key="dst/big")["Metadata"]["mtime"] == "1.500000000"


def test_names_s3_cannot_take_fail_alone(backend: Any, tmp_path: Path) -> None:
    factory, _ = backend
    master = tmp_path / "master"
    write(master / "ok.txt", "ok")
    write(master / ("x" * 200) / ("y" * 200) / ("z" * 200) / ("w" * 200) / ("v" * 240), "long")
    if os.name == "posix":
        (master / b"bad-\xff-name".decode("utf-8", "surrogateescape")).write_text("undecodable")
    _, report = push(factory, master)
    assert report.copied == 1
    reasons = list(report.failed.values())
    assert any("over S3's limit of 1024" in reason for reason in reasons)
    if os.name == "posix":
        assert any("not valid Unicode" in reason for reason in reasons)


def test_full_disk_on_pull_keeps_the_old_file(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    factory, client = backend
    client.put_object(Bucket=BUCKET, Key="full/f.txt", Body=b"new content")
    slave = tmp_path / "slave"
    write(slave / "f.txt", "old")
    real_writer = LocalStore.atomic_writer

    def full_disk(self: LocalStore, key: str, mtime_ns: int | None) -> Any:
        class Full:
            def __init__(self, handle: Any) -> None:
                self.handle = handle

            def write(self, data: bytes) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

        import contextlib

        @contextlib.contextmanager
        def wrapper() -> Any:
            with real_writer(self, key, mtime_ns) as handle:
                yield Full(handle)

        return wrapper()

    monkeypatch.setattr(LocalStore, "atomic_writer", full_disk)
    _, report = pull(factory, slave, prefix="full")
    assert report.failed == {"f.txt": "no space left on the destination disk"}
    assert (slave / "f.txt").read_text() == "old"
    assert [p.name for p in slave.iterdir()] == ["f.txt"]


def test_file_changing_during_upload_is_retried(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s32s.sync.s3 import S3Store

    factory, client = backend
    master = tmp_path / "master"
    target = write(master / "busy.log", "line 1\n")
    real_upload = S3Store.upload_file
    calls = []

    def upload_then_append(self: S3Store, path: str, *args: Any, **kwargs: Any) -> None:
        real_upload(self, path, *args, **kwargs)
        calls.append(path)
        if len(calls) == 1:
            with open(target, "a") as handle:
                handle.write("line 2\n")

    monkeypatch.setattr(S3Store, "upload_file", upload_then_append)
    _, report = push(factory, master)
    assert report.failed == {} and len(calls) == 2
    assert (
        client.get_object(Bucket=BUCKET, Key="site/busy.log")["Body"].read() == b"line 1\nline 2\n"
    )


def test_file_shrinking_before_a_small_upload_is_retried(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small file is read whole; when it is shorter than listed nothing wrong is sent."""
    import s32s.sync.s3 as s3_module

    factory, client = backend
    master = tmp_path / "master"
    target = write(master / "busy.log", "a long first line\n")
    real_read = s3_module._read_file
    sizes = []

    def truncate_then_read(path: str, size: int) -> bytes:
        sizes.append(size)
        if len(sizes) == 1:
            target.write_text("short\n")
        return real_read(path, size)

    monkeypatch.setattr(s3_module, "_read_file", truncate_then_read)
    _, report = push(factory, master)
    assert report.failed == {} and sizes == [18, 6]
    assert client.get_object(Bucket=BUCKET, Key="site/busy.log")["Body"].read() == b"short\n"


def test_small_uploads_skip_the_100_continue_round_trip(backend: Any, tmp_path: Path) -> None:
    factory, _ = backend
    master = tmp_path / "master"
    write(master / "small.txt", "x" * 1000)
    write(master / "larger.bin", os.urandom(2 * MiB))
    expect_headers = {}

    def remember(request: Any, **_: Any) -> None:
        if request.method == "PUT":
            expect_headers[request.url.rsplit("/", 1)[-1]] = request.headers.get("Expect")

    factory.s3().meta.events.register("before-send.s3.PutObject", remember)
    _, report = push(factory, master)
    assert report.copied == 2
    assert expect_headers == {"small.txt": None, "larger.bin": b"100-continue"}


def test_multipart_server_side_copy(
    backend: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """Objects over 5 GiB are copied in ranged parts; shrunk here so the test stays small."""
    import s32s.sync.s3 as s3_module
    from s32s.maps.runner import job_for_paths

    factory, client = backend
    data = os.urandom(11 * 1024 * 1024)
    client.put_object(Bucket=BUCKET, Key="mp/big", Body=data, Metadata={"mtime": "7.0"})
    monkeypatch.setattr(s3_module, "MAX_SINGLE_COPY", 1024)
    monkeypatch.setattr(s3_module, "part_size_for", lambda size, preferred=0: 5 * 1024 * 1024)
    counter = RequestCounter(client)
    with StoreFactory(factory, 4) as stores:
        job = job_for_paths(
            f"s3://{BUCKET}/mp", f"s3://{BUCKET}/mp2", stores, RunOptions(), delete=False, ignore=()
        )
        report = execute(prepare(job), NullReporter())
    if on_rclone(request):
        # rclone answers UploadPartCopy without an ETag: the copy fails clearly, nothing is left.
        assert "without the part's ETag" in report.failed["big"]
        assert "Contents" not in client.list_objects_v2(Bucket=BUCKET, Prefix="mp2/")
        assert client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
        return
    assert report.failed == {} and counter.counts["UploadPartCopy"] == 3
    assert client.get_object(Bucket=BUCKET, Key="mp2/big")["Body"].read() == data
    assert mtime_metadata(client, "mp2/big") == "7.000000000"


def test_deletes_are_batched_by_a_thousand(backend: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from s32s.sync import s3

    assert s3.DELETE_BATCH == 1000  # S3's most keys per DeleteObjects
    monkeypatch.setattr(s3, "DELETE_BATCH", 10)  # the same batching on 11 objects, not 1,001
    factory, client = backend
    for i in range(11):
        client.put_object(Bucket=BUCKET, Key=f"del/k{i:04d}")
    counter = RequestCounter(client)
    with StoreFactory(factory, 2) as stores:
        failures = stores.s3(S3Url(BUCKET, "del")).delete_many([f"k{i:04d}" for i in range(11)])
    assert failures == {} and counter.counts["DeleteObjects"] == 2
    assert "Contents" not in client.list_objects_v2(Bucket=BUCKET, Prefix="del/")
