"""Showing a sync to a person: plan preview, delete confirmation, progress and summary."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from rich.markup import escape

from s32s.cli.output import error_console, human_bytes, stdout_console, table
from s32s.sync.archived import is_archived_reason
from s32s.sync.events import NullReporter

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from s32s.sync.events import Report
    from s32s.sync.plan import Action, Plan

PREVIEW_PATHS = 10


class LineReporter(NullReporter):
    """One plain line per file, for logs and cron (no terminal)."""

    def __init__(self, source: str, dest: str, *, quiet: bool) -> None:
        self.source = source.rstrip("/")
        self.dest = dest.rstrip("/")
        self.quiet = quiet
        self._lock = threading.Lock()

    def finished(self, action: Action, error: str | None) -> None:
        """Write the file's line to stderr as plain text.

        A run can finish thousands of files a second: a rich Console per line
        cost more CPU than the requests themselves.
        """
        verb = "copy" if action.kind.value == "copy" else "delete"
        if error:
            label = "skipped" if is_archived_reason(error) else "failed"
            line = f"{label}: {action.key}: {error}"
        elif self.quiet:
            return
        elif verb == "copy":
            line = f"copy: {self.source}/{action.key} to {self.dest}/{action.key}"
        else:
            line = f"delete: {self.dest}/{action.key}"
        with self._lock:
            sys.stderr.write(line.translate(_CONTROL_CHARACTERS) + "\n")


# Control characters in a key (a hostile name) must not reach a terminal or a log as such.
_CONTROL_CHARACTERS = {code: "?" for code in [*range(0x20), 0x7F]}


class RichReporter:
    """A progress bar with files, bytes, rate and ETA, on stderr."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.done_files = 0
        self.total_files = 0
        self._lock = threading.Lock()

    def planned(self, name: str, plan: Plan) -> None:
        self.total_files = len(plan.copies)
        self.done_files = 0
        self.task = self.progress.add_task(escape(name), total=plan.bytes_to_copy or None, files="")
        self._update_files()

    def _update_files(self) -> None:
        if self.task is not None:
            self.progress.update(self.task, files=f"{self.done_files}/{self.total_files} files")

    def started(self, action: Action) -> None:
        pass

    def advanced(self, byte_count: int) -> None:
        if self.task is not None:
            self.progress.advance(self.task, byte_count)

    def finished(self, action: Action, error: str | None) -> None:
        if error:
            label = "[yellow]skipped:[/]" if is_archived_reason(error) else "[red]failed:[/]"
            self.progress.console.print(
                f"{label} {escape(action.key)}: {escape(error)}", highlight=False
            )
        if action.kind.value == "copy":
            with self._lock:
                self.done_files += 1
                self._update_files()


def make_progress() -> Progress:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=error_console(),
        transient=False,
    )


def render_plan(name: str, source: str, dest: str, plan: Plan, *, dry_run: bool) -> None:
    """What will happen, on stderr."""
    console = error_console()
    prefix = "[bold yellow](dry run)[/] " if dry_run else ""
    console.print(
        f"{prefix}[bold]{escape(name)}[/]: {escape(source)} → {escape(dest)}: "
        f"{len(plan.copies)} to copy ({human_bytes(plan.bytes_to_copy)}), "
        f"{len(plan.deletes)} to delete, {plan.unchanged} unchanged"
        + (f", {plan.ignored} ignored" if plan.ignored else ""),
        highlight=False,
    )
    if dry_run:
        for action in plan.copies:
            console.print(
                f"  copy   {escape(action.key)}  ({escape(action.reason)})", highlight=False
            )
        for action in plan.mkdirs:
            console.print(f"  mkdir  {escape(action.key)}/", highlight=False)
        for action in plan.deletes:
            console.print(
                f"  delete {escape(action.key)}  ({escape(action.reason)})", highlight=False
            )
        for action in plan.rmdirs:
            console.print(f"  rmdir  {escape(action.key)}/", highlight=False)


def render_delete_preview(dest: str, plan: Plan) -> None:
    console = error_console()
    console.print(
        f"[bold red]{len(plan.deletes)} file(s), {human_bytes(plan.bytes_to_delete)}[/] would be deleted from "
        f"{escape(dest)}"
        + (f" and {len(plan.rmdirs)} folder(s) removed" if plan.rmdirs else "")
        + ":",
        highlight=False,
    )
    for action in plan.deletes[:PREVIEW_PATHS]:
        console.print(f"  {escape(action.key)}", highlight=False)
    if len(plan.deletes) > PREVIEW_PATHS:
        console.print(f"  … and {len(plan.deletes) - PREVIEW_PATHS} more", highlight=False)


def confirm_deletes() -> bool:
    from rich.prompt import Confirm

    return Confirm.ask("Delete them?", default=False, console=error_console())


def render_summary(reports: list[Report]) -> None:
    rows = []
    for report in reports:
        status = (
            "refused"
            if report.refused
            else "failed"
            if report.failed
            else "archived"
            if report.archived
            else "dry run"
            if report.dry_run
            else "ok"
        )
        rows.append(
            [
                report.name,
                status,
                report.copied,
                human_bytes(report.bytes_copied),
                report.deleted,
                report.unchanged,
                len(report.failed),
                f"{report.seconds:.1f}s",
            ]
        )
    stdout_console().print(
        table(
            "Summary",
            ["map", "status", "copied", "bytes", "deleted", "unchanged", "failed", "time"],
            rows,
        )
    )


def render_problems(report: Report) -> None:
    console = error_console()
    for reason in report.refused:
        console.print(
            f"[bold red]Refused[/] {escape(report.name)}: {escape(reason)}", highlight=False
        )
    for key, reason in sorted(report.failed.items()):
        console.print(f"[red]failed:[/] {escape(key)}: {escape(reason)}", highlight=False)
    for key, reason in sorted(report.archived.items()):
        console.print(f"[yellow]not copied:[/] {escape(key)}: {escape(reason)}", highlight=False)
    if report.archived and not report.skip_archived:
        console.print(
            f"{len(report.archived)} archived object(s) not copied: restore them "
            "(--restore-archived DAYS), or pass --skip-archived to accept it.",
            highlight=False,
        )
    if report.deletes_skipped:
        console.print(
            f"[yellow]Nothing deleted:[/] {escape(report.deletes_skipped)}", highlight=False
        )
    for warning in report.warnings:
        console.print(f"[yellow]Warning:[/] {escape(warning)}", highlight=False)
