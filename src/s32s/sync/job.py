"""One sync from start to end: list → resolve → plan → check → execute → Report.

`prepare()` does everything up to the plan and the safeguards' verdict
without changing anything; the caller shows the plan, asks if it must, then
calls `execute()`. Push, pull, `s32s sync` and `transfer` all come here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from s32s.sync.checksum import local_etag_like
from s32s.sync.concurrency import DEFAULT_START, pool_size
from s32s.sync.entries import Entry
from s32s.sync.events import NullReporter, Report, Reporter
from s32s.sync.execute import ExecuteOptions, describe_failure, run_plan
from s32s.sync.local import LocalStore
from s32s.sync.plan import Plan, PlanOptions, make_plan
from s32s.sync.s3 import S3Store
from s32s.sync.safeguards import Safeguards, refusals

Store = LocalStore | S3Store


@dataclass
class SyncJob:
    """What to sync and how."""

    name: str
    source: Store
    dest: Store
    plan_options: PlanOptions = field(default_factory=PlanOptions)
    safeguards: Safeguards = field(default_factory=Safeguards)
    execute_options: ExecuteOptions = field(default_factory=ExecuteOptions)


@dataclass
class PreparedSync:
    job: SyncJob
    plan: Plan
    refused: list[str]
    source_exists: bool
    warnings: list[str] = field(default_factory=list)
    metadata_requests: int = 0

    def empty_report(self, *, dry_run: bool = False) -> Report:
        return Report(
            name=self.job.name,
            source=str(self.job.source),
            destination=str(self.job.dest),
            dry_run=dry_run,
            unchanged=self.plan.unchanged,
            ignored=self.plan.ignored,
            refused=list(self.refused),
            warnings=list(self.warnings),
            would_copy=[action.key for action in self.plan.copies] if dry_run else [],
            would_delete=[action.key for action in self.plan.deletes] if dry_run else [],
        )


def _list_store(store: Store) -> tuple[bool, list[Entry]]:
    if isinstance(store, LocalStore):
        return store.exists(), list(store.list())
    return True, list(store.list())


def _list_both(job: SyncJob) -> tuple[tuple[bool, list[Entry]], tuple[bool, list[Entry]]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        source = pool.submit(_list_store, job.source)
        dest = pool.submit(_list_store, job.dest)
        return source.result(), dest.result()


def _local_and_s3(job: SyncJob) -> tuple[LocalStore | None, S3Store | None, bool]:
    """(local store, S3 store, whether the local side is the source) for push and pull."""
    if isinstance(job.source, LocalStore) and isinstance(job.dest, S3Store):
        return job.source, job.dest, True
    if isinstance(job.source, S3Store) and isinstance(job.dest, LocalStore):
        return job.dest, job.source, False
    return None, None, False


def _resolve(
    job: SyncJob, source: list[Entry], dest: list[Entry], warnings: list[str]
) -> tuple[list[Entry], list[Entry], int]:
    """Fill in what listings lack, only where it can change a decision.

    Only pairs of the same size matter (a size difference decides alone).
    --checksum: every such local file is hashed the way its ETag was made.
    Otherwise only objects whose mtime metadata is not in the cache need
    anything: the local file is hashed first (local reads are far cheaper than
    requests); equal content means the object is up to date, and the cache
    remembers the local mtime for it, so the next run needs nothing at all.
    Objects still unresolved (no ETag, or a multipart ETag made with unknown
    part sizes) get one HEAD each. Returns the updated listings and the number
    of HEAD requests.
    """
    compare = job.plan_options.compare
    local_store, s3_store, local_is_source = _local_and_s3(job)
    if local_store is None or s3_store is None or compare.mode != "mtime":
        return source, dest, 0
    local_entries, remote_entries = (source, dest) if local_is_source else (dest, source)
    remote_by_key = {e.key: e for e in remote_entries if not e.is_dir}
    pairs = [
        (local, remote_by_key[local.key])
        for local in local_entries
        if not local.is_dir
        and local.key in remote_by_key
        and remote_by_key[local.key].size == local.size
    ]
    if not compare.checksum:
        pairs = [(local, remote) for local, remote in pairs if not remote.mtime_known]
    if not pairs:
        return source, dest, 0

    def hash_local(pair: tuple[Entry, Entry]) -> Entry | None:
        local, remote = pair
        if not remote.etag:
            return None
        try:
            etag = local_etag_like(local_store.path_of(local.key), local.size, remote.etag)
        except OSError as exc:
            warnings.append(f"{local.key}: cannot be hashed ({describe_failure(exc)})")
            return None
        return replace(local, etag=etag)

    local_updates: dict[str, Entry] = {}
    remote_updates: dict[str, Entry] = {}
    unresolved: list[Entry] = []
    # Hashing reads whole parts into memory: a modest pool. HEADs only wait: a wide one.
    with ThreadPoolExecutor(max_workers=job.execute_options.workers or DEFAULT_START) as pool:
        for (local, remote), hashed in zip(pairs, pool.map(hash_local, pairs), strict=True):
            if compare.checksum:
                if hashed is not None:
                    local_updates[local.key] = hashed
            elif hashed is not None and hashed.etag == remote.etag:
                remote_updates[remote.key] = replace(
                    remote, mtime_ns=local.mtime_ns, mtime_known=True
                )
                s3_store.cache.record(remote.key, remote.etag, remote.size, local.mtime_ns)
            elif hashed is not None and "-" not in (remote.etag or ""):
                local_updates[local.key] = hashed  # a plain MD5 that differs: the content changed
            else:
                unresolved.append(remote)
    if unresolved:
        with ThreadPoolExecutor(max_workers=pool_size(job.execute_options.workers)) as pool:
            for entry in pool.map(s3_store.head, unresolved):
                remote_updates[entry.key] = entry
    new_local = [local_updates.get(e.key, e) for e in local_entries]
    new_remote = [remote_updates.get(e.key, e) for e in remote_entries]
    source, dest = (new_local, new_remote) if local_is_source else (new_remote, new_local)
    return source, dest, len(unresolved)


def prepare(job: SyncJob) -> PreparedSync:
    """List both sides, plan, and judge the plan against the safeguards. Changes nothing."""
    (source_exists, source), (_, dest) = _list_both(job)
    warnings = [f"{key}: skipped, {reason}" for key, reason in getattr(job.source, "skipped", [])]
    source, dest, requests = _resolve(job, source, dest, warnings)
    plan = make_plan(source, dest, job.plan_options, dest_is_s3=isinstance(job.dest, S3Store))
    refused = refusals(plan, job.safeguards, source_exists=source_exists)
    if plan.missing_listed:
        refused.append(
            f"{len(plan.missing_listed)} listed file(s) are missing at the source "
            f"({', '.join(plan.missing_listed[:5])}); nothing was copied"
        )
    prepared = PreparedSync(job, plan, refused, source_exists, warnings, requests)
    for store in (job.source, job.dest):
        if isinstance(store, S3Store):
            store.cache.save()
    return prepared


def execute(
    prepared: PreparedSync, reporter: Reporter | None = None, stop: threading.Event | None = None
) -> Report:
    """Carry out a prepared plan (refused plans are reported, not run)."""
    report = prepared.empty_report()
    if prepared.refused:
        return report
    job = prepared.job
    return run_plan(
        job.source,
        job.dest,
        prepared.plan,
        report,
        job.execute_options,
        reporter or NullReporter(),
        stop,
    )
