"""Large files in parts, and resuming them: interrupted pushes and pulls continue where they stopped.

Parts are 5 MiB here (S3's smallest) so files stay small; both S3 servers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url
from s32s.sync.events import NullReporter, Report
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from tests.faultproxy import FaultProxy
from tests.helpers import run_executable, s32s_executable

MiB = 1024 * 1024
PART = 5 * MiB
PARTS = 6  # more than the part pool's 4, so an interruption always leaves parts to send
SIZE = int(5.2 * PART)
BUCKET = "resume"


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """5 MiB parts, and a state folder of the test's own (returned)."""
    state = tmp_path / "state"
    monkeypatch.setenv("S32S_MULTIPART_CHUNKSIZE", "5MiB")
    monkeypatch.setenv("S32S_STATE_DIR", str(state))
    return state


@pytest.fixture
def bucket(s3_client: Any) -> str:
    s3_client.create_bucket(Bucket=BUCKET)
    return BUCKET


class Calls:
    """Counts the S3 operations a client makes; `stop_after` sets `stop` after N of one kind."""

    def __init__(self, client: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.stop = threading.Event()
        self._limit: tuple[str, int] | None = None
        client.meta.events.register("after-call.s3.*", self._seen)

    def stop_after(self, operation: str, count: int) -> None:
        self._limit = (operation, count)

    def stop_when(self, condition: Any) -> None:
        """Set `stop` as soon as `condition()` holds (checked from a thread)."""

        def watch() -> None:
            deadline = time.monotonic() + 60
            while not condition() and time.monotonic() < deadline:
                time.sleep(0.005)
            self.stop.set()

        threading.Thread(target=watch, daemon=True).start()

    def _seen(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1
        if self._limit and self.counts[self._limit[0]] >= self._limit[1]:
            self.stop.set()

    def reset(self) -> None:
        self.counts.clear()
        self.stop.clear()
        self._limit = None


def run(factory: ClientFactory, source: str, folder: Path, calls: Calls, **options: Any) -> Report:
    """push (source "local") or pull (source "s3") between `folder` and s3://resume/data."""
    with StoreFactory(factory, 4) as stores:
        remote = stores.s3(S3Url(BUCKET, "data"))
        local = LocalStore(folder)
        pair = (local, remote) if source == "local" else (remote, local)
        job = SyncJob(
            "resume", *pair, execute_options=ExecuteOptions(workers=2, backoff_base=0.01, **options)
        )
        return execute(prepare(job), NullReporter(), calls.stop)


def records(state: Path) -> list[dict[str, Any]]:
    folder = state / "uploads"
    return [json.loads(p.read_text()) for p in folder.glob("*.json")] if folder.is_dir() else []


def write_big(path: Path, mtime: int = 1_700_000_000) -> bytes:
    data = os.urandom(SIZE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime, mtime))
    return data


def interrupt_push(
    factory: ClientFactory, calls: Calls, master: Path, mtime: int = 1_700_000_000
) -> bytes:
    """Write big.bin, push it and stop once one part arrived; returns its bytes."""
    data = write_big(master / "big.bin", mtime)
    calls.stop_after("UploadPart", 1)
    run(factory, "local", master, calls)
    calls.reset()
    return data


def put_big(s3_client: Any, bucket: str = BUCKET, **metadata: str) -> bytes:
    """Store fresh random data/big.bin (one PUT) and return its bytes."""
    data = os.urandom(SIZE)
    s3_client.put_object(Bucket=bucket, Key="data/big.bin", Body=data, Metadata=metadata)
    return data


def stored(s3_client: Any) -> bytes:
    return bytes(s3_client.get_object(Bucket=BUCKET, Key="data/big.bin")["Body"].read())


@pytest.fixture
def engine(s3_server: Any, bucket: str, small_parts: Path) -> Iterator[tuple[ClientFactory, Calls]]:
    factory = ClientFactory(AwsOptions(endpoint_url=s3_server.url, region="us-east-1"))
    yield factory, Calls(factory.s3())


@dataclass
class StoppedPush:
    """A push of big.bin stopped once one part arrived: its upload is left unfinished."""

    factory: ClientFactory
    calls: Calls
    master: Path
    data: bytes
    record: dict[str, Any]

    def push(self, **options: Any) -> Report:
        return run(self.factory, "local", self.master, self.calls, **options)


@pytest.fixture
def interrupted(
    engine: tuple[ClientFactory, Calls], tmp_path: Path, small_parts: Path
) -> StoppedPush:
    factory, calls = engine
    data = interrupt_push(factory, calls, tmp_path / "master")
    (record,) = records(small_parts)
    return StoppedPush(factory, calls, tmp_path / "master", data, record)


# uploads through the engine ------------------------------------------------------------------


def test_interrupted_upload_resumes_with_only_the_missing_parts(
    engine: tuple[ClientFactory, Calls], s3_client: Any, tmp_path: Path, small_parts: Path
) -> None:
    factory, calls = engine
    master = tmp_path / "master"
    data = write_big(master / "big.bin")
    calls.stop_after("UploadPart", 1)
    assert run(factory, "local", master, calls).failed == {"big.bin": "interrupted"}
    (record,) = records(small_parts)
    assert record["key"] == "data/big.bin" and record["part_size"] == PART
    done = s3_client.list_parts(Bucket=BUCKET, Key="data/big.bin", UploadId=record["upload_id"])
    kept = len(done["Parts"])
    assert 1 <= kept < PARTS
    calls.reset()
    second = run(factory, "local", master, calls)
    assert second.failed == {} and second.copied == 1
    assert calls.counts["CreateMultipartUpload"] == 0 and calls.counts["ListParts"] == 1
    assert calls.counts["UploadPart"] == PARTS - kept
    assert stored(s3_client) == data
    assert records(small_parts) == []


@pytest.mark.parametrize("mtime", [1_700_000_100, 1_700_000_000], ids=["new mtime", "same mtime"])
def test_a_file_changed_since_the_interruption_is_uploaded_from_scratch(
    interrupted: StoppedPush, s3_client: Any, mtime: int
) -> None:
    new = write_big(interrupted.master / "big.bin", mtime)
    assert interrupted.push().failed == {}
    counts = interrupted.calls.counts
    assert counts["CreateMultipartUpload"] == 1 and counts["UploadPart"] == PARTS
    assert counts["AbortMultipartUpload"] == 1  # the stale upload is not left behind
    assert stored(s3_client) == new
    uploads = s3_client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
    assert interrupted.record["upload_id"] not in [u["UploadId"] for u in uploads]


def test_an_upload_gone_or_a_damaged_record_means_starting_over(
    interrupted: StoppedPush, s3_client: Any, small_parts: Path
) -> None:
    record = interrupted.record
    s3_client.abort_multipart_upload(Bucket=BUCKET, Key=record["key"], UploadId=record["upload_id"])
    assert interrupted.push().failed == {}
    assert interrupted.calls.counts["UploadPart"] == PARTS
    assert stored(s3_client) == interrupted.data

    interrupted.calls.reset()
    changed = interrupt_push(
        interrupted.factory, interrupted.calls, interrupted.master, 1_700_000_200
    )
    (path,) = (small_parts / "uploads").glob("*.json")
    path.write_text('{"version": 1, "upload_id": ')  # cut short, as by a full disk
    assert interrupted.push().failed == {}
    counts = interrupted.calls.counts
    assert counts["CreateMultipartUpload"] == 1 and counts["UploadPart"] == PARTS
    assert stored(s3_client) == changed
    assert records(small_parts) == []


def test_a_completed_run_aborts_its_own_leftovers_and_nobody_elses(
    interrupted: StoppedPush, s3_client: Any, small_parts: Path
) -> None:
    theirs = s3_client.create_multipart_upload(Bucket=BUCKET, Key="data/theirs.bin")["UploadId"]
    (interrupted.master / "big.bin").unlink()  # gone: its unfinished upload is abandoned
    (interrupted.master / "small.txt").write_text("small")
    report = interrupted.push()
    assert report.failed == {} and report.copied == 1
    uploads = [u["UploadId"] for u in s3_client.list_multipart_uploads(Bucket=BUCKET)["Uploads"]]
    assert theirs in uploads and interrupted.record["upload_id"] not in uploads
    assert records(small_parts) == []


def test_cleanup_uploads_starts_afresh_instead_of_resuming(
    interrupted: StoppedPush, s3_client: Any
) -> None:
    assert interrupted.push(cleanup_uploads=True).failed == {}
    counts = interrupted.calls.counts
    assert counts["AbortMultipartUpload"] == 1 and counts["UploadPart"] == PARTS
    assert stored(s3_client) == interrupted.data


# downloads through the engine ----------------------------------------------------------------


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".s32s-tmp"))


