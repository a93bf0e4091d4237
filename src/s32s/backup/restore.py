"""`backup restore`: a snapshot back into a folder (or an S3 prefix), as a pull would do it.

The restore is a sync job from the snapshot folder to the destination, so it
keeps every safeguard of a pull: atomic local writes, the destination lock,
deletions (only with `delete`) after every copy succeeded and only when
confirmed, the cap on mass deletions, and no root, drive root or home
folder as the destination. The manifest itself is never restored; files it
names that are gone from the snapshot are reported as failures.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from s32s.backup.create import open_location
from s32s.backup.location import Snapshot, Status
from s32s.backup.manifest import MANIFEST_NAME, ManifestError
from s32s.errors import ConfigError
from s32s.maps.runner import StoreFactory
from s32s.paths import is_s3_url, parse_s3_url
from s32s.sync.compare import CompareOptions
from s32s.sync.events import Report, Reporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.ignore import SelectedRules
from s32s.sync.job import SyncJob
from s32s.sync.local import LocalStore
from s32s.sync.plan import PlanOptions
from s32s.sync.s3 import S3Store
from s32s.sync.safeguards import Safeguards, check_local_destination
from s32s.sync.session import RunHooks, RunSession

GONE = "named by the snapshot's manifest but gone from the snapshot"


@dataclass(frozen=True)
class RestoreOptions:
    include: tuple[str, ...] = ()
    delete: bool = False
    dry_run: bool = False
    checksum: bool = False
    workers: int | None = None
    max_delete: int | None = None
    yes: bool = False  # deletions need it without someone to confirm them
    skip_archived: bool = False  # archived snapshot files alone do not make the run partial
    restore_archived_days: int | None = None  # ask S3 to restore archived snapshot files


@dataclass
class RestoreJob:
    """A sync job from a snapshot, with what the manifest says is missing from it."""

    job: SyncJob
    snapshot: Snapshot
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def account(self, report: Report) -> Report:
        """Add the snapshot's missing files and warnings to a finished report."""
        if not report.dry_run and not report.refused:
            for key in self.missing:
                report.failed[key] = GONE
        report.warnings = [*self.warnings, *report.warnings]
        return report


def _destination(text: str, stores: StoreFactory, location_url: object) -> LocalStore | S3Store:
    if is_s3_url(text):
        url = parse_s3_url(text, what="restore destination")
        if url.overlaps(location_url):  # type: ignore[arg-type]
            raise ConfigError(
                f"Refusing to restore into {url}: it overlaps the backup location {location_url}.",
                "Restore into a prefix outside the backup location.",
            )
        return stores.s3(url)
    folder = Path(text).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(
            f"The restore destination {folder} is a file, not a folder.",
            "Name a folder (it is created when missing).",
        )
    check_local_destination(
        str(folder), "a restore destination", "Restore into a dedicated folder."
    )
    return stores.local(folder)


def restore_job(
    location_text: str,
    snapshot: str,
    dest_text: str,
    stores: StoreFactory,
    options: RestoreOptions | None = None,
) -> RestoreJob:
    """Find the snapshot (`latest`: the newest complete) and make the sync job that restores it."""
    options = options or RestoreOptions()
    location = open_location(location_text, stores)
    dest = _destination(dest_text, stores, location.url)
    chosen = location.resolve(snapshot)
    warnings = []
    if chosen.status is Status.DAMAGED:
        raise ManifestError(
            f"Snapshot {chosen.name} cannot be restored: {chosen.problem}",
            "Restore another snapshot (`s32s backup list`).",
        )
    if chosen.status is Status.UNFINISHED:
        warnings.append(f"snapshot {chosen.name} is unfinished (no manifest): it may lack files")
    source = stores.s3(location.snapshot_url(chosen.name))
    rules = SelectedRules([MANIFEST_NAME], options.include)
    missing: list[str] = []
    if chosen.manifest is not None:
        present = {item["Key"] for item in location.objects(chosen.name)}
        prefix = f"{location.prefix}{chosen.name}/"
        missing = [
            key
            for key in sorted(chosen.manifest.files)
            if f"{prefix}{key}" not in present and not rules.matches(key)
        ]
    plan = PlanOptions(
        ignore=rules, delete=options.delete, compare=CompareOptions(checksum=options.checksum)
    )
    guards = Safeguards(allow_empty_source=not options.delete, max_delete=options.max_delete)
    execute_options = ExecuteOptions(
        workers=options.workers,
        server_side_copy=True,  # a restore to S3 copies in place (the copier decides)
        bandwidth=stores.limiter,
        skip_archived=options.skip_archived,
        restore_archived_days=options.restore_archived_days,
    )
    job = SyncJob(f"restore {chosen.name}", source, dest, plan, guards, execute_options)
    return RestoreJob(job, chosen, missing, warnings)


def restore_backup(
    location_text: str,
    snapshot: str,
    dest_text: str,
    stores: StoreFactory,
    options: RestoreOptions | None = None,
    *,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
) -> Report:
    """Restore a snapshot without asking anyone: deletions are refused unless `options.yes`."""
    options = options or RestoreOptions()
    restore = restore_job(location_text, snapshot, dest_text, stores, options)
    session = RunSession(
        dry_run=options.dry_run, yes=options.yes, hooks=RunHooks(reporter=reporter), stop=stop
    )
    return restore.account(session.run_job(restore.job))
