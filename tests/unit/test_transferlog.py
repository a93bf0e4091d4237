"""The transfer log model, its writer (atomic, throttled, uploaded) and its readers."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.errors import AwsError, ConfigError
from s32s.transfers.log import (
    COMPLETED,
    FAILED,
    RUNNING,
    LocalLogSource,
    LogNotFound,
    LogSide,
    LogStore,
    LogWriter,
    S3LogTarget,
    TransferLog,
    epoch_of,
    log_file_name,
    open_store,
)

FIELDS = [
    "service",
    "src_bucket",
    "src_bucket_prefix",
    "src_region",
    "src_endpoint_urls",
    "dst_bucket",
    "dst_bucket_prefix",
    "dst_region",
    "dst_endpoint_urls",
    "max_workers",
    "start_time_epoch",
    "status",
    "objects_moved",
    "end_time_epoch",
    "total_duration_seconds",
    "initial_synced_objects",
    "initial_unsynced_objects",
    "final_synced_objects",
    "final_unsynced_objects",
    "completion_percentage",
    "total_bytes_to_move",
    "bytes_transferred",
    "remaining_bytes",
    "failed_objects",
]


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_log(clock: FakeClock | None = None, **changes) -> TransferLog:
    options = {
        "src": LogSide("src-bucket", "data/", "us-east-1", ("http://10.0.0.1:8080",)),
        "dst": LogSide("dst-bucket", "copy/", "snow", ("https://192.168.1.50:8443",)),
        "max_workers": 8,
        "clock": clock or FakeClock(),
    }
    options.update(changes)
    return TransferLog(**options)


def write_log(directory: Path, epoch: int, **fields) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / log_file_name(epoch)
    document = {"start_time_epoch": epoch, "status": COMPLETED, "objects_moved": [], **fields}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- model
def test_new_log_has_every_field_in_order() -> None:
    data = make_log().to_dict()
    assert list(data) == FIELDS
    assert data["status"] == RUNNING
    assert data["start_time_epoch"] == 1_700_000_000
    assert data["src_endpoint_urls"] == ["http://10.0.0.1:8080"]
    assert data["dst_region"] == "snow"
    assert data["end_time_epoch"] is None


def test_counters_follow_moves_and_failures() -> None:
    clock = FakeClock()
    log = make_log(clock)
    log.set_initial(synced_objects=6, unsynced_objects=4, total_bytes_to_move=400)
    log.record_moved("data/a", "copy/a", 100, started=clock.now, ended=clock.now + 1.5)
    log.record_moved("data/b", "copy/b", 150, started=clock.now, ended=clock.now + 0.25)
    log.record_failed("data/c", "The object does not exist.")
    data = log.to_dict()
    assert data["objects_moved"][0] == {
        "src_key": "data/a",
        "dst_key": "copy/a",
        "bytes": 100,
        "epoch_time_start": clock.now,
        "epoch_time_end": clock.now + 1.5,
        "total_time_seconds": 1.5,
    }
    assert data["final_synced_objects"] == 8
    assert data["final_unsynced_objects"] == 2
    assert data["completion_percentage"] == 80.0
    assert data["bytes_transferred"] == 250
    assert data["remaining_bytes"] == 150
    assert data["failed_objects"] == {"data/c": "The object does not exist."}


def test_retried_key_leaves_failed_objects() -> None:
    log = make_log()
    log.record_failed("k", "Cannot reach http://10.0.0.1:8080.")
    log.record_moved("k", "k", 1, started=0.0, ended=1.0)
    assert log.failed_objects == {}


def test_finish_status_and_duration() -> None:
    clock = FakeClock()
    log = make_log(clock)
    log.set_initial(synced_objects=0, unsynced_objects=1, total_bytes_to_move=5)
    log.record_moved("a", "a", 5, started=clock.now)
    clock.now += 12.5
    log.finish()
    data = log.to_dict()
    assert data["status"] == COMPLETED
    assert data["end_time_epoch"] == 1_700_000_012
    assert data["total_duration_seconds"] == 12.5
    assert data["completion_percentage"] == 100.0


@pytest.mark.parametrize(
    ("moved", "failed", "expected"),
    [(2, False, COMPLETED), (1, False, FAILED), (2, True, FAILED)],
)
def test_finish_without_status_judges_the_run(moved: int, failed: bool, expected: str) -> None:
    log = make_log()
    log.set_initial(synced_objects=0, unsynced_objects=2, total_bytes_to_move=2)
    for number in range(moved):
        log.record_moved(f"k{number}", f"k{number}", 1, started=0.0, ended=0.0)
    if failed:
        log.record_failed("other", "Access denied.")
    log.finish()
    assert log.status == expected


def test_finish_rejects_unknown_status() -> None:
    with pytest.raises(ValueError, match="status must be one of"):
        make_log().finish("Done")


def test_empty_run_is_complete() -> None:
    assert make_log().to_dict()["completion_percentage"] == 100.0


def test_record_moved_from_many_threads_loses_nothing() -> None:
    log = make_log()

    def work(worker: int) -> None:
        for number in range(250):
            log.record_moved(f"{worker}/{number}", f"{worker}/{number}", 2, 0.0, 0.0)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    data = log.to_dict()
    assert len(data["objects_moved"]) == 2000
    assert data["bytes_transferred"] == 4000


def test_file_names() -> None:
    assert log_file_name(1700000000) == "dt_data_1700000000.json"
    assert epoch_of("prefix/dt_data_42.json") == 42
    assert epoch_of(".dt_data_42.json.s32s-tmp") is None
    assert epoch_of("dt_data_x.json") is None


# --------------------------------------------------------------------------- writer
def test_writer_writes_at_start_and_end(tmp_path: Path) -> None:
    log = make_log()
    with LogWriter(log, tmp_path / "logs", background=False) as writer:
        assert writer.path == tmp_path / "logs" / "dt_data_1700000000.json"
        first = json.loads(writer.path.read_text())
        assert first["status"] == RUNNING
        log.set_initial(synced_objects=0, unsynced_objects=1, total_bytes_to_move=3)
        log.record_moved("a", "b", 3, 0.0, 1.0)
    final = json.loads(writer.path.read_text())
    assert final["status"] == COMPLETED
    assert final["objects_moved"][0]["dst_key"] == "b"
    assert sorted(p.name for p in writer.path.parent.iterdir()) == [writer.path.name]


def test_writer_marks_failed_on_exception(tmp_path: Path) -> None:
    log = make_log()
    with pytest.raises(KeyboardInterrupt), LogWriter(log, tmp_path, background=False) as writer:
        log.record_moved("a", "a", 1, 0.0, 0.0)
        raise KeyboardInterrupt
    data = json.loads(writer.path.read_text())
    assert data["status"] == FAILED
    assert len(data["objects_moved"]) == 1


def test_writer_throttles_writes(tmp_path: Path) -> None:
    clock = FakeClock(0.0)
    log = make_log()
    writer = LogWriter(log, tmp_path, interval=5.0, clock=clock, background=False)
    writer.start()
    assert writer.writes == 1
    for number in range(20):
        log.record_moved(f"k{number}", f"k{number}", 1, 0.0, 0.0)
    assert writer.writes == 1  # within 5 s of the first write
    assert json.loads(writer.path.read_text())["objects_moved"] == []
    clock.now = 5.0
    log.record_moved("late", "late", 1, 0.0, 0.0)
    assert writer.writes == 2
    assert len(json.loads(writer.path.read_text())["objects_moved"]) == 21
    writer.close()
    assert writer.writes == 3


class Ticker:
    """The background thread's pause: it returns when the test says an interval has passed."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self._turns = threading.Semaphore(0)
        self._idle = threading.Event()

    def pause(self, stop: threading.Event, seconds: float) -> bool:
        self.asked.append(seconds)
        self._idle.set()
        while not stop.is_set():
            if self._turns.acquire(timeout=0.01):
                return False
        return True

    def wait_idle(self) -> None:
        assert self._idle.wait(10), "the background thread never paused"

    def tick(self) -> None:
        """Let one interval pass, and wait until the thread has done its turn."""
        self.wait_idle()
        self._idle.clear()
        self._turns.release()
        self.wait_idle()


