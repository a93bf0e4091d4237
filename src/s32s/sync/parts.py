"""Large files in parts: parallel parts up, parallel ranges down, and what is kept to resume them.

An upload above the multipart threshold is split into parts sent on the part
pool; a download above it is fetched as ranged GETs written at their offsets
into a temporary file. Both leave a small record behind while they run, so a
run that is interrupted (Ctrl-C, a kill, a lost network, a crash) is
continued by the next one instead of starting from byte zero:

- **Uploads**: `UploadJournal` keeps one JSON file per unfinished multipart
  upload in the state folder (`uploads/`), keyed by endpoint, bucket and key,
  with the upload id, part size, and the file's size and mtime. The record is
  written right after CreateMultipartUpload and removed once the upload is
  completed or aborted.
- **Downloads**: `PartialDownload` is the temporary file beside the target
  (`.NAME.partial.s32s-tmp`) plus a record beside it (`.NAME.partial-state.s32s-tmp`)
  with the object's ETag, size, part size, mtime and the parts already written
  (each flushed to disk before it is recorded).

A record that cannot be read, or that no longer matches, only means starting
over: it never decides what the final object or file holds on its own (reused
upload parts are checked against the local bytes; downloaded ranges are pinned
to the recorded ETag).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from s32s.atomicfile import write_atomically
from s32s.sync.state import location_id, state_dir
from s32s.sync.store import ProgressCallback

MiB = 1024 * 1024
MAX_PARTS = 10_000
RECORD_VERSION = 1
PARTS_IN_FLIGHT = 16  # the part pool's width: parts of large files sent or fetched at once


class Interrupted(BaseException):
    """The run was asked to stop.

    A BaseException, like KeyboardInterrupt: raised while botocore reads a
    part's body, an Exception would be taken for a transient failure and
    retried.
    """


def part_size_for(size: int, preferred: int) -> int:
    """The part size for an object of `size` bytes: `preferred`, grown to stay within 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    return max(preferred, math.ceil(needed / MiB) * MiB)


def part_count(size: int, part_size: int) -> int:
    return max(1, math.ceil(size / part_size))


def part_span(number: int, part_size: int, size: int) -> tuple[int, int]:
    """(offset, length) of part `number` (1-based) of an object of `size` bytes."""
    start = (number - 1) * part_size
    return start, max(0, min(part_size, size - start))


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise Interrupted()


