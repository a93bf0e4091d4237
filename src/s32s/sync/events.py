"""How the engine tells the outside world what it does: events in, a Report out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from s32s.errors import ExitCode
from s32s.sync.plan import Action, Plan


class Reporter(Protocol):
    """Receives the engine's events. Called from worker threads: implementations must be thread-safe."""

    def planned(self, name: str, plan: Plan) -> None: ...
    def started(self, action: Action) -> None: ...
    def advanced(self, byte_count: int) -> None: ...
    def finished(self, action: Action, error: str | None) -> None: ...


class NullReporter:
    """Reports nothing (quiet runs, --json, tests)."""

    def planned(self, name: str, plan: Plan) -> None:
        pass

    def started(self, action: Action) -> None:
        pass

    def advanced(self, byte_count: int) -> None:
        pass

    def finished(self, action: Action, error: str | None) -> None:
        pass


class TeeReporter:
    """Sends every event to several reporters."""

    def __init__(self, *reporters: Reporter) -> None:
        self.reporters = reporters

    def planned(self, name: str, plan: Plan) -> None:
        for reporter in self.reporters:
            reporter.planned(name, plan)

    def started(self, action: Action) -> None:
        for reporter in self.reporters:
            reporter.started(action)

    def advanced(self, byte_count: int) -> None:
        for reporter in self.reporters:
            reporter.advanced(byte_count)

    def finished(self, action: Action, error: str | None) -> None:
        for reporter in self.reporters:
            reporter.finished(action, error)


@dataclass
class Report:
    """What one sync did."""

    name: str
    source: str
    destination: str
    dry_run: bool = False
    copied: int = 0
    bytes_copied: int = 0
    deleted: int = 0
    bytes_deleted: int = 0
    folders_created: int = 0
    folders_removed: int = 0
    unchanged: int = 0
    ignored: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    # Archived source objects (Glacier classes) not copied: {key: what was done}.
    archived: dict[str, str] = field(default_factory=dict)
    skip_archived: bool = False  # archived objects alone leave the exit code at 0
    refused: list[str] = field(default_factory=list)
    deletes_skipped: str | None = None
    warnings: list[str] = field(default_factory=list)
    would_copy: list[str] = field(default_factory=list)
    would_delete: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0
    concurrency: dict[str, Any] | None = None  # mode, final, peak, max of the copy phase

    @property
    def exit_code(self) -> ExitCode:
        if self.refused:
            return ExitCode.REFUSED
        if self.failed or (self.archived and not self.skip_archived):
            return ExitCode.PARTIAL_FAILURE
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "destination": self.destination,
            "dry_run": self.dry_run,
            "copied": self.copied,
            "bytes_copied": self.bytes_copied,
            "deleted": self.deleted,
            "bytes_deleted": self.bytes_deleted,
            "folders_created": self.folders_created,
            "folders_removed": self.folders_removed,
            "skipped": self.unchanged + self.ignored,
            "unchanged": self.unchanged,
            "ignored": self.ignored,
            "failed": [
                {"path": key, "reason": reason} for key, reason in sorted(self.failed.items())
            ],
            "archived": [
                {"path": key, "reason": reason} for key, reason in sorted(self.archived.items())
            ],
            "refused": self.refused,
            "deletes_skipped": self.deletes_skipped,
            "warnings": self.warnings,
            **(
                {"would_copy": self.would_copy, "would_delete": self.would_delete}
                if self.dry_run
                else {}
            ),
            "seconds": round(self.seconds, 3),
            **({"concurrency": self.concurrency} if self.concurrency else {}),
            "exit_code": int(self.exit_code),
        }