def test_background_thread_writes_what_a_throttled_write_skipped(tmp_path: Path) -> None:
    clock = FakeClock(0.0)  # never moves: every write after the first is throttled
    ticker = Ticker()
    log = make_log()
    writer = LogWriter(log, tmp_path, interval=5.0, clock=clock, pause=ticker.pause)
    writer.start()
    ticker.wait_idle()
    log.record_moved("a", "a", 1, 0.0, 0.0)
    assert json.loads(writer.path.read_text())["objects_moved"] == []  # throttled
    writes = writer.writes
    ticker.tick()
    assert len(json.loads(writer.path.read_text())["objects_moved"]) == 1
    assert writer.writes == writes + 1
    ticker.tick()  # nothing changed since: nothing written
    assert writer.writes == writes + 1
    assert ticker.asked == [5.0, 5.0, 5.0]
    writer.close()
    assert writer.writes == writes + 2  # the final write


def test_writer_replaces_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = make_log()
    writer = LogWriter(log, tmp_path, background=False)
    writer.start()
    before = writer.path.read_text()
    log.record_moved("a", "a", 1, 0.0, 0.0)

    def broken_replace(source, target) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(ConfigError, match="No space left on device"):
        writer.flush()
    assert writer.path.read_text() == before  # the old version is intact
    assert [p.name for p in tmp_path.iterdir()] == [writer.path.name]  # no temporary left


