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


def _resolve(
    job: SyncJob, source: list[Entry], dest: list[Entry], warnings: list[str]
) -> tuple[list[Entry], list[Entry], int]:
    """Fill in what listings lack, only where it can change a decision.

    mtime mode: S3 entries whose metadata was never read, and whose local
    counterpart has the same size, get one HEAD each (then the cache knows).
    --checksum: local files whose S3 counterpart has the same size are hashed
    the way the ETag was made.
    """
    compare = job.plan_options.compare
    source_by_key = {e.key: e for e in source if not e.is_dir}
    dest_by_key = {e.key: e for e in dest if not e.is_dir}
    pairs = [
        (s, dest_by_key[k])
        for k, s in source_by_key.items()
        if k in dest_by_key and dest_by_key[k].size == s.size
    ]
    if not pairs:
        return source, dest, 0
    local_side = (
        "source"
        if isinstance(job.source, LocalStore)
        else "dest"
        if isinstance(job.dest, LocalStore)
        else None
    )
    s3_side = "dest" if local_side == "source" else "source" if local_side == "dest" else None
    if local_side is None or s3_side is None:
        return source, dest, 0
    s3_store = job.dest if s3_side == "dest" else job.source
    local_store = job.source if local_side == "source" else job.dest
    assert isinstance(s3_store, S3Store) and isinstance(local_store, LocalStore)
    updates: dict[str, dict[str, Entry]] = {"source": {}, "dest": {}}
    requests = 0

    def pick(pair: tuple[Entry, Entry], side: str) -> Entry:
        return pair[0] if side == "source" else pair[1]

    if compare.checksum:

        def hash_local(pair: tuple[Entry, Entry]) -> tuple[str, Entry | None]:
            local, remote = pick(pair, local_side), pick(pair, s3_side)
            try:
                etag = local_etag_like(local_store.path_of(local.key), local.size, remote.etag)
            except OSError as exc:
                warnings.append(f"{local.key}: cannot be hashed ({describe_failure(exc)})")
                return local.key, None
            return local.key, replace(local, etag=etag)

        with ThreadPoolExecutor(max_workers=job.execute_options.workers) as pool:
            for key, entry in pool.map(hash_local, pairs):
                if entry is not None:
                    updates[local_side][key] = entry
    elif compare.mode == "mtime":
        unknown = [pick(pair, s3_side) for pair in pairs if not pick(pair, s3_side).mtime_known]
        requests = len(unknown)
        if unknown:
            with ThreadPoolExecutor(max_workers=job.execute_options.workers) as pool:
                for entry in pool.map(s3_store.head, unknown):
                    updates[s3_side][entry.key] = entry
    source = [updates["source"].get(e.key, e) if not e.is_dir else e for e in source]
    dest = [updates["dest"].get(e.key, e) if not e.is_dir else e for e in dest]
    return source, dest, requests


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
    if isinstance(job.dest, S3Store) and requests:
        job.dest.cache.save()
    if isinstance(job.source, S3Store) and requests:
        job.source.cache.save()
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
