"""`backup create`: a new snapshot, incremental against the newest complete one.

The source is listed and compared with the newest complete snapshot's
manifest by the engine's own comparison (`make_plan`), so a file is
"unchanged" for a backup exactly when a sync would skip it. Unchanged files
are copied server-side from that snapshot (no upload); new and changed
files are uploaded (or copied server-side from an S3 source). The snapshot
folder is listed once at the end, and the manifest, built from what is
really there, is written last: a snapshot with a manifest is whole. A run
that fails or is interrupted leaves an unfinished snapshot, which the next
create ignores as a base and `prune` removes.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from s32s.backup.location import BackupLocation, Snapshot, Status, snapshot_name
from s32s.backup.lock import location_lock
from s32s.backup.manifest import MANIFEST_NAME, FileRecord, Manifest, ManifestError
from s32s.backup.report import BackupReport
from s32s.errors import ConfigError
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url, is_s3_url, parse_s3_url
from s32s.sync.compare import CompareOptions
from s32s.sync.entries import Entry
from s32s.sync.events import NullReporter, Report, Reporter
from s32s.sync.execute import ExecuteOptions, describe_failure, run_plan
from s32s.sync.ignore import IgnoreRules
from s32s.sync.local import LocalStore
from s32s.sync.plan import Action, Kind, Plan, PlanOptions, make_plan
from s32s.sync.s3 import S3Store
from s32s.sync.state import MetadataCache
from s32s.sync.store import Store


@dataclass(frozen=True)
class CreateOptions:
    ignore: tuple[str, ...] = ()
    checksum: bool = False
    workers: int | None = None  # None: concurrency adapts to the link
    dry_run: bool = False
    break_lock: bool = False
    restore_archived_days: int | None = None  # an S3 source's archived objects: ask S3 to restore


@dataclass
class SnapshotPlan:
    """What a create will do: upload these, copy those from the base snapshot."""

    uploads: Plan
    reuse: list[Entry] = field(default_factory=list)
    source_entries: dict[str, Entry] = field(default_factory=dict)

    def combined(self) -> Plan:
        """One plan for progress: every file the snapshot will hold."""
        copies = [Action(Kind.COPY, e.key, e.size, "unchanged", e) for e in self.reuse]
        return Plan(copies=copies + self.uploads.copies, mkdirs=self.uploads.mkdirs)


def plan_snapshot(
    source: list[Entry], base: Manifest | None, ignore: IgnoreRules, checksum: bool
) -> SnapshotPlan:
    """Compare the source listing with the base manifest, as a sync to it would."""
    base_entries = [record.entry(key) for key, record in (base.files if base else {}).items()]
    options = PlanOptions(
        ignore=ignore,
        delete=False,
        compare=CompareOptions(checksum=checksum),
        only_empty_folders=True,  # snapshots live on S3: folders exist through their files
    )
    uploads = make_plan(source, base_entries, options)
    changed = {action.key for action in uploads.copies}
    files = {e.key: e for e in source if not e.is_dir and not ignore.matches(e.key)}
    reuse = [base.files[key].entry(key) for key in sorted(files) if key not in changed and base]
    return SnapshotPlan(uploads, reuse, files)


def _newest_complete(
    location: BackupLocation, names: list[str], warnings: list[str]
) -> Snapshot | None:
    """The newest snapshot with a readable manifest; damaged ones are skipped with a warning."""
    for name in reversed(names):
        try:
            snapshot = location.snapshot(name)
        except ManifestError as exc:  # pragma: no cover - snapshot() turns it into a status
            warnings.append(exc.message)
            continue
        if snapshot.status is Status.DAMAGED:
            warnings.append(
                f"snapshot {name} is damaged and not used as a base: {snapshot.problem}"
            )
        elif snapshot.complete:
            return snapshot
    return None


def _hash_like_base(
    store: Store, entries: list[Entry], base: Manifest | None, warnings: list[str]
) -> list[Entry]:
    """--checksum: hash each source file of the base's size the way its ETag was made.

    A store that cannot hash without downloading (S3) leaves its entries as
    listed: their ETags already are the content's.
    """
    if base is None:
        return entries
    result = []
    for entry in entries:
        record = base.files.get(entry.key)
        if entry.is_dir or record is None or record.size != entry.size or not record.etag:
            result.append(entry)
            continue
        try:
            etag = store.content_etag(entry, record.etag)
        except OSError as exc:
            warnings.append(f"{entry.key}: cannot be hashed ({describe_failure(exc)})")
            etag = None
        result.append(entry if etag is None else replace(entry, etag=etag))
    return result


def _source_store(
    text: str, stores: StoreFactory, location: BackupLocation
) -> LocalStore | S3Store:
    if is_s3_url(text):
        url = parse_s3_url(text, what="backup source")
        if url.overlaps(location.url):
            raise ConfigError(
                f"The source {url} and the backup location {location.url} overlap.",
                "Back up into a prefix outside the source.",
            )
        return stores.s3(url)
    folder = Path(text).expanduser().resolve()
    if not folder.exists():
        raise ConfigError(f"The source folder {folder} does not exist.")
    if not folder.is_dir():
        raise ConfigError(f"The source {folder} is a file; back up the folder that holds it.")
    return stores.local(folder)


def _snapshot_store(stores: StoreFactory, location: BackupLocation, name: str) -> S3Store:
    return S3Store(
        location.snapshot_url(name),
        location.client,
        cache=MetadataCache(None),
        part_pool=stores.part_pool,
        endpoint=location.endpoint,
        settings=stores.settings,
    )


def open_location(text: str, stores: StoreFactory) -> BackupLocation:
    url: S3Url = parse_s3_url(text, what="backup location")
    factory = stores.client_factory
    return BackupLocation(url, factory.s3(), factory.endpoint_url)


def create_backup(
    source_text: str,
    location_text: str,
    stores: StoreFactory,
    options: CreateOptions | None = None,
    *,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> BackupReport:
    """Make one snapshot of `source_text` (a folder or s3://…) in the location `location_text`."""
    options = options or CreateOptions()
    location = open_location(location_text, stores)
    source = _source_store(source_text, stores, location)
    if options.dry_run:
        return _create(location, source, stores, options, reporter, stop, clock, [])
    with location_lock(location, "backup create", break_lock=options.break_lock) as warnings:
        return _create(location, source, stores, options, reporter, stop, clock, warnings)


def _create(
    location: BackupLocation,
    source: LocalStore | S3Store,
    stores: StoreFactory,
    options: CreateOptions,
    reporter: Reporter | None,
    stop: threading.Event | None,
    clock: Callable[[], datetime],
    lock_warnings: list[str],
) -> BackupReport:
    started_monotonic = time.monotonic()
    names, others = location.top_level()
    if others and not names:
        location.snapshots()  # raises: not a backup location
    warnings = list(lock_warnings)
    base = _newest_complete(location, names, warnings)
    started = clock()
    while snapshot_name(started) in names:  # one per second: never write into an existing folder
        time.sleep(0.2)
        started = clock()
    name = snapshot_name(started)
    report = BackupReport(
        str(location), name, str(source), base.name if base else None, options.dry_run
    )

    listed = list(source.list())
    warnings += [f"{key}: skipped, {reason}" for key, reason in getattr(source, "skipped", [])]
    if any(entry.key == MANIFEST_NAME for entry in listed):
        warnings.append(
            f"{MANIFEST_NAME}: skipped, the name is reserved for the snapshot's manifest"
        )
    rules = IgnoreRules([*options.ignore, MANIFEST_NAME])
    manifest = base.manifest if base else None
    if options.checksum:
        listed = _hash_like_base(source, listed, manifest, warnings)
    plan = plan_snapshot(listed, manifest, rules, options.checksum)
    report.ignored = plan.uploads.ignored - (
        1 if any(e.key == MANIFEST_NAME for e in listed) else 0
    )
    report.warnings = warnings
    if options.dry_run:
        report.would_upload = [action.key for action in plan.uploads.copies]
        report.would_copy = [entry.key for entry in plan.reuse]
        report.files = len(plan.source_entries)
        report.bytes = sum(e.size for e in plan.source_entries.values())
        report.seconds = time.monotonic() - started_monotonic
        return report

    reporter = reporter or NullReporter()
    reporter.planned(f"backup {name}", plan.combined())
    snapshot = _snapshot_store(stores, location, name)
    stop = stop or threading.Event()
    execute = ExecuteOptions(
        workers=options.workers,
        bandwidth=stores.limiter,
        restore_archived_days=options.restore_archived_days,
    )
    if base is not None and plan.reuse:
        base_store = _snapshot_store(stores, location, base.name)
        reused = Plan(copies=[Action(Kind.COPY, e.key, e.size, "unchanged", e) for e in plan.reuse])
        result = run_plan(
            base_store,
            snapshot,
            reused,
            _empty(report),
            replace(execute, server_side_copy=True),
            reporter,
            stop,
        )
        report.copied, report.bytes_copied = result.copied, result.bytes_copied
        report.failed.update(result.failed)
        report.failed.update(result.archived)  # a snapshot must hold every file
    if not stop.is_set():
        result = run_plan(
            source,
            snapshot,
            plan.uploads,
            _empty(report),
            replace(execute, server_side_copy=True),  # S3 → S3 copies in place (the copier decides)
            reporter,
            stop,
        )
        report.uploaded, report.bytes_uploaded = result.copied, result.bytes_copied
        report.failed.update(result.failed)
        report.failed.update(result.archived)  # a snapshot must hold every file
    if not report.failed and not stop.is_set():
        _finish(location, snapshot, plan, report, started)
    report.seconds = time.monotonic() - started_monotonic
    return report


def _empty(report: BackupReport) -> Report:
    return Report(name=report.snapshot, source=report.source, destination=report.location)


def _finish(
    location: BackupLocation,
    snapshot: S3Store,
    plan: SnapshotPlan,
    report: BackupReport,
    started: datetime,
) -> None:
    """Write the manifest, built from what the server answered to each write.

    Every upload and copy of this run recorded the ETag, size and mtime it
    wrote; a file without such a record was not written, and the snapshot
    stays unfinished. (No listing: it would cost a LIST per 1,000 files and,
    on servers that keep objects as files, wait for the copies to settle.)
    """
    files: dict[str, FileRecord] = {}
    for key, source_entry in plan.source_entries.items():
        written = snapshot.cache.recorded(key)
        if written is None or not written[0]:
            report.failed[key] = "the server did not confirm this file's write"
            continue
        etag, size, mtime_ns = written
        if mtime_ns is None and source_entry.mtime_known:
            mtime_ns = source_entry.mtime_ns
        files[key] = FileRecord(size, mtime_ns, etag)
    if report.failed:
        return
    manifest = Manifest(
        source=report.source,
        host=socket.gethostname(),
        started=started.isoformat(timespec="seconds"),
        ended=datetime.now(UTC).isoformat(timespec="seconds"),
        files=files,
    )
    key = location.manifest_key(report.snapshot)
    location.client.put_object(
        Bucket=location.url.bucket,
        Key=key,
        Body=manifest.to_json().encode("utf-8"),
        ContentType="application/json",
    )
    report.complete = True
    report.files = len(files)
    report.bytes = manifest.total_bytes
    report.manifest = f"s3://{location.url.bucket}/{key}"