def test_mid_run_write_failure_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(0.0)
    log = make_log()
    writer = LogWriter(log, tmp_path, clock=clock, background=False)
    writer.start()
    monkeypatch.setattr(os, "replace", lambda *_: (_ for _ in ()).throw(OSError(5, "I/O")))
    clock.now = 10.0
    log.record_moved("a", "a", 1, 0.0, 0.0)  # the failed write must not reach the worker
    assert writer.writes == 1


def test_unwritable_directory_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match=r"Cannot write transfer logs in .*file"):
        LogWriter(make_log(), blocker / "logs").start()


def test_same_second_runs_get_distinct_files(tmp_path: Path) -> None:
    first = LogWriter(make_log(), tmp_path, background=False)
    first.start()
    second = LogWriter(make_log(), tmp_path, background=False)
    second.start()
    assert first.path != second.path
    assert second.log.start_time_epoch == 1_700_000_001


def test_writer_needs_a_destination() -> None:
    with pytest.raises(ConfigError, match="nowhere to go"):
        LogWriter(make_log(), None)


def test_writer_uploads_to_log_bucket(tmp_path: Path, mock_s3) -> None:
    mock_s3.create_bucket(Bucket="transfer-logs")  # not "logs": moto routes logs.* to CloudWatch
    log = make_log()
    target = S3LogTarget("transfer-logs", "transfers/")
    with LogWriter(log, tmp_path, s3=target, factory=ClientFactory(), background=False) as writer:
        log.record_moved("a", "a", 7, 0.0, 1.0)
    assert writer.uploads == 2
    body = mock_s3.get_object(Bucket="transfer-logs", Key="transfers/dt_data_1700000000.json")[
        "Body"
    ]
    data = json.loads(body.read())
    assert data["status"] == COMPLETED
    assert data["bytes_transferred"] == 7


def test_upload_to_missing_bucket_fails_at_start(tmp_path: Path, mock_s3) -> None:
    writer = LogWriter(
        make_log(), tmp_path, s3=S3LogTarget("no-such-bucket"), factory=ClientFactory()
    )
    with pytest.raises(AwsError, match="no-such-bucket"):
        writer.start()
    assert writer.path.exists()  # the local copy is written first


