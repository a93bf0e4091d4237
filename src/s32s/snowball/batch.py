"""Small files to a Snowball Edge in tar archives (`--snowball-batch`).

Every object written to a Snowball Edge pays a fixed cost (the device
encrypts each one), so thousands of small files crawl. The Snowball Edge
guide's answer is to batch them: a tar archive uploaded with the metadata
`snowball-auto-extract: true` is unpacked into separate objects when the
device's data is imported into Amazon S3. Its documented limits, kept here:

- files of 1 MB or less belong in batches (`SMALL_FILE`; larger ones go
  one object each, as without batching);
- about 10,000 files per batch (`FILES_PER_ARCHIVE`; more than 100,000
  slows the import);
- a batch over 100 GB is not extracted at all; s32s keeps each archive far
  below, at 1 GiB by default (`ARCHIVE_BYTES`), and sends it in one PUT
  (at most 5 GiB).

A member's name in the archive is the object's full key, which is where the
import puts it. Archives and their indexes go under `.s32s-snowball/` in the
destination prefix; each `NAME.tar` has a `NAME.json` index (`archive`,
`files`: `{key: {size, mtime}}`), which `BatchedStore` lists as if the files
were already there, so a second run (the device does not unpack) does not
send them again. The transfer log records which archive carries each file.
"""

from __future__ import annotations

import contextlib
import json
import os
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, BinaryIO

from s32s.errors import ConfigError
from s32s.sync.bwlimit import paced
from s32s.sync.entries import Entry, format_mtime
from s32s.sync.events import NullReporter, Report, Reporter
from s32s.sync.plan import Action
from s32s.sync.s3 import FileSlice, S3Store
from s32s.sync.store import Store

MB = 1000 * 1000
GiB = 1024 * 1024 * 1024
SMALL_FILE = 1 * MB
FILES_PER_ARCHIVE = 10_000
ARCHIVE_BYTES = 1 * GiB
MAX_ARCHIVE_BYTES = 5 * GiB  # one PUT; the auto-extract limit (100 GB) is far above
AUTO_EXTRACT = {"snowball-auto-extract": "true"}
ARCHIVE_FOLDER = ".s32s-snowball"
ARCHIVES_AT_ONCE = 8  # archives uploaded in parallel, each a large PUT
TAR_BLOCK = 512


@dataclass(frozen=True)
class BatchLimits:
    """Which files go into archives and how big an archive may grow."""

    small_file: int = SMALL_FILE
    files_per_archive: int = FILES_PER_ARCHIVE
    archive_bytes: int = ARCHIVE_BYTES

    def __post_init__(self) -> None:
        if not 0 < self.archive_bytes <= MAX_ARCHIVE_BYTES:
            raise ConfigError(
                f"A Snowball batch archive may hold up to {MAX_ARCHIVE_BYTES} bytes "
                f"(one PUT), not {self.archive_bytes}."
            )
        if self.files_per_archive < 1 or self.small_file < 0:
            raise ConfigError("Snowball batch limits must be positive.")


@dataclass
class Archive:
    """One tar archive to write: its name and the plan's actions it carries."""

    name: str
    actions: list[Action] = field(default_factory=list)
    size: int = 0  # the tar's size, headers and padding included

    @property
    def tar_key(self) -> str:
        return f"{ARCHIVE_FOLDER}/{self.name}.tar"

    @property
    def index_key(self) -> str:
        return f"{ARCHIVE_FOLDER}/{self.name}.json"