def interrupt_pull(factory: ClientFactory, calls: Calls, slave: Path) -> Report:
    """Pull data/ into `slave`, stopping once one part of big.bin is written."""
    slave.mkdir(exist_ok=True)
    calls.stop_when(lambda: parts_done(slave) > 0)
    report = run(factory, "s3", slave, calls)
    calls.reset()
    return report


def parts_done(folder: Path) -> int:
    """How many parts of big.bin the kept download has written, by its record."""
    try:
        return len(json.loads((folder / ".big.bin.partial-state.s32s-tmp").read_text())["done"])
    except (OSError, ValueError):
        return 0


def test_interrupted_download_resumes_with_ranged_gets_for_the_rest(
    engine: tuple[ClientFactory, Calls], s3_client: Any, tmp_path: Path
) -> None:
    factory, calls = engine
    data = put_big(s3_client, mtime="7.5")
    slave = tmp_path / "slave"
    assert interrupt_pull(factory, calls, slave).failed == {"big.bin": "interrupted"}
    assert not (slave / "big.bin").exists()
    assert partials(slave) == [".big.bin.partial-state.s32s-tmp", ".big.bin.partial.s32s-tmp"]
    kept = parts_done(slave)
    assert 1 <= kept < PARTS
    second = run(factory, "s3", slave, calls)
    assert second.failed == {} and calls.counts["GetObject"] == PARTS - kept
    assert (slave / "big.bin").read_bytes() == data
    assert (slave / "big.bin").stat().st_mtime == 7.5
    assert partials(slave) == []


