"""One sync from start to end: list → resolve → plan → check → execute → Report.

`prepare()` does everything up to the plan and the safeguards' verdict
without changing anything; the caller shows the plan, asks if it must, then
calls `execute()`. Push, pull, `s32s sync` and `transfer` all come here.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from s32s.sync.concurrency import DEFAULT_START, pool_size
from s32s.sync.entries import Entry
from s32s.sync.events import NullReporter, Report, Reporter
from s32s.sync.execute import ExecuteOptions, describe_failure, run_plan
from s32s.sync.plan import Plan, PlanOptions, make_plan
from s32s.sync.safeguards import Safeguards, refusals
from s32s.sync.store import Store


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
            skip_archived=self.job.execute_options.skip_archived,
        )


def _list_store(store: Store) -> tuple[bool, list[Entry]]:
    return store.exists(), list(store.list())


def _list_both(job: SyncJob) -> tuple[tuple[bool, list[Entry]], tuple[bool, list[Entry]]]:
    with ThreadPoolExecutor(max_workers=2) as pool:
        source = pool.submit(_list_store, job.source)
        dest = pool.submit(_list_store, job.dest)
        return source.result(), dest.result()


def _resolve(
    job: SyncJob, source: list[Entry], dest: list[Entry], warnings: list[str]
) -> tuple[list[Entry], list[Entry], int]:
    """Fill in what listings lack, only where it can change a decision.

    This matters between a store that lists real mtimes (a disk: the "known"
    side) and one that may not (S3: the "remote" side). Only pairs of the same
    size matter (a size difference decides alone).
    --checksum: every such known-side file is hashed the way its ETag was made.
    Otherwise only remote entries whose mtime is not in the cache need
    anything: the known-side file is hashed first (local reads are far cheaper
    than requests); equal content means the remote entry is up to date, and
    the remote store remembers the local mtime for it, so the next run needs
    nothing at all. Entries still unresolved (no ETag, or a multipart ETag made
    with unknown part sizes) get one metadata read each. Returns the updated
    listings and the number of metadata reads.
    """
    compare = job.plan_options.compare
    if job.source.lists_mtimes == job.dest.lists_mtimes or compare.mode != "mtime":
        return source, dest, 0
    known_is_source = job.source.lists_mtimes
    known_store, remote_store = (
        (job.source, job.dest) if known_is_source else (job.dest, job.source)
    )
    known_entries, remote_entries = (source, dest) if known_is_source else (dest, source)
    remote_by_key = {e.key: e for e in remote_entries if not e.is_dir}
    pairs = [
        (known, remote_by_key[known.key])
        for known in known_entries
        if not known.is_dir
        and known.key in remote_by_key
        and remote_by_key[known.key].size == known.size
    ]
    if not compare.checksum:
        pairs = [(known, remote) for known, remote in pairs if not remote.mtime_known]
    if not pairs:
        return source, dest, 0
    # With SSE-KMS or SSE-C an ETag is not the content's MD5: only a HEAD can tell.
    md5_etags = remote_store.etags_are_content_md5

    def hash_known(pair: tuple[Entry, Entry]) -> Entry | None:
        known, remote = pair
        if not remote.etag or not md5_etags:
            return None
        try:
            etag = known_store.content_etag(known, remote.etag)
        except OSError as exc:
            warnings.append(f"{known.key}: cannot be hashed ({describe_failure(exc)})")
            return None
        return None if etag is None else replace(known, etag=etag)

    known_updates: dict[str, Entry] = {}
    remote_updates: dict[str, Entry] = {}
    unresolved: list[Entry] = []
    # Hashing reads whole parts into memory: a modest pool. HEADs only wait: a wide one.
    with ThreadPoolExecutor(max_workers=job.execute_options.workers or DEFAULT_START) as pool:
        for (known, remote), hashed in zip(pairs, pool.map(hash_known, pairs), strict=True):
            if compare.checksum:
                if hashed is not None:
                    known_updates[known.key] = hashed
            elif hashed is not None and hashed.etag == remote.etag:
                remote_updates[remote.key] = replace(
                    remote, mtime_ns=known.mtime_ns, mtime_known=True
                )
                remote_store.record_seen(remote.key, remote.etag, remote.size, known.mtime_ns)
            elif hashed is not None and "-" not in (remote.etag or ""):
                known_updates[known.key] = hashed  # a plain MD5 that differs: the content changed
            else:
                unresolved.append(remote)
    if unresolved:
        with ThreadPoolExecutor(max_workers=pool_size(job.execute_options.workers)) as pool:
            for entry in pool.map(remote_store.read_metadata, unresolved):
                remote_updates[entry.key] = entry
    new_known = [known_updates.get(e.key, e) for e in known_entries]
    new_remote = [remote_updates.get(e.key, e) for e in remote_entries]
    source, dest = (new_known, new_remote) if known_is_source else (new_remote, new_known)
    return source, dest, len(unresolved)


def prepare(job: SyncJob) -> PreparedSync:
    """List both sides, plan, and judge the plan against the safeguards. Changes nothing."""
    (source_exists, source), (_, dest) = _list_both(job)
    warnings = [f"{key}: skipped, {reason}" for key, reason in job.source.skipped]
    source, dest, requests = _resolve(job, source, dest, warnings)
    options = replace(job.plan_options, only_empty_folders=job.dest.implicit_folders)
    plan = make_plan(source, dest, options)
    refused = refusals(plan, job.safeguards, source_exists=source_exists)
    if plan.missing_listed:
        refused.append(
            f"{len(plan.missing_listed)} listed file(s) are missing at the source "
            f"({', '.join(plan.missing_listed[:5])}); nothing was copied"
        )
    prepared = PreparedSync(job, plan, refused, source_exists, warnings, requests)
    job.source.save_seen()
    job.dest.save_seen()
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