class FileSlice:
    """A seekable window on a file, so each part streams from disk instead of memory.

    Reading stops with `Interrupted` as soon as `stop` is set, so Ctrl-C does
    not wait for the parts in flight.
    """

    def __init__(
        self,
        path: str,
        start: int,
        length: int,
        on_read: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start = start
        self._length = length
        self._position = 0
        self._on_read = on_read
        self._stop = stop
        self._file.seek(start)

    def read(self, amount: int = -1) -> bytes:
        check_stop(self._stop)
        remaining = self._length - self._position
        if amount is None or amount < 0 or amount > remaining:
            amount = remaining
        data = self._file.read(amount)
        self._position += len(data)
        if self._on_read and data:
            self._on_read(len(data))
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._position + offset
        else:
            position = self._length + offset
        if self._on_read and position < self._position:
            self._on_read(position - self._position)  # a retry rewinds: take the bytes back
        self._position = max(0, min(position, self._length))
        self._file.seek(self._start + self._position)
        return self._position

    def tell(self) -> int:
        return self._position

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FileSlice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def slice_md5(path: str, start: int, length: int) -> str:
    """The MD5 of `length` bytes of a file from `start`: what S3 gives a part as its ETag."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(remaining, MiB))
            if not data:
                break
            digest.update(data)
            remaining -= len(data)
    return digest.hexdigest()


def run_parts(
    pool: Executor,
    numbers: Iterable[int],
    open_part: Callable[[int], Any],
    send: Callable[[int, Any], Any],
    *,
    window: int,
    stop: threading.Event | None = None,
) -> list[Any]:
    """Run `send(number, open_part(number))` for each part on `pool`, at most `window` at once.

    Parts are opened here, in order, so a streamed source is consumed
    sequentially and memory stays within the window. Results come back in the
    order the parts finished. A failure (or `stop`) cancels the parts not yet
    started and waits for the running ones before it is raised.
    """
    results: list[Any] = []
    pending: set[Any] = set()
    waiting = iter(numbers)
    exhausted = False
    try:
        while not exhausted or pending:
            while not exhausted and len(pending) < window:
                number = next(waiting, None)
                if number is None:
                    exhausted = True
                    break
                check_stop(stop)
                pending.add(pool.submit(send, number, open_part(number)))
            if not pending:
                break
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            results += [future.result() for future in done]
    except BaseException:
        for future in pending:
            future.cancel()
        wait(pending)
        raise
    return results


def part_pool(workers: int | None) -> ThreadPoolExecutor:
    """The pool that sends and fetches the parts of large files, shared by a run's files.

    Up to PARTS_IN_FLIGHT parts: enough to fill a long link with one large
    file, few enough that parts never starve the pool of whole small files.
    """
    width = max(4, min(workers or PARTS_IN_FLIGHT, PARTS_IN_FLIGHT))
    return ThreadPoolExecutor(max_workers=width, thread_name_prefix="s32s-part")


def pool_width(pool: Executor | None) -> int:
    return max(1, int(getattr(pool, "_max_workers", 4)))


# unfinished uploads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadRecord:
    """One multipart upload s32s started and has not completed or aborted yet."""

    endpoint: str
    bucket: str
    key: str
    upload_id: str
    part_size: int
    size: int
    mtime_ns: int | None
    host: str = ""  # the machine and process that started it
    pid: int = 0

    def matches(self, size: int, mtime_ns: int | None, part_size: int) -> bool:
        return (self.size, self.mtime_ns, self.part_size) == (size, mtime_ns, part_size)

    def is_running_elsewhere(self) -> bool:
        """True when another s32s process on this machine that may still be sending it is alive."""
        if self.host != socket.gethostname() or self.pid in (0, os.getpid()) or os.name != "posix":
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except OSError:
            return True  # alive, but another user's
        return True


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` with `data` in one rename, so a crash leaves the old record or the new one."""
    write_atomically(path, json.dumps(data, separators=(",", ":")))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            path.unlink()  # damaged: forget it and start over
        return None
    return data if isinstance(data, dict) else None


class UploadJournal:
    """s32s's own unfinished multipart uploads on one endpoint, one JSON file each.

    Only uploads recorded here are ever resumed or aborted by s32s: an upload
    another program started is never touched.
    """

    def __init__(self, folder: Path, endpoint: str | None) -> None:
        self.folder = folder
        self.endpoint = endpoint or ""

    @classmethod
    def for_endpoint(cls, endpoint: str | None) -> UploadJournal:
        return cls(state_dir() / "uploads", endpoint)

    def _path(self, bucket: str, key: str) -> Path:
        return self.folder / f"{location_id(self.endpoint, bucket, key)}.json"

    def load(self, bucket: str, key: str) -> UploadRecord | None:
        """The record for `key`, or None (a damaged record is removed and counts as none)."""
        path = self._path(bucket, key)
        record = self._parse(path, _read_json(path))
        if record is not None and (record.endpoint, record.bucket, record.key) != (
            self.endpoint,
            bucket,
            key,
        ):
            return None
        return record

    @staticmethod
    def _parse(path: Path, data: dict[str, Any] | None) -> UploadRecord | None:
        if data is None:
            return None
        try:
            if data.pop("version") != RECORD_VERSION:
                raise ValueError("unknown version")
            record = UploadRecord(**data)
            mtime_ok = record.mtime_ns is None or isinstance(record.mtime_ns, int)
            if not (
                all(isinstance(v, str) for v in (record.endpoint, record.bucket, record.key))
                and isinstance(record.upload_id, str)
                and record.upload_id
                and isinstance(record.part_size, int)
                and record.part_size > 0
                and isinstance(record.size, int)
                and mtime_ok
            ):
                raise ValueError("bad field")
        except (KeyError, TypeError, ValueError):
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        return record

    def save(self, record: UploadRecord) -> None:
        _write_json(
            self._path(record.bucket, record.key), {"version": RECORD_VERSION, **asdict(record)}
        )

    def forget(self, bucket: str, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(bucket, key).unlink()

    def under(self, bucket: str, prefix: str) -> Iterator[UploadRecord]:
        """The records of this endpoint for keys below `prefix` in `bucket`."""
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.glob("*.json")):
            record = self._parse(path, _read_json(path))
            if (
                record is not None
                and record.endpoint == self.endpoint
                and record.bucket == bucket
                and record.key.startswith(prefix)
            ):
                yield record


# unfinished downloads -------------------------------------------------------------------------


@dataclass
class DownloadRecord:
    etag: str
    size: int
    part_size: int
    mtime_ns: int | None = None
    done: set[int] = field(default_factory=set)


class PartialDownload:
    """A download written in parts into a temporary file, with what is done recorded beside it."""

    def __init__(self, data_path: Path, record_path: Path) -> None:
        self.data_path = data_path
        self.record_path = record_path
        self.record: DownloadRecord | None = None
        self._lock = threading.Lock()

    def resume(self, etag: str, size: int, part_size: int) -> set[int]:
        """Parts already written for this very object (same ETag, size and part size).

        Anything else (no record, a damaged one, another version of the object,
        a temporary file of the wrong size) starts over from an empty file.
        """
        previous = self._load()
        if (
            previous is not None
            and (previous.etag, previous.size, previous.part_size) == (etag, size, part_size)
            and self._data_size() == size
        ):
            self.record = previous
            return set(previous.done)
        self.record = DownloadRecord(etag, size, part_size)
        with open(self.data_path, "wb") as handle:
            handle.truncate(size)
        self._save()
        return set()

    def _data_size(self) -> int | None:
        try:
            return self.data_path.stat().st_size
        except OSError:
            return None

    def _load(self) -> DownloadRecord | None:
        data = _read_json(self.record_path)
        if data is None:
            return None
        try:
            if data.get("version") != RECORD_VERSION:
                raise ValueError("unknown version")
            record = DownloadRecord(
                etag=str(data["etag"]),
                size=int(data["size"]),
                part_size=int(data["part_size"]),
                mtime_ns=None if data.get("mtime_ns") is None else int(data["mtime_ns"]),
                done={int(number) for number in data["done"]},
            )
            if record.part_size <= 0 or any(
                n < 1 or n > part_count(record.size, record.part_size) for n in record.done
            ):
                raise ValueError("bad part number")
        except (KeyError, TypeError, ValueError):
            return None
        return record

    def _save(self) -> None:
        assert self.record is not None
        data = asdict(self.record)
        data["done"] = sorted(self.record.done)
        _write_json(self.record_path, {"version": RECORD_VERSION, **data})

    def set_mtime(self, mtime_ns: int | None) -> None:
        with self._lock:
            assert self.record is not None
            if self.record.mtime_ns != mtime_ns:
                self.record.mtime_ns = mtime_ns
                self._save()

    def write_part(self, number: int, chunks: Iterable[bytes], on_bytes: ProgressCallback) -> int:
        """Write one part's bytes at its offset, flush them to disk, then record it as done."""
        assert self.record is not None
        offset, length = part_span(number, self.record.part_size, self.record.size)
        written = 0
        with open(self.data_path, "r+b") as handle:
            handle.seek(offset)
            for chunk in chunks:
                if written + len(chunk) > length:
                    raise OSError(f"part {number} sent more than the {length} bytes asked for")
                handle.write(chunk)
                written += len(chunk)
                on_bytes(len(chunk))
            if written != length:
                raise OSError(f"part {number}: received {written} of {length} bytes")
            handle.flush()
            os.fsync(handle.fileno())
        with self._lock:
            self.record.done.add(number)
            self._save()
        return written

    def discard(self) -> None:
        for path in (self.data_path, self.record_path):
            with contextlib.suppress(OSError):
                path.unlink()