def tar_size(size: int) -> int:
    """What one member takes in a tar: a header block and its data padded to 512 bytes.

    Long names need a PAX header too; `plan_archives` allows for it with one
    more block and the name's length.
    """
    return TAR_BLOCK + -(-size // TAR_BLOCK) * TAR_BLOCK


def plan_archives(
    actions: list[Action], limits: BatchLimits, run_id: str
) -> tuple[list[Archive], list[Action]]:
    """(archives of the small copies, copies that go one object each)."""
    archives: list[Archive] = []
    single: list[Action] = []
    current: Archive | None = None
    for action in actions:
        if action.size > limits.small_file:
            single.append(action)
            continue
        cost = tar_size(action.size) + 2 * TAR_BLOCK + len(action.key.encode("utf-8"))
        if (
            current is None
            or len(current.actions) >= limits.files_per_archive
            or current.size + cost > limits.archive_bytes
        ):
            current = Archive(f"{run_id}-{len(archives) + 1:05d}", size=2 * TAR_BLOCK)
            archives.append(current)
        current.actions.append(action)
        current.size += cost
    return archives, single


def archive_of(archives: list[Archive], dest: S3Store) -> dict[str, str]:
    """{relative key: the archive's object key} for logs."""
    return {
        action.key: dest.object_key(archive.tar_key)
        for archive in archives
        for action in archive.actions
    }


# --------------------------------------------------------------------------- writing
def _open_source(source: Store, action: Action) -> tuple[BinaryIO, int | None]:
    """A reader for one member and its mtime (ns), from a folder or a bucket."""
    entry = action.source or Entry(action.key, size=action.size)
    opened = source.open_read(entry)
    return opened.body, opened.mtime_ns if opened.mtime_ns is not None else entry.mtime_ns


def write_archive(source: Any, dest: S3Store, archive: Archive, out: BinaryIO) -> dict[str, Any]:
    """Write `archive`'s members to `out` as a tar; returns the index document."""
    files: dict[str, dict[str, Any]] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for action in archive.actions:
            reader, mtime_ns = _open_source(source, action)
            with contextlib.closing(reader):
                info = tarfile.TarInfo(dest.object_key(action.key))
                info.size = action.size
                info.mtime = (mtime_ns or time.time_ns()) // 1_000_000_000
                info.mode = 0o644
                tar.addfile(info, reader)
            files[action.key] = {
                "size": action.size,
                "mtime": format_mtime(mtime_ns) if mtime_ns is not None else None,
            }
    return {"archive": dest.object_key(archive.tar_key), "files": files}


def upload_archive(source: Any, dest: S3Store, archive: Archive, on_bytes: Any = None) -> None:
    """Build the tar in a temporary file, PUT it with the auto-extract metadata, then its index."""
    with tempfile.TemporaryDirectory(prefix="s32s-snowball-") as folder:
        path = os.path.join(folder, f"{archive.name}.tar")
        with open(path, "wb") as out:
            index = write_archive(source, dest, archive, out)
        size = os.path.getsize(path)
        with FileSlice(path, 0, size, on_bytes) as body:
            dest.client.put_object(
                Bucket=dest.url.bucket,
                Key=dest.object_key(archive.tar_key),
                Body=body,
                ContentLength=size,
                Metadata=dict(AUTO_EXTRACT),
                **dest.settings.write_args(archive.tar_key, "application/x-tar"),
            )
    dest.client.put_object(
        Bucket=dest.url.bucket,
        Key=dest.object_key(archive.index_key),
        Body=json.dumps(index, indent=1).encode("utf-8"),
        **dest.settings.write_args(archive.index_key, "application/json"),
    )


def run_archives(
    source: Any,
    dest: S3Store,
    archives: list[Archive],
    report: Report,
    reporter: Reporter | None = None,
    *,
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Upload the archives (up to ARCHIVES_AT_ONCE, fewer with small `workers`);
    every member succeeds or fails with its archive."""
    from s32s.sync.execute import describe_failure

    reporter = reporter or NullReporter()
    lock = threading.Lock()

    def one(archive: Archive) -> None:
        if stop is not None and stop.is_set():
            return
        for action in archive.actions:
            reporter.started(action)
        try:
            upload_archive(source, dest, archive, reporter.advanced)
        except Exception as exc:
            reason = f"archive {archive.name}: {describe_failure(exc)}"
            with lock:
                for action in archive.actions:
                    report.failed[action.key] = reason
            for action in archive.actions:
                reporter.finished(action, reason)
            return
        with lock:
            report.copied += len(archive.actions)
            report.bytes_copied += sum(action.size for action in archive.actions)
        for action in archive.actions:
            reporter.finished(action, None)

    at_once = min(workers or ARCHIVES_AT_ONCE, ARCHIVES_AT_ONCE)
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        list(pool.map(one, archives))


def execute_batched(
    prepared: Any,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    *,
    limits: BatchLimits | None = None,
    run_id: str | None = None,
    on_archives: Callable[[dict[str, str]], None] | None = None,
) -> Report:
    """Run a prepared sync with its small copies in archives, the rest as usual.

    Archives go first; deletions (a mirror) run only when every archive
    arrived, as after any failed copy. `on_archives` is told, before anything
    is sent, which archive will carry each file (`archive_of`).
    """
    from s32s.sync.job import execute

    dest = prepared.job.dest
    if not isinstance(dest, S3Store):
        raise ConfigError("--snowball-batch needs an S3 destination (a Snowball Edge bucket).")
    plan = prepared.plan
    archives, single = plan_archives(
        plan.copies, limits or BatchLimits(), run_id or time.strftime("%Y%m%dT%H%M%S")
    )
    report = prepared.empty_report()
    if prepared.refused:
        return report
    if on_archives is not None:
        on_archives(archive_of(archives, dest))
    run_archives(
        prepared.job.source,
        dest,
        archives,
        report,
        paced(reporter or NullReporter(), prepared.job.execute_options.bandwidth),
        workers=prepared.job.execute_options.workers,
        stop=stop,
    )
    rest = replace(plan, copies=single)
    if report.failed:
        rest = replace(rest, deletes=[], rmdirs=[])
    remaining = execute(replace(prepared, plan=rest), reporter, stop)
    remaining.copied += report.copied
    remaining.bytes_copied += report.bytes_copied
    remaining.failed.update(report.failed)
    if report.failed and (plan.deletes or plan.rmdirs):
        remaining.deletes_skipped = "some archives failed: nothing was deleted"
    return remaining


# --------------------------------------------------------------------------- listing
class BatchedStore(S3Store):
    """An S3 destination that lists the files its archives carry as present.

    The archives and indexes themselves are hidden from the listing, so a
    mirror never deletes them and a second run does not send their files again.
    """

    def list(self) -> Iterator[Entry]:
        listed: set[str] = set()
        indexes: list[str] = []
        folder = f"{ARCHIVE_FOLDER}/"
        for entry in super().list():
            if entry.key == ARCHIVE_FOLDER or entry.key.startswith(folder):
                if entry.key.endswith(".json"):
                    indexes.append(entry.key)
                continue
            listed.add(entry.key)
            yield entry
        for key in sorted(indexes):
            yield from self._index_entries(key, listed)

    def _index_entries(self, key: str, listed: set[str]) -> Iterator[Entry]:
        from s32s.sync.entries import parse_mtime

        body = self.client.get_object(Bucket=self.url.bucket, Key=self.object_key(key))["Body"]
        try:
            files = json.loads(body.read().decode("utf-8"))["files"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return  # not an index of ours: the files are sent again, nothing is lost
        for relative, info in sorted(files.items()):
            if relative in listed or not isinstance(info, dict):
                continue
            listed.add(relative)
            yield Entry(
                relative,
                size=int(info.get("size") or 0),
                mtime_ns=parse_mtime(info.get("mtime")),
                mtime_known=True,
            )

    @classmethod
    def wrap(cls, store: S3Store) -> BatchedStore:
        return cls(
            store.url,
            store.client,
            cache=store.cache,
            part_pool=store.part_pool,
            endpoint=store.endpoint,
            settings=store.settings,
        )


def batched_job(job: Any) -> Any:
    """`job` with its S3 destination listed through its archive indexes."""
    if not isinstance(job.dest, S3Store):
        raise ConfigError(
            "--snowball-batch needs an S3 destination (s3://bucket/prefix on a Snowball Edge)."
        )
    return replace(job, dest=BatchedStore.wrap(job.dest))


@dataclass
class SnowballBatching:
    """`--snowball-batch` for one run: wraps the job, runs it, remembers the archives.

    batching = SnowballBatching()
    report = batching.run(prepare(batching.job(job)))
    batching.archives      # {file: archive key}
    """

    limits: BatchLimits = field(default_factory=BatchLimits)
    archives: dict[str, str] = field(default_factory=dict)

    def job(self, job: Any) -> Any:
        return batched_job(job)

    def run(
        self, prepared: Any, reporter: Reporter | None = None, stop: threading.Event | None = None
    ) -> Report:
        return execute_batched(
            prepared, reporter, stop, limits=self.limits, on_archives=self.archives.update
        )

    def by_archive(self) -> dict[str, list[str]]:
        """{archive key: the files it carries}."""
        grouped: dict[str, list[str]] = {}
        for key, archive in sorted(self.archives.items()):
            grouped.setdefault(archive, []).append(key)
        return grouped