def test_upload_tries_the_next_endpoint(tmp_path: Path, moto_server, s3_http) -> None:
    s3_http.create_bucket(Bucket="logs")
    factory = ClientFactory(AwsOptions(max_attempts=1, connect_timeout=1))
    dead = "http://127.0.0.1:9"
    target = S3LogTarget("logs", "", (dead, moto_server.url))
    with LogWriter(make_log(), None, s3=target, factory=factory, background=False):
        pass
    keys = [item["Key"] for item in s3_http.list_objects_v2(Bucket="logs")["Contents"]]
    assert keys == ["dt_data_1700000000.json"]


# --------------------------------------------------------------------------- readers
def test_store_lists_filters_and_loads(tmp_path: Path) -> None:
    for epoch in (100, 200, 300):
        write_log(tmp_path, epoch, bytes_transferred=epoch)
    (tmp_path / "notes.txt").write_text("ignored")
    store = LogStore(LocalLogSource(tmp_path))
    assert store.epochs() == [100, 200, 300]
    assert store.epochs(start=150) == [200, 300]
    assert store.epochs(end=200) == [100, 200]
    assert store.epochs(150, 250) == [200]
    assert [log.epoch for log in store.list(200, 300)] == [200, 300]
    assert store.load("latest").epoch == 300
    assert store.load(100).data["bytes_transferred"] == 100
    assert store.load("200").epoch == 200


def test_missing_log_and_folder(tmp_path: Path) -> None:
    store = LogStore(LocalLogSource(tmp_path))
    with pytest.raises(LogNotFound, match="no transfer log in"):
        store.load("latest")
    with pytest.raises(LogNotFound, match=r"dt_data_5\.json"):
        store.load(5)
    with pytest.raises(ConfigError, match="does not exist"):
        LogStore(LocalLogSource(tmp_path / "nope")).epochs()
    with pytest.raises(ConfigError, match="not a whole number"):
        store.load("yesterday")


def test_malformed_logs(tmp_path: Path) -> None:
    write_log(tmp_path, 1)
    (tmp_path / "dt_data_2.json").write_text('{"status": "Run')
    (tmp_path / "dt_data_3.json").write_text("[1, 2]")
    store = LogStore(LocalLogSource(tmp_path))
    listing = store.list()
    assert [log.epoch for log in listing] == [1]
    assert len(listing.problems) == 2
    assert "dt_data_2.json is not valid JSON" in listing.problems[0]
    with pytest.raises(ConfigError, match="not a JSON object"):
        store.load(3)


def test_document_hides_objects_by_default(tmp_path: Path) -> None:
    write_log(tmp_path, 9, objects_moved=[{"src_key": "a"}, {"src_key": "b"}])
    stored = LogStore(LocalLogSource(tmp_path)).load(9)
    short = stored.document()
    assert "objects_moved" not in short
    assert short["objects_moved_count"] == 2
    assert stored.document(include_objects=True)["objects_moved"][1] == {"src_key": "b"}
    assert stored.summary()["objects_moved"] == 2


def test_s3_store_reads_a_prefix(moto_server, s3_http) -> None:
    s3_http.create_bucket(Bucket="logs")
    for epoch in (10, 20):
        s3_http.put_object(
            Bucket="logs",
            Key=f"transfers/{log_file_name(epoch)}",
            Body=json.dumps({"start_time_epoch": epoch, "status": COMPLETED}),
        )
    s3_http.put_object(Bucket="logs", Key="transfers/deeper/dt_data_30.json", Body="{}")
    s3_http.put_object(Bucket="logs", Key="transfers/readme.txt", Body="x")
    factory = ClientFactory(AwsOptions(endpoint_url=moto_server.url))
    store = open_store(s3_path="s3://logs/transfers", factory=factory)
    assert store.epochs() == [10, 20]
    assert store.load("latest").location == "s3://logs/transfers/dt_data_20.json"
    with pytest.raises(LogNotFound):
        store.load(11)
    with pytest.raises(AwsError, match="does not exist"):
        open_store(s3_path="missing-bucket/x", factory=factory).epochs()
