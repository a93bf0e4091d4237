"""Transfer logs: the `dt_data_<start epoch>.json` files of a bucket-to-bucket run.

Writing side (used by `s32s transfer run`)::

    log = TransferLog(src=LogSide("b1", "data/"), dst=LogSide("b2"), max_workers=16)
    with LogWriter(log, Path("./logs"), s3=S3LogTarget("logs", "transfers"), factory=f):
        log.set_initial(synced_objects=10, unsynced_objects=5, total_bytes_to_move=5000)
        log.record_moved("data/a", "copy/a", 1000, started, ended)   # from any worker thread
        log.record_failed("data/b", "Access denied.")
    # leaving the block sets the final status and writes (and uploads) the file

Reading side (used by `s32s logs` and the logs API): `LogStore` over a
`LocalLogSource` or an `S3LogSource`.

The file keeps the field names and meaning of the `s3_transfer.py` logs
(DESIGN §2), so existing dashboards keep working. Credentials never enter it:
`LogSide` has no field for them.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from s32s.atomicfile import probe_writable, write_atomically
from s32s.aws.clients import error_code
from s32s.errors import AwsError, ConfigError, S32SError

if TYPE_CHECKING:
    from s32s.aws.clients import ClientFactory
    from s32s.paths import S3Url

logger = logging.getLogger(__name__)

RUNNING = "Running"
COMPLETED = "Completed"
FAILED = "Failed"
STATUSES = (RUNNING, COMPLETED, FAILED)

LOG_PREFIX = "dt_data_"
LOG_NAME = re.compile(r"^dt_data_(\d+)\.json$")
DEFAULT_INTERVAL = 5.0
LATEST = "latest"


def log_file_name(start_epoch: int) -> str:
    """`dt_data_<start epoch>.json`."""
    return f"{LOG_PREFIX}{int(start_epoch)}.json"


def epoch_of(name: str) -> int | None:
    """The start epoch in a log file name, or None when the name is not a log's."""
    match = LOG_NAME.match(name.rsplit("/", 1)[-1])
    return int(match.group(1)) if match else None


