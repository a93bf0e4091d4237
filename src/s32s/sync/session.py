"""Runs of sync jobs, one after the other: lock, plan, safeguards, confirm, execute, notify.

The engine (`sync.job`) plans and executes one job; a session adds what a
whole run needs around it: the destination lock, the deletion confirmation,
progress, the notification of every finished run, and the reports. The
session never prints and never asks: a front end takes part through
`RunHooks` (the CLI draws plans and progress and prompts there). Without a
`confirm` hook a deletion that needs confirmation is refused, as on a
machine without a terminal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

from s32s.errors import ExitCode, S32SError
from s32s.sync.events import NullReporter, Report, Reporter, TeeReporter

if TYPE_CHECKING:
    from s32s.aws.clients import ClientFactory
    from s32s.notify.targets import Target
    from s32s.sync.job import PreparedSync, SyncJob

logger = logging.getLogger(__name__)

UNCONFIRMED = "there is no terminal to confirm: pass --yes (yes=True in Python) or set skip_delete_alert = True"


def _no_progress(job: SyncJob) -> AbstractContextManager[Reporter]:
    return nullcontext(NullReporter())


def _log_warning(message: str) -> None:
    logger.warning("%s", message)


def _log_info(message: str) -> None:
    logger.info("%s", message)


@dataclass
class RunHooks:
    """How a caller takes part in a run; every hook is optional.

    - `planned(prepared, dry_run)`: each job's plan, before anything changes.
    - `confirm(prepared)`: asked before deletions unless `yes`; True goes on.
      None (the default) means nobody can be asked: the deletions are refused.
    - `progress(job)`: a context manager giving the Reporter of one job's events.
    - `reporter`: a Reporter that also receives every job's events.
    - `finished(report)`: each job's report, as soon as it is done.
    - `warn(message)`, `info(message)`: what is not a job's report (default: logged).
    """

    planned: Callable[[PreparedSync, bool], None] | None = None
    confirm: Callable[[PreparedSync], bool] | None = None
    progress: Callable[[SyncJob], AbstractContextManager[Reporter]] = _no_progress
    reporter: Reporter | None = None
    finished: Callable[[Report], None] | None = None
    warn: Callable[[str], None] = _log_warning
    info: Callable[[str], None] = _log_info


Execute = Callable[..., Report]  # (prepared, reporter, stop) -> Report


class RunSession:
    """Runs jobs one after the other and keeps their reports."""

    def __init__(
        self,
        *,
        dry_run: bool = False,
        yes: bool = False,
        command: str = "sync",
        notify: Iterable[Target] = (),
        factory: ClientFactory | None = None,
        hooks: RunHooks | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.dry_run = dry_run
        self.assume_yes = yes
        self.command = command
        self.notify = tuple(notify)
        self.factory = factory  # makes the notification clients
        self.hooks = hooks or RunHooks()
        self.reports: list[Report] = []
        self.stop = stop or threading.Event()  # set it to stop the run: copies in flight end

    @property
    def exit_code(self) -> ExitCode:
        return worst_exit_code(self.reports)

    def run_job(
        self,
        job: SyncJob,
        *extra_reporters: Reporter,
        run: Execute | None = None,
        log: str | None = None,
    ) -> Report:
        """Lock the destination, plan, judge, confirm and run one job; extra reporters get its events.

        `run(prepared, reporter, stop)` replaces the engine's `execute` (e.g.
        Snowball batching). `log` is where the run's transfer log lies, for the
        notification. Raises S32SError when the run cannot start (the lock is
        taken, a bucket is missing…); the failure is announced all the same.
        """
        from s32s.aws.clients import aws_errors
        from s32s.sync.job import execute, prepare
        from s32s.sync.lock import destination_lock

        bucket = getattr(getattr(job.dest, "url", None), "bucket", None) or getattr(
            getattr(job.source, "url", None), "bucket", None
        )
        endpoint = getattr(job.dest, "endpoint", None) or getattr(job.source, "endpoint", None)
        started = time.time()
        try:
            with (
                aws_errors(bucket=bucket, endpoint=endpoint),
                destination_lock(job.dest.identity, str(job.dest)),
            ):
                prepared = prepare(job)
                report = self._decide_and_run(prepared, run or execute, extra_reporters)
        except S32SError as exc:
            if self.notify and not self.dry_run:
                from s32s.notify.send import notify_failure

                notify_failure(
                    self.command, job.name, str(job.source), str(job.dest), started, exc,
                    self.notify, self._factory(), log=log,
                )  # fmt: skip
            raise
        self.reports.append(report)
        if self.notify:
            from s32s.notify.send import notify_run

            notify_run(self.command, report, self.notify, self._factory(), log=log)
        return report

    def _factory(self) -> ClientFactory:
        if self.factory is None:
            from s32s.aws.clients import AwsOptions, ClientFactory

            self.factory = ClientFactory(AwsOptions())
        return self.factory

    def _decide_and_run(
        self, prepared: PreparedSync, execute: Execute, extra_reporters: tuple[Reporter, ...]
    ) -> Report:
        plan, hooks = prepared.plan, self.hooks
        if hooks.planned:
            hooks.planned(prepared, self.dry_run)
        if prepared.refused or self.dry_run:
            report = prepared.empty_report(dry_run=self.dry_run)
        elif plan.deletes and not self.assume_yes and not self._confirmed(prepared):
            report = prepared.empty_report()
            report.refused.append(
                "deletion not confirmed"
                if hooks.confirm
                else f"{len(plan.deletes)} file(s) would be deleted and {UNCONFIRMED}"
            )
        else:
            report = self._execute(prepared, execute, extra_reporters)
        if hooks.finished:
            hooks.finished(report)
        return report

    def _confirmed(self, prepared: PreparedSync) -> bool:
        return self.hooks.confirm is not None and self.hooks.confirm(prepared)

    def _execute(
        self, prepared: PreparedSync, execute: Execute, extra_reporters: tuple[Reporter, ...]
    ) -> Report:
        extra = (*extra_reporters, *((self.hooks.reporter,) if self.hooks.reporter else ()))
        with self.hooks.progress(prepared.job) as shown:
            reporter = TeeReporter(shown, *extra)
            reporter.planned(prepared.job.name, prepared.plan)
            return execute(prepared, reporter, self.stop)


def _severity(code: ExitCode) -> int:
    return {ExitCode.OK: 0, ExitCode.PARTIAL_FAILURE: 1, ExitCode.REFUSED: 2}.get(code, 3)


def worst_exit_code(reports: Iterable[Report]) -> ExitCode:
    """The exit code of a run of several jobs: a refusal outweighs failures, failures success."""
    return max((report.exit_code for report in reports), default=ExitCode.OK, key=_severity)
