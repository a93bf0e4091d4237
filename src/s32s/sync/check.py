"""`check`: the engine's plan without the execution, read as a list of differences.

A check is a sync job planned as a mirror (`prepare()`, the same listings,
ignore rules, metadata resolution and `copy_reason` a sync uses), so `check`
and `sync` never disagree: what a sync would copy as new is only at the
source, what it would copy for another reason differs, what a mirror would
delete is only at the destination. Nothing is written but the state cache.
Folders are not compared, only files.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from s32s.errors import ExitCode
from s32s.sync.compare import NEW
from s32s.sync.job import SyncJob, prepare


@dataclass
class Comparison:
    name: str
    source: str
    destination: str
    only_in_source: list[str] = field(default_factory=list)
    only_in_destination: list[str] = field(default_factory=list)
    differ: dict[str, str] = field(default_factory=dict)  # key → why
    identical: int = 0
    ignored: int = 0
    warnings: list[str] = field(default_factory=list)
    metadata_requests: int = 0

    @property
    def same(self) -> bool:
        return not (self.only_in_source or self.only_in_destination or self.differ)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.same else ExitCode.PARTIAL_FAILURE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "destination": self.destination,
            "same": self.same,
            "identical": self.identical,
            "ignored": self.ignored,
            "only_in_source": self.only_in_source,
            "only_in_destination": self.only_in_destination,
            "differ": [{"path": k, "reason": v} for k, v in sorted(self.differ.items())],
            "warnings": self.warnings,
            "metadata_requests": self.metadata_requests,
            "exit_code": int(self.exit_code),
        }


def compare_job(job: SyncJob) -> Comparison:
    """Plan `job` as a mirror and report where its two sides differ."""
    files = job.plan_options.files
    options = replace(job.plan_options, delete=files is None, delete_excluded=False)
    prepared = prepare(replace(job, plan_options=options))
    plan = prepared.plan
    result = Comparison(
        job.name,
        str(job.source),
        str(job.dest),
        identical=plan.unchanged,
        ignored=plan.ignored,
        warnings=list(prepared.warnings),
        metadata_requests=prepared.metadata_requests,
    )
    for action in plan.copies:
        if action.reason == NEW:
            result.only_in_source.append(action.key)
        else:
            result.differ[action.key] = action.reason
    result.only_in_destination = [action.key for action in plan.deletes]
    for key in plan.missing_listed:
        result.differ[key] = "listed in the map but missing at the source"
    return result