@pytest.mark.parametrize("change", ["object replaced", "record damaged"])
def test_a_kept_download_that_no_longer_matches_starts_over(
    engine: tuple[ClientFactory, Calls], s3_client: Any, tmp_path: Path, change: str
) -> None:
    """A replaced object is fetched again, never spliced; a damaged record is not trusted."""
    factory, calls = engine
    data = put_big(s3_client)
    slave = tmp_path / "slave"
    interrupt_pull(factory, calls, slave)
    if change == "object replaced":
        data = put_big(s3_client)
    else:
        record = slave / ".big.bin.partial-state.s32s-tmp"
        record.write_text(record.read_text().replace('"done":[', '"done":[99,'))
        (slave / ".big.bin.partial.s32s-tmp").write_bytes(b"\0" * SIZE)  # zeros "done"
    assert run(factory, "s3", slave, calls).failed == {}
    assert calls.counts["GetObject"] == PARTS
    assert (slave / "big.bin").read_bytes() == data
    assert partials(slave) == []


def test_object_replaced_during_a_ranged_download_fails_alone_and_keeps_nothing(
    engine: tuple[ClientFactory, Calls], s3_client: Any, tmp_path: Path
) -> None:
    factory, calls = engine
    put_big(s3_client)
    client = factory.s3()
    gets = []

    def replace_before_the_second_range(**_: Any) -> None:
        gets.append(True)
        if len(gets) == 2:
            s3_client.put_object(Bucket=BUCKET, Key="data/big.bin", Body=b"x" * SIZE)

    client.meta.events.register("before-call.s3.GetObject", replace_before_the_second_range)
    slave = tmp_path / "slave"
    slave.mkdir()
    report = run(factory, "s3", slave, calls)
    assert "replaced during the run" in report.failed["big.bin"]
    assert partials(slave) == [] and not (slave / "big.bin").exists()


# the installed s32s, interrupted for real ----------------------------------------------------


