"""Turn path maps (and `s32s sync` arguments) into sync jobs for the engine.

This is where a map's meaning lives: which side is the source in master and
slave mode, folder maps versus file-list maps, the checks that come before
any listing (dangerous slave folders, a slave's file-list folder that must
exist, master and slave maps sharing an S3 path on one machine).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s32s.errors import ConfigError, SafeguardRefused
from s32s.maps.pathmap import PathMap
from s32s.notify.targets import Target
from s32s.paths import S3Url, is_s3_url, parse_s3_url
from s32s.sync.bwlimit import RateSchedule, make_limiter
from s32s.sync.compare import CompareOptions
from s32s.sync.execute import ExecuteOptions
from s32s.sync.ignore import IgnoreRules
from s32s.sync.job import SyncJob
from s32s.sync.local import LocalStore
from s32s.sync.objectsettings import DEFAULT_SETTINGS, ObjectSettings
from s32s.sync.parts import UploadJournal, part_pool
from s32s.sync.plan import PlanOptions
from s32s.sync.s3 import S3Store, check_part_settings
from s32s.sync.safeguards import Safeguards, check_local_destination
from s32s.sync.state import MetadataCache

if TYPE_CHECKING:
    from s32s.sync.check import Comparison


@dataclass(frozen=True)
class RunOptions:
    """The flags shared by push, pull and sync."""

    workers: int | None = None  # None: adapts to the link
    checksum: bool = False
    max_delete: int | None = None
    allow_empty_source: bool = False
    delete_excluded: bool = False
    backup_dir: Path | None = None
    sleep_after_rmdir: float = 0.0
    cleanup_uploads: bool = False
    notify: tuple[Target, ...] = ()  # where each finished run is announced
    # How objects are written and read (flags; a map's own keys fill what these leave unset).
    object_settings: ObjectSettings = field(default=DEFAULT_SETTINGS)
    bwlimit: RateSchedule | None = None
    skip_archived: bool = False
    restore_archived_days: int | None = None


class StoreFactory:
    """Makes stores that share one S3 client, one pool for multipart parts and,
    when the run has a bandwidth limit, one limiter.

    `settings` are the S3 stores' object settings unless `s3` is given others
    (a path map's own keys).
    """

    def __init__(
        self,
        client_factory: Any,
        workers: int | None,
        *,
        pause_after_rmdir: float = 0.0,
        bwlimit: RateSchedule | None = None,
        settings: ObjectSettings = DEFAULT_SETTINGS,
    ) -> None:
        check_part_settings()
        self.client_factory = client_factory
        self.pause_after_rmdir = pause_after_rmdir
        self.part_pool = part_pool(workers)
        self.limiter = make_limiter(bwlimit)
        self.settings = settings

    def s3(self, url: S3Url, settings: ObjectSettings | None = None) -> S3Store:
        endpoint = self.client_factory.endpoint_url
        cache = MetadataCache.for_location(endpoint, url.bucket, url.prefix)
        return S3Store(
            url,
            self.client_factory.s3(),
            cache=cache,
            part_pool=self.part_pool,
            endpoint=endpoint,
            uploads=UploadJournal.for_endpoint(endpoint),
            settings=self.settings if settings is None else settings,
        )

    def local(self, folder: str | Path, backup_dir: Path | None = None) -> LocalStore:
        return LocalStore(
            Path(folder), backup_dir=backup_dir, pause_after_rmdir=self.pause_after_rmdir
        )

    def close(self) -> None:
        self.part_pool.shutdown(wait=True)

    def __enter__(self) -> StoreFactory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def execute_options(run: RunOptions, stores: StoreFactory) -> ExecuteOptions:
    """The engine's execution options for a run's flags and shared resources."""
    return ExecuteOptions(
        workers=run.workers,
        cleanup_uploads=run.cleanup_uploads,
        bandwidth=stores.limiter,
        skip_archived=run.skip_archived,
        restore_archived_days=run.restore_archived_days,
    )


def _options(
    pathmap_files: tuple[str, ...] | None,
    ignore: IgnoreRules,
    delete: bool,
    run: RunOptions,
    stores: StoreFactory,
) -> tuple[PlanOptions, Safeguards, ExecuteOptions]:
    plan = PlanOptions(
        ignore=ignore,
        files=pathmap_files,
        delete=delete and pathmap_files is None,
        delete_excluded=run.delete_excluded,
        compare=CompareOptions(checksum=run.checksum),
    )
    guards = Safeguards(allow_empty_source=run.allow_empty_source, max_delete=run.max_delete)
    return plan, guards, execute_options(run, stores)


def job_for_map(pathmap: PathMap, mode: str, stores: StoreFactory, run: RunOptions) -> SyncJob:
    """push (master: local → S3) or pull (slave: S3 → local) for one map."""
    folder = pathmap.local_for(mode)
    if folder is None:
        raise ConfigError(
            f"{pathmap.source}: map #{pathmap.index} {pathmap.name!r} has no {mode!r} folder."
        )
    remote = stores.s3(pathmap.s3, pathmap.settings.overridden_by(run.object_settings))
    if mode == "master":
        local = stores.local(folder)
        source, dest = local, remote
    else:
        check_local_destination(folder)
        if pathmap.is_file_list and not Path(folder).is_dir():
            raise ConfigError(
                f"Map {pathmap.name!r}: the slave folder {folder} does not exist.",
                "A file-list map only fills an existing folder: create it first.",
            )
        local = stores.local(folder, backup_dir=run.backup_dir)
        source, dest = remote, local
    plan, guards, execute = _options(pathmap.files, pathmap.ignore_rules, True, run, stores)
    return SyncJob(pathmap.name, source, dest, plan, guards, execute)


def job_for_paths(
    source_text: str,
    dest_text: str,
    stores: StoreFactory,
    run: RunOptions,
    *,
    delete: bool,
    ignore: tuple[str, ...],
) -> SyncJob:
    """`s32s sync SRC DST`: each side a local folder or s3://bucket/prefix."""

    def make(text: str, is_dest: bool) -> LocalStore | S3Store:
        if is_s3_url(text):
            return stores.s3(parse_s3_url(text), run.object_settings)
        folder = Path(text).expanduser().resolve()
        if is_dest and delete:
            check_local_destination(str(folder))
        return stores.local(folder, backup_dir=run.backup_dir if is_dest else None)

    source, dest = make(source_text, False), make(dest_text, True)
    if not source.exists():
        raise ConfigError(f"The source folder {source} does not exist.")
    if str(source) == str(dest):
        raise ConfigError("The source and the destination are the same place.")
    plan, guards, execute = _options(None, IgnoreRules(ignore), delete, run, stores)
    # Both sides here use one client: S3 → S3 may copy server-side (the copier decides).
    execute = replace(execute, server_side_copy=True)
    return SyncJob("sync", source, dest, plan, guards, execute)


def compare_paths(
    source_text: str, dest_text: str, stores: StoreFactory, run: RunOptions, ignore: tuple[str, ...]
) -> Comparison:
    """`s32s check SRC DST`: the two sides compared by a sync's plan (see `sync.check`)."""
    from s32s.sync.check import compare_job

    job = job_for_paths(source_text, dest_text, stores, run, delete=False, ignore=ignore)
    job.name = "check"
    return compare_job(job)


def check_no_shared_s3_paths(master_maps: list[PathMap], slave_maps: list[PathMap]) -> None:
    """A machine that is master of a path and slave of the same path would sync in circles."""
    for master in master_maps:
        for slave in slave_maps:
            if master.s3.overlaps(slave.s3):
                raise SafeguardRefused(
                    f"Master map {master.name!r} ({master.s3}) and slave map {slave.name!r} ({slave.s3}) "
                    "share an S3 path on this machine.",
                    "A machine must not push and pull the same S3 path: fix one of the maps.",
                )