def format_epoch(epoch: float | None) -> str:
    """An epoch as `YYYY-MM-DD HH:MM:SS UTC`; empty for None."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(float(epoch), timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


# --------------------------------------------------------------------------- model
@dataclass(frozen=True)
class LogSide:
    """Where one side of a transfer is: never its credentials."""

    bucket: str
    bucket_prefix: str = ""
    region: str | None = None
    endpoint_urls: tuple[str, ...] = ()

    def fields(self, side: str) -> dict[str, Any]:
        return {
            f"{side}_bucket": self.bucket,
            f"{side}_bucket_prefix": self.bucket_prefix,
            f"{side}_region": self.region,
            f"{side}_endpoint_urls": list(self.endpoint_urls),
        }


class TransferLog:
    """The state of one transfer run, safe to update from many worker threads.

    Counters follow `s3_transfer.py`: `initial_*` are set once from the plan
    (`set_initial`), `final_*`, `bytes_transferred`, `remaining_bytes` and
    `completion_percentage` (share of all objects now in sync) move with every
    `record_moved`, so a file written mid-run is already meaningful.
    """

    def __init__(
        self,
        *,
        src: LogSide,
        dst: LogSide,
        max_workers: int,
        service: str = "s3",
        start_time_epoch: int | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.src = src
        self.dst = dst
        self.max_workers = max_workers
        self.service = service
        self._clock = clock
        self.start_time_epoch = int(start_time_epoch if start_time_epoch is not None else clock())
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.status = RUNNING
        self.end_time_epoch: int | None = None
        self.total_duration_seconds: float | None = None
        self.initial_synced_objects = 0
        self.initial_unsynced_objects = 0
        self.total_bytes_to_move = 0
        self.bytes_transferred = 0
        self._moved: list[dict[str, Any]] = []
        self._failed: dict[str, str] = {}
        self._sections: dict[str, Any] = {}

    @property
    def file_name(self) -> str:
        return log_file_name(self.start_time_epoch)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` (outside the lock) after every change."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in list(self._listeners):
            listener()

    # updates ----------------------------------------------------------------
    def set_initial(
        self, *, synced_objects: int, unsynced_objects: int, total_bytes_to_move: int
    ) -> None:
        """What the comparison found before anything moved."""
        with self._lock:
            self.initial_synced_objects = synced_objects
            self.initial_unsynced_objects = unsynced_objects
            self.total_bytes_to_move = total_bytes_to_move
        self._changed()

    def record_moved(
        self,
        src_key: str,
        dst_key: str,
        size: int,
        started: float,
        ended: float | None = None,
        **marks: str,
    ) -> None:
        """One object arrived whole at the destination (epoch seconds for the times).

        A key that had failed before (and was retried) leaves `failed_objects`.
        `marks` are extra fields of the entry: `engine` (`batch` or `local`
        when a run used S3 Batch Operations), `archive` (the tar archive that
        carried the file to a Snowball Edge).
        """
        ended = self._clock() if ended is None else ended
        entry = {
            "src_key": src_key,
            "dst_key": dst_key,
            "bytes": int(size),
            "epoch_time_start": started,
            "epoch_time_end": ended,
            "total_time_seconds": round(max(ended - started, 0.0), 3),
            **marks,
        }
        with self._lock:
            self._moved.append(entry)
            self.bytes_transferred += int(size)
            self._failed.pop(src_key, None)
        self._changed()

    def record_failed(self, key: str, reason: str) -> None:
        """An object that did not arrive; `reason` is one plain sentence."""
        with self._lock:
            self._failed[key] = reason
        self._changed()

    def set_section(self, name: str, value: Any) -> None:
        """A field after those of `s3_transfer.py` (e.g. `batch_job`, `inventory`)."""
        with self._lock:
            self._sections[name] = value
        self._changed()

    def section(self, name: str) -> Any:
        """A field set with `set_section`, or None."""
        with self._lock:
            return self._sections.get(name)

    def finish(self, status: str | None = None) -> None:
        """Stamp the end. Without `status`: Completed when nothing failed or is left, else Failed."""
        with self._lock:
            if status is None:
                left = self.initial_unsynced_objects - len(self._moved)
                status = COMPLETED if not self._failed and left <= 0 else FAILED
            if status not in STATUSES:
                raise ValueError(f"status must be one of {STATUSES}, not {status!r}")
            end = self._clock()
            self.status = status
            self.end_time_epoch = int(end)
            self.total_duration_seconds = round(max(end - self.start_time_epoch, 0.0), 3)
        self._changed()

    # views ------------------------------------------------------------------
    @property
    def failed_objects(self) -> dict[str, str]:
        with self._lock:
            return dict(self._failed)

    def to_dict(self) -> dict[str, Any]:
        """The log document, with the fields in the order `s3_transfer.py` wrote them."""
        with self._lock:
            moved = list(self._moved)  # entries are never mutated: a shallow copy is a snapshot
            failed = dict(self._failed)
            transferred = self.bytes_transferred
            status, end, duration = self.status, self.end_time_epoch, self.total_duration_seconds
            synced, unsynced = self.initial_synced_objects, self.initial_unsynced_objects
            to_move = self.total_bytes_to_move
            sections = json.loads(json.dumps(self._sections, default=str))
        total = synced + unsynced
        final_synced = synced + len(moved)
        percentage = 100.0 if total == 0 else min(final_synced / total * 100, 100.0)
        return {
            "service": self.service,
            **self.src.fields("src"),
            **self.dst.fields("dst"),
            "max_workers": self.max_workers,
            "start_time_epoch": self.start_time_epoch,
            "status": status,
            "objects_moved": moved,
            "end_time_epoch": end,
            "total_duration_seconds": duration,
            "initial_synced_objects": synced,
            "initial_unsynced_objects": unsynced,
            "final_synced_objects": final_synced,
            "final_unsynced_objects": max(unsynced - len(moved), 0),
            "completion_percentage": round(percentage, 2),
            "total_bytes_to_move": to_move,
            "bytes_transferred": transferred,
            "remaining_bytes": max(to_move - transferred, 0),
            "failed_objects": failed,
            **sections,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


# --------------------------------------------------------------------------- writer
@dataclass(frozen=True)
class S3LogTarget:
    """The `log.bucket` / `log.bucket_prefix` / `log.endpoint_urls` of a transfer config."""

    bucket: str
    prefix: str = ""
    endpoint_urls: tuple[str, ...] = ()

    def key_for(self, name: str) -> str:
        prefix = self.prefix.strip("/")
        return f"{prefix}/{name}" if prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key_for('')}"


class LogWriter:
    """Writes a `TransferLog` to a local folder (atomically) and to S3.

    While the run goes on, a change writes the file at most once every
    `interval` seconds; `flush()` and leaving the `with` block always write.
    Writes happen on the thread that made the change, never two at once; a
    thread that finds a write in progress does not wait for it. With
    `background=True` a daemon thread also writes changes that a throttled
    write skipped, so the file is never more than `interval` seconds behind
    while one large object takes minutes.

    A local folder that cannot be written is a `ConfigError` at `start()`, and
    a log bucket that cannot be written an `AwsError` there, so the transfer
    does not begin. A write or upload that fails mid-run is logged and tried
    again at the next write; one that fails at the end raises (the local file
    is written before the upload is tried).
    """

    def __init__(
        self,
        log: TransferLog,
        directory: Path | str | None,
        *,
        s3: S3LogTarget | None = None,
        factory: ClientFactory | None = None,
        interval: float = DEFAULT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        background: bool = True,
        pause: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        """`pause(stop, seconds)` is how the background thread waits between
        catch-ups (True: stop); tests pass one that waits for their signal."""
        if directory is None and s3 is None:
            raise ConfigError(
                "The transfer log has nowhere to go.",
                "Set log.local_directory or log.bucket in the transfer config.",
            )
        if s3 is not None and factory is None:
            raise ValueError("an S3 log target needs a ClientFactory")
        self.log = log
        self.directory = Path(directory) if directory is not None else None
        self.s3 = s3
        self.factory = factory
        self.interval = interval
        self._clock = clock
        self._write_lock = threading.Lock()
        self._last_write: float | None = None
        self._dirty = False
        self._background = background
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pause = pause or (lambda stop, seconds: stop.wait(seconds))
        self.writes = 0
        self.uploads = 0

    @property
    def path(self) -> Path | None:
        """The local log file, or None when only S3 is configured."""
        return self.directory / self.log.file_name if self.directory is not None else None

    def start(self) -> None:
        """Check the folder, pick a free file name, write the first version and follow changes."""
        if self.directory is not None:
            self._prepare_directory(self.directory)
            while self.path is not None and self.path.exists():
                # Two runs started in the same second: the later one takes the next second.
                self.log.start_time_epoch += 1
        self._write(final=True)
        self.log.add_listener(self.maybe_flush)
        if self._background:
            self._thread = threading.Thread(
                target=self._catch_up, name="s32s-transfer-log", daemon=True
            )
            self._thread.start()

    def maybe_flush(self) -> bool:
        """Write if the last write is at least `interval` seconds old; True when written."""
        self._dirty = True
        if self._last_write is not None and self._clock() - self._last_write < self.interval:
            return False
        if not self._write_lock.acquire(blocking=False):
            return False
        try:
            return self._write_locked(final=False)
        finally:
            self._write_lock.release()

    def flush(self) -> None:
        """Write now (waiting for a write in progress); upload errors raise `AwsError`."""
        self._write(final=True)

    def close(self, status: str | None = None) -> None:
        """Finish the log (see `TransferLog.finish`) and write it a last time."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.log.finish(status)
        self.flush()

    def __enter__(self) -> LogWriter:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close(FAILED if exc_type is not None else None)

    # internals --------------------------------------------------------------
    def _catch_up(self) -> None:
        while not self._pause(self._stop, self.interval):
            if self._dirty:
                with self._write_lock:
                    self._write_locked(final=False)

    def _write(self, *, final: bool) -> None:
        with self._write_lock:
            self._write_locked(final=final)

    def _write_locked(self, *, final: bool) -> bool:
        """Write (and upload) the current state. Mid-run failures are logged, never raised:
        they must not turn into a failure of the object whose record triggered them."""
        self._dirty = False
        self._last_write = self._clock()
        text = self.log.to_json()
        try:
            if self.path is not None:
                self._write_local(self.path, text)
            self.writes += 1
            if self.s3 is not None:
                self._upload(text)
        except S32SError as exc:
            if final:
                raise
            self._dirty = True
            logger.warning("Could not update the transfer log: %s", exc)
            return False
        return True

    @staticmethod
    def _prepare_directory(directory: Path) -> None:
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe_writable(directory)
        except OSError as exc:
            raise ConfigError(
                f"Cannot write transfer logs in {directory}: {exc.strerror or exc}.",
                "Check log.local_directory in the transfer config and its permissions.",
            ) from None

    @staticmethod
    def _write_local(path: Path, text: str) -> None:
        try:
            write_atomically(path, text)
        except OSError as exc:
            raise ConfigError(
                f"Cannot write the transfer log {path}: {exc.strerror or exc}.",
                "Check log.local_directory in the transfer config and its permissions.",
            ) from None

    def _upload(self, text: str) -> None:
        from s32s.aws.clients import translate_error

        assert self.s3 is not None and self.factory is not None
        key = self.s3.key_for(self.log.file_name)
        endpoints: list[str | None] = list(self.s3.endpoint_urls) or [None]
        error: AwsError | None = None
        for endpoint in endpoints:
            try:
                self.factory.s3(endpoint_url=endpoint).put_object(
                    Bucket=self.s3.bucket,
                    Key=key,
                    Body=text.encode("utf-8"),
                    ContentType="application/json",
                )
                self.uploads += 1
                return
            except Exception as exc:
                translated = translate_error(exc, bucket=self.s3.bucket, endpoint=endpoint)
                if translated is None:
                    raise
                error = translated
        assert error is not None
        raise AwsError(
            f"Could not upload the transfer log to {self.s3}: {error.message}", error.hint
        )