def interrupt_cli(
    proxy: FaultProxy, args: list[str], env: dict[str, str], ready: Any, sig: int
) -> None:
    """Run the installed s32s, send it `sig` once `ready()`, and let the proxy settle."""
    process = subprocess.Popen(
        [s32s_executable(), *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the transfer never got going"
        time.sleep(0.02)
    process.send_signal(sig)
    process.wait(timeout=60)
    assert process.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL)
    proxy.wait_idle()


def rerun_cli(proxy: FaultProxy, args: list[str], env: dict[str, str]) -> None:
    """Run the same command again at full speed, counting its requests afresh."""
    proxy.requests.clear()
    proxy.delay = 0
    result = run_executable(args, env=env)
    assert result.exit_code == 0, result.stderr


def _answered(proxy: FaultProxy, what: str) -> list[tuple[str, str, str | None, int]]:
    """The requests of one kind the server answered with success."""
    kinds = {
        "UploadPart": lambda m, p, r: m == "PUT" and "partNumber=" in p,
        "CreateMultipartUpload": lambda m, p, r: m == "POST" and p.endswith("?uploads"),
        "RangedGet": lambda m, p, r: m == "GET" and r is not None,
    }
    return [
        request
        for request in list(proxy.requests)
        if kinds[what](*request[:3]) and request[3] in (200, 206)
    ]


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_cli_push_interrupted_by_a_signal_resumes(
    s3_server: Any, s3_client: Any, bucket: str, small_parts: Path, tmp_path: Path, sig: int
) -> None:
    master = tmp_path / "master"
    data = write_big(master / "big.bin")
    env = {"S32S_MULTIPART_CHUNKSIZE": "5MiB", "S32S_STATE_DIR": str(small_parts)}
    with FaultProxy(
        s3_server.url, slowdown_every=0, drop_every=0, cut_every=0, delay=0.5, serial=True
    ) as proxy:
        args = ["--endpoint-url", proxy.url, "sync", str(master), f"s3://{bucket}/data"]
        interrupt_cli(proxy, args, env, lambda: _answered(proxy, "UploadPart"), sig)
        (record,) = records(small_parts)
        listed = s3_client.list_parts(
            Bucket=bucket, Key="data/big.bin", UploadId=record["upload_id"]
        )
        kept = len(listed.get("Parts", []))
        assert 1 <= kept < PARTS
        rerun_cli(proxy, args, env)
        assert len(_answered(proxy, "UploadPart")) == PARTS - kept
        assert _answered(proxy, "CreateMultipartUpload") == []
    assert s3_client.get_object(Bucket=bucket, Key="data/big.bin")["Body"].read() == data
    assert records(small_parts) == []


@pytest.mark.skipif(os.name != "posix", reason="sends POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_cli_pull_interrupted_by_a_signal_resumes(
    s3_server: Any, s3_client: Any, bucket: str, small_parts: Path, tmp_path: Path, sig: int
) -> None:
    data = put_big(s3_client, bucket)
    slave = tmp_path / "slave"
    slave.mkdir()
    env = {"S32S_MULTIPART_CHUNKSIZE": "5MiB", "S32S_STATE_DIR": str(small_parts)}
    with FaultProxy(
        s3_server.url, slowdown_every=0, drop_every=0, cut_every=0, delay=0.5, serial=True
    ) as proxy:
        args = ["--endpoint-url", proxy.url, "sync", f"s3://{bucket}/data", str(slave)]
        interrupt_cli(proxy, args, env, lambda: parts_done(slave) > 0, sig)
        assert not (slave / "big.bin").exists()
        kept = parts_done(slave)
        assert 1 <= kept < PARTS
        rerun_cli(proxy, args, env)
        assert len(_answered(proxy, "RangedGet")) == PARTS - kept
    assert (slave / "big.bin").read_bytes() == data
    assert partials(slave) == []


def test_a_malformed_part_size_setting_is_a_clear_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    result = run_executable(
        ["--endpoint-url", "http://127.0.0.1:9", "sync", str(tmp_path), "s3://b/x"],
        env={"S32S_MULTIPART_CHUNKSIZE": "1MB"},
    )
    assert result.exit_code == 2
    assert "S32S_MULTIPART_CHUNKSIZE='1MB' is not a size of at least 5 MiB" in result.stderr
