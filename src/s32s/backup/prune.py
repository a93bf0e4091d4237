"""`backup prune`: remove the snapshots no `--keep-*` rule keeps, and stale unfinished ones.

Complete snapshots are judged by `retention.apply_policy` (restic's rules; a
snapshot kept by any rule is kept). The newest complete snapshot is always
kept unless `--keep-last 0` is given explicitly. Unfinished snapshots older
than the newest complete one are removed; newer ones may belong to a create
still running and are kept. Damaged snapshots are never removed: they are
shown for a person to inspect. The location's lock is held throughout, so a
prune never removes the base of a running create.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s32s.backup.create import open_location
from s32s.backup.location import Snapshot, Status
from s32s.backup.lock import location_lock
from s32s.backup.retention import KeepPolicy, apply_policy
from s32s.errors import ConfigError, ExitCode
from s32s.maps.runner import StoreFactory


@dataclass
class PrunePlan:
    keep: list[tuple[Snapshot, list[str]]] = field(default_factory=list)
    remove: list[tuple[Snapshot, str]] = field(default_factory=list)

    @property
    def bytes_to_remove(self) -> int:
        return sum(snapshot.bytes for snapshot, _ in self.remove)


@dataclass
class PruneReport:
    location: str
    plan: PrunePlan
    dry_run: bool = False
    removed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        if self.refused:
            return ExitCode.REFUSED
        return ExitCode.PARTIAL_FAILURE if self.failed else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "dry_run": self.dry_run,
            "keep": [
                {"snapshot": s.name, "status": s.status.value, "reasons": r}
                for s, r in self.plan.keep
            ],
            "remove": [
                {"snapshot": s.name, "status": s.status.value, "reason": r, "bytes": s.bytes}
                for s, r in self.plan.remove
            ],
            "removed": self.removed,
            "failed": [{"snapshot": k, "reason": v} for k, v in sorted(self.failed.items())],
            "refused": self.refused,
            "warnings": self.warnings,
            "exit_code": int(self.exit_code),
        }


def plan_prune(snapshots: list[Snapshot], policy: KeepPolicy) -> PrunePlan:
    """Decide for every snapshot; pure (no I/O)."""
    if policy.is_empty:
        raise ConfigError(
            "No --keep-* option was given, so prune would not know what to keep.",
            "Give at least one, e.g. --keep-within 30d or --keep-daily 7 --keep-weekly 4.",
        )
    complete = [s for s in snapshots if s.status is Status.COMPLETE]
    verdicts = apply_policy([s.time for s in complete], policy)
    newest = max(complete, key=lambda s: s.time) if complete else None
    plan = PrunePlan()
    for snapshot in sorted(snapshots, key=lambda s: s.time, reverse=True):
        if snapshot.status is Status.DAMAGED:
            plan.keep.append((snapshot, ["damaged: never pruned, inspect it"]))
        elif snapshot.status is Status.UNFINISHED:
            if newest is not None and snapshot.time < newest.time:
                plan.remove.append(
                    (snapshot, "unfinished, older than the newest complete snapshot")
                )
            else:
                plan.keep.append((snapshot, ["unfinished, may still be running"]))
        else:
            reasons = list(verdicts[snapshot.time])
            if snapshot is newest and policy.last is None and not reasons:
                reasons.append("newest complete snapshot")
            if reasons:
                plan.keep.append((snapshot, reasons))
            else:
                plan.remove.append((snapshot, "kept by no rule"))
    return plan


def prune_backups(
    location_text: str,
    stores: StoreFactory,
    policy: KeepPolicy,
    *,
    dry_run: bool = False,
    yes: bool = False,
    confirm: Callable[[PrunePlan], bool] | None = None,
    break_lock: bool = False,
) -> PruneReport:
    """Plan under the location's lock, then remove (dry run: plan only).

    Removal needs `yes`, or a `confirm(plan)` callback that says yes: the
    library never asks anyone itself; without either it refuses (exit 3).
    """
    location = open_location(location_text, stores)
    if dry_run:
        return PruneReport(str(location), plan_prune(location.snapshots(), policy), dry_run=True)
    with location_lock(location, "backup prune", break_lock=break_lock) as warnings:
        plan = plan_prune(location.snapshots(), policy)
        report = PruneReport(str(location), plan, warnings=list(warnings))
        if not plan.remove:
            return report
        if not yes:
            if confirm is None:
                report.refused.append(
                    f"{len(plan.remove)} snapshot(s) would be removed and nobody confirmed it: "
                    "pass --yes (or yes=True)"
                )
                return report
            if not confirm(plan):
                report.refused.append("removal not confirmed")
                return report
        for snapshot, _ in plan.remove:
            failures = location.delete_snapshot(snapshot.name)
            if failures:
                report.failed[snapshot.name] = (
                    f"{len(failures)} object(s) could not be deleted, e.g. {failures[0]}"
                )
            else:
                report.removed.append(snapshot.name)
        return report