# --------------------------------------------------------------------------- readers
class LogSource(Protocol):
    """Somewhere log files are kept: a local folder or an S3 prefix."""

    description: str

    def names(self) -> list[str]:
        """The file names of the logs (not their paths), in any order."""
        ...

    def read(self, name: str) -> bytes:
        """The content of one log; `LogNotFound` when it is gone."""
        ...


class LogNotFound(ConfigError):
    """No log for the epoch asked for."""


class LocalLogSource:
    """Logs in a local folder (not its subfolders)."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.description = str(self.directory)

    def names(self) -> list[str]:
        if not self.directory.is_dir():
            raise ConfigError(
                f"The log folder {self.directory} does not exist.",
                "Pass --dir with the transfer config's log.local_directory, or --s3 with its log bucket.",
            )
        try:
            return [entry.name for entry in self.directory.iterdir() if epoch_of(entry.name)]
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the log folder {self.directory}: {exc.strerror or exc}."
            ) from None

    def read(self, name: str) -> bytes:
        try:
            return (self.directory / name).read_bytes()
        except FileNotFoundError:
            raise LogNotFound(f"The log {self.directory / name} does not exist.") from None
        except OSError as exc:
            raise ConfigError(
                f"Cannot read the log {self.directory / name}: {exc.strerror or exc}."
            ) from None


class S3LogSource:
    """Logs directly under an S3 prefix."""

    def __init__(self, url: S3Url, factory: ClientFactory) -> None:
        self.url = url
        self.factory = factory
        self.description = str(url)

    def names(self) -> list[str]:
        from s32s.aws.clients import aws_errors

        prefix = self.url.key_prefix()
        names: list[str] = []
        with aws_errors(bucket=self.url.bucket):
            paginator = self.factory.s3().get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.url.bucket, Prefix=prefix, Delimiter="/"):
                for item in page.get("Contents", []):
                    name = item["Key"][len(prefix) :]
                    if epoch_of(name) is not None:
                        names.append(name)
        return names

    def read(self, name: str) -> bytes:
        from s32s.aws.clients import aws_errors

        key = f"{self.url.key_prefix()}{name}"
        client = self.factory.s3()
        try:
            with aws_errors(bucket=self.url.bucket):
                body: bytes = client.get_object(Bucket=self.url.bucket, Key=key)["Body"].read()
                return body
        except AwsError as exc:
            if _is_missing(exc):
                raise LogNotFound(f"The log s3://{self.url.bucket}/{key} does not exist.") from None
            raise


def _is_missing(exc: AwsError) -> bool:
    cause = exc.__cause__
    return error_code(cause) in ("NoSuchKey", "404")


@dataclass(frozen=True)
class StoredLog:
    """One log file as read back: its start epoch, where it came from and its document."""

    epoch: int
    location: str
    data: dict[str, Any]

    @property
    def objects_moved(self) -> list[dict[str, Any]]:
        moved = self.data.get("objects_moved")
        return moved if isinstance(moved, list) else []

    def document(self, *, include_objects: bool = False) -> dict[str, Any]:
        """The log; without `include_objects`, `objects_moved` becomes `objects_moved_count`."""
        if include_objects:
            return dict(self.data)
        document = {key: value for key, value in self.data.items() if key != "objects_moved"}
        document["objects_moved_count"] = len(self.objects_moved)
        return document

    def summary(self) -> dict[str, Any]:
        """The few fields `logs list` shows."""
        data = self.data
        return {
            "epoch": self.epoch,
            "start_time": format_epoch(self.epoch),
            "status": data.get("status"),
            "objects_moved": len(self.objects_moved),
            "failed_objects": len(data.get("failed_objects") or {}),
            "bytes_transferred": data.get("bytes_transferred"),
            "completion_percentage": data.get("completion_percentage"),
            "total_duration_seconds": data.get("total_duration_seconds"),
        }


@dataclass
class LogListing:
    """The logs found, oldest first, and a sentence for each file that could not be read."""

    logs: list[StoredLog] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator[StoredLog]:
        return iter(self.logs)


class LogStore:
    """Finds, filters and loads logs from one source."""

    def __init__(self, source: LogSource) -> None:
        self.source = source

    @property
    def description(self) -> str:
        return self.source.description

    def epochs(self, start: int | None = None, end: int | None = None) -> list[int]:
        """Start epochs of the logs with `start <= epoch <= end`, oldest first."""
        found = {epoch_of(name) for name in self.source.names()}
        return sorted(
            epoch
            for epoch in found
            if epoch is not None
            and (start is None or epoch >= start)
            and (end is None or epoch <= end)
        )

    def list(
        self,
        start: int | None = None,
        end: int | None = None,
        *,
        known: Callable[[int], StoredLog | None] | None = None,
    ) -> LogListing:
        """Every log in the range; unreadable files are reported in `problems`, not raised.

        One listing of the source, then one read per log, except for the logs
        `known(epoch)` already holds (a caller's cache of finished runs).
        """
        listing = LogListing()
        for epoch in self.epochs(start, end):
            cached = known(epoch) if known is not None else None
            if cached is not None:
                listing.logs.append(cached)
                continue
            try:
                listing.logs.append(self._read(epoch))
            except LogNotFound:
                continue  # deleted between listing and reading
            except ConfigError as exc:
                listing.problems.append(exc.message)
        return listing

    def load(self, which: int | str) -> StoredLog:
        """The log of one start epoch, or the newest for `latest`."""
        return self._read(self._resolve(which))

    def _read(self, epoch: int) -> StoredLog:
        name = log_file_name(epoch)
        location = f"{self.description.rstrip('/')}/{name}"
        raw = self.source.read(name)
        return StoredLog(epoch, location, parse_log(raw, location))

    def _resolve(self, which: int | str) -> int:
        if isinstance(which, str) and which.strip().lower() == LATEST:
            epochs = self.epochs()
            if not epochs:
                raise LogNotFound(
                    f"There is no transfer log in {self.description}.",
                    "Check --dir or --s3; logs are named dt_data_<epoch>.json.",
                )
            return epochs[-1]
        epoch = parse_epoch(which)
        if epoch not in self.epochs(epoch, epoch):
            raise LogNotFound(
                f"There is no transfer log {log_file_name(epoch)} in {self.description}.",
                "Run `s32s logs list` to see the epochs there.",
            )
        return epoch


def parse_epoch(value: int | str, *, what: str = "epoch") -> int:
    """A non-negative integer epoch, or `ConfigError` naming `what`."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip()
        if not text.isdigit():
            raise ConfigError(
                f"The {what} {value!r} is not a whole number of seconds since 1970.",
                "Give an epoch such as 1700000000, or `latest`.",
            )
        number = int(text)
    if number < 0:
        raise ConfigError(f"The {what} {value!r} is negative.")
    return number


def parse_log(raw: bytes, location: str) -> dict[str, Any]:
    """The JSON document of a log file, or `ConfigError` naming the file."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"The transfer log {location} is not valid JSON ({exc}).",
            "It may have been cut short; remove or repair it.",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"The transfer log {location} is not a JSON object.",
            "Only files written by a transfer run belong there; remove it.",
        )
    return data


def open_store(
    directory: Path | str | None = None,
    s3_path: str | None = None,
    factory: ClientFactory | None = None,
) -> LogStore:
    """A `LogStore` over a folder or, when `s3_path` is given, an S3 prefix."""
    if s3_path is not None:
        from s32s.paths import parse_s3_url

        if factory is None:
            raise ValueError("reading logs from S3 needs a ClientFactory")
        return LogStore(S3LogSource(parse_s3_url(s3_path, what="Log path"), factory))
    return LogStore(LocalLogSource(directory if directory is not None else Path("logs")))
