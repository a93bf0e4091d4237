"""One `--engine batch` transfer run, from a prepared plan to a Report and a transfer log.

    prepared = prepare(build_job(config, base, parts))     # the plan, as for the local engine
    clients = BatchClients.for_config(config, base)
    sides = check_batch(config, clients, BatchOptions())   # refuses before anything is made
    outcome = run_batch(prepared, config, sides, clients, BatchOptions(wait=True), log=log)

`run_batch` writes the manifest of the planned copies to the log bucket,
makes (or reuses) the role, creates the job, copies the objects over 5 GiB
with the local engine meanwhile, and with `wait` follows the job and reads
its completion report into the log (`objects_moved` entries marked
`"engine": "batch"` or `"local"`, `failed_objects` with each task's error
code). With `dry_run` it only writes the manifest to a temporary file and
returns the request it would send.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from s32s.errors import ConfigError
from s32s.sync.events import Report, Reporter
from s32s.sync.job import PreparedSync, execute
from s32s.sync.objectsettings import DEFAULT_SETTINGS, ObjectSettings
from s32s.sync.plan import Plan
from s32s.transfers.batch import (
    LOCAL_HINT,
    BatchSides,
    JobProgress,
    JobSpec,
    ManifestSummary,
    RunLocations,
    account_id,
    create_job,
    ensure_role,
    follow_hint,
    job_request,
    read_completion_report,
    refusals,
    role_name,
    role_policy,
    split_by_size,
    upload_manifest,
    wait_for_job,
    write_manifest,
)
from s32s.transfers.config import TransferConfig, shares_endpoint_and_credentials
from s32s.transfers.log import TransferLog


@dataclass
class BatchClients:
    """The AWS clients of a batch run: STS, IAM and S3 Control with the source's
    credentials, S3 for the log bucket, and STS with the destination's
    credentials when they differ (to compare the accounts)."""

    sts: Any
    iam: Any
    s3control: Any
    log_s3: Any
    dst_sts: Any | None = None

    @classmethod
    def for_config(cls, config: TransferConfig, base: Any) -> BatchClients:
        from s32s.transfers.config import log_factory

        # A global --endpoint-url names an S3 endpoint: STS, IAM and S3 Control keep AWS's.
        services = replace(base, endpoint_url=None)
        factory = config.src.factory(services, None, 4)
        logs = log_factory(config, base)
        same = shares_endpoint_and_credentials(config.src, config.dst)
        return cls(
            sts=factory.client("sts"),
            iam=factory.client("iam"),
            s3control=factory.client("s3control"),
            log_s3=logs.s3() if logs is not None else None,
            dst_sts=None if same else config.dst.factory(services, None, 4).client("sts"),
        )


@dataclass
class BatchOptions:
    role_arn: str | None = None
    wait: bool = False
    dry_run: bool = False
    sse_c: bool = False
    # The object options given to the command; they override the config's sides.
    settings: ObjectSettings = DEFAULT_SETTINGS
    endpoint_url: str | None = None  # the global --endpoint-url: refused unless it is AWS's
    interval: float = 10.0
    timeout: float | None = None
    clock: Any = None


@dataclass
class BatchOutcome:
    """What a batch run did (or, with dry_run, would do)."""

    report: Report
    manifest: ManifestSummary
    manifest_url: str
    request: dict[str, Any]
    role_arn: str
    role_created: bool
    role_policy: dict[str, Any] | None
    local_keys: list[str] = field(default_factory=list)
    job_id: str | None = None
    progress: JobProgress | None = None
    follow: str = ""

    def to_dict(self) -> dict[str, Any]:
        progress = self.progress
        return {
            "engine": "batch",
            "dry_run": self.report.dry_run,
            "manifest": self.manifest_url,
            "tasks": self.manifest.tasks,
            "manifest_sample": self.manifest.sample,
            "job_request": self.request,
            "role_arn": self.role_arn,
            "role_created": self.role_created,
            "role_policy": self.role_policy,
            "copied_locally": self.local_keys,
            "job_id": self.job_id,
            "job_status": progress.status if progress else None,
            "follow": self.follow,
        }


def batch_sides(
    config: TransferConfig,
    *,
    endpoint_url: str | None = None,
    sse_c: bool = False,
    settings: ObjectSettings = DEFAULT_SETTINGS,
    src_account: str | None = None,
    dst_account: str | None = None,
) -> BatchSides:
    src, dst, log = config.src, config.dst, config.log_side
    src_settings = src.settings.overridden_by(settings)
    dst_settings = dst.settings.overridden_by(settings)
    return BatchSides(
        src_bucket=src.bucket,
        src_prefix=src.url.key_prefix(),
        dst_bucket=dst.bucket,
        dst_prefix=dst.url.key_prefix(),
        log_bucket=log.bucket if log else None,
        log_prefix=log.url.key_prefix() if log else "",
        endpoints=tuple(
            url for side in (src, dst, *([log] if log else [])) for url in side.endpoint_urls
        )
        + ((endpoint_url,) if endpoint_url and not _is_aws(endpoint_url) else ()),
        snow=any((side.region or "").lower() == "snow" for side in (src, dst)),
        sse_c=sse_c or any(s.sse_c_key is not None for s in (src_settings, dst_settings)),
        sse=dst_settings.sse,
        storage_class=dst_settings.storage_class,
        src_account=src_account,
        dst_account=dst_account,
    )


def _is_aws(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn"))


def check_batch(config: TransferConfig, clients: BatchClients, options: BatchOptions) -> BatchSides:
    """The sides, or `ConfigError` saying why Batch Operations cannot serve them.

    The checks that need no request come first; the accounts (GetCallerIdentity,
    which changes nothing) are compared only when the sides use different
    credentials. Nothing is created before this returns.
    """
    sides = batch_sides(
        config, endpoint_url=options.endpoint_url, sse_c=options.sse_c, settings=options.settings
    )
    reasons = refusals(sides, role_arn=options.role_arn)
    if not reasons and clients.dst_sts is not None:
        sides = replace(
            sides, src_account=account_id(clients.sts), dst_account=account_id(clients.dst_sts)
        )
        reasons = refusals(sides, role_arn=options.role_arn)
    if reasons:
        raise ConfigError(
            "S3 Batch Operations cannot run this transfer: " + " ".join(reasons), LOCAL_HINT
        )
    return sides


def run_batch(
    prepared: PreparedSync,
    sides: BatchSides,
    clients: BatchClients,
    options: BatchOptions,
    *,
    log: TransferLog | None = None,
    reporter: Reporter | None = None,
    stop: threading.Event | None = None,
    on_progress: Callable[[JobProgress], None] | None = None,
) -> BatchOutcome:
    """Copy the prepared plan's objects with one Batch Operations job (see the module doc)."""
    plan = prepared.plan
    report = prepared.empty_report(dry_run=options.dry_run)
    if prepared.refused:
        return _outcome(report, ManifestSummary(), "", {}, "", False, None)
    batch_actions, local_actions = split_by_size(plan.copies, lambda action: action.size)
    sizes = {f"{sides.src_prefix}{action.key}": action.size for action in batch_actions}
    account = account_id(clients.sts)
    with tempfile.TemporaryFile() as manifest_file:
        summary = write_manifest(sides.src_bucket, sizes, manifest_file)
        assert sides.log_bucket is not None  # refusals() insists on it
        where = RunLocations.for_manifest(sides.log_bucket, sides.log_prefix, summary)
        manifest_url = f"s3://{where.bucket}/{where.manifest_key}"
        policy = None if options.role_arn else role_policy(sides, where)
        name = role_name(sides)
        role_arn = options.role_arn or f"arn:aws:iam::{account}:role/{name}"
        if options.dry_run or not batch_actions:
            request = job_request(JobSpec(account, role_arn, sides, where, summary.md5))
            if options.dry_run:
                report.would_copy = [action.key for action in plan.copies]
            outcome = _outcome(report, summary, manifest_url, request, role_arn, False, policy)
            outcome.local_keys = [action.key for action in local_actions]
            if options.dry_run or not local_actions:
                return outcome
        else:
            etag = upload_manifest(clients.log_s3, where, manifest_file)
            created = False
            if policy is not None:
                role_arn, created = ensure_role(clients.iam, name, policy)
            request = job_request(JobSpec(account, role_arn, sides, where, etag))
            job_id = create_job(
                clients.s3control, request, role_is_new=created, clock=options.clock
            )
            outcome = _outcome(report, summary, manifest_url, request, role_arn, created, policy)
            outcome.job_id = job_id
            outcome.follow = follow_hint(account, job_id)
            outcome.local_keys = [action.key for action in local_actions]
    job_started = time.time()
    if log is not None:
        log.set_initial(
            synced_objects=plan.unchanged,
            unsynced_objects=len(plan.copies),
            total_bytes_to_move=plan.bytes_to_copy,
        )
        log.set_section("batch_job", _log_section(outcome, account, where))
    if local_actions:
        if log is not None:
            reporter = _with_log(reporter, log, sides)
        _copy_locally(prepared, local_actions, report, reporter, stop)
    if outcome.job_id is None:
        return outcome
    if not options.wait:
        report.warnings.append(
            f"{summary.tasks} object(s) are being copied by Batch Operations job "
            f"{outcome.job_id}. {outcome.follow}"
        )
        return outcome
    outcome.progress = wait_for_job(
        clients.s3control,
        account,
        outcome.job_id,
        on_update=on_progress,
        interval=options.interval,
        timeout=options.timeout,
        clock=options.clock,
    )
    _read_report(clients.log_s3, where, outcome, sizes, sides, report, log, job_started)
    if log is not None:
        log.set_section("batch_job", _log_section(outcome, account, where))
    return outcome


def _outcome(
    report: Report,
    summary: ManifestSummary,
    manifest_url: str,
    request: dict[str, Any],
    role_arn: str,
    created: bool,
    policy: dict[str, Any] | None,
) -> BatchOutcome:
    return BatchOutcome(report, summary, manifest_url, request, role_arn, created, policy)


def _log_section(outcome: BatchOutcome, account: str, where: RunLocations) -> dict[str, Any]:
    progress = outcome.progress
    return {
        "job_id": outcome.job_id,
        "account_id": account,
        "role_arn": outcome.role_arn,
        "role_created": outcome.role_created,
        "manifest": outcome.manifest_url,
        "tasks": outcome.manifest.tasks,
        "report": f"s3://{where.bucket}/{where.report_prefix}/job-{outcome.job_id}/",
        "status": progress.status if progress else "Submitted",
        "tasks_succeeded": progress.succeeded if progress else None,
        "tasks_failed": progress.failed if progress else None,
        "failure_reasons": list(progress.reasons) if progress else [],
        "copied_locally": outcome.local_keys,
    }


def _with_log(reporter: Reporter | None, log: TransferLog, sides: BatchSides) -> Reporter:
    """`reporter`, and the log recording the local copies (marked `engine: local`)."""
    from s32s.sync.events import TeeReporter
    from s32s.transfers.config import Side, TransferLogReporter

    recorder = TransferLogReporter(
        log,
        Side("src", sides.src_bucket, sides.src_prefix),
        Side("dst", sides.dst_bucket, sides.dst_prefix),
        engine="local",
        totals_from_plan=False,
    )
    return TeeReporter(recorder, *([reporter] if reporter else []))


def _copy_locally(
    prepared: PreparedSync,
    actions: list[Any],
    report: Report,
    reporter: Reporter | None,
    stop: threading.Event | None,
) -> None:
    """The objects a copy job cannot take (over 5 GiB), with the local engine."""
    subset = replace(prepared, plan=Plan(copies=list(actions)))
    local = execute(subset, reporter, stop)
    report.copied += local.copied
    report.bytes_copied += local.bytes_copied
    report.failed.update(local.failed)
    report.warnings.extend(local.warnings)


def _read_report(
    s3: Any,
    where: RunLocations,
    outcome: BatchOutcome,
    sizes: dict[str, int],
    sides: BatchSides,
    report: Report,
    log: TransferLog | None,
    started: float,
) -> None:
    """Fold the completion report into the Report and the transfer log."""
    assert outcome.job_id is not None
    progress = outcome.progress
    if progress is not None and progress.status != "Complete" and not progress.succeeded:
        reason = "; ".join(progress.reasons) or f"the job ended {progress.status}"
        for key in sizes:
            _failed(report, log, sides, key, f"Batch Operations job {outcome.job_id}: {reason}")
        return
    ended = time.time()
    seen: set[str] = set()
    for task in read_completion_report(s3, where.bucket, where.report_prefix, outcome.job_id):
        if task.key not in sizes:
            continue
        seen.add(task.key)
        if task.succeeded:
            size = sizes[task.key]
            report.copied += 1
            report.bytes_copied += size
            if log is not None:
                log.record_moved(
                    task.key,
                    _dst_key(sides, task.key),
                    size,
                    started,
                    ended,
                    engine="batch",
                )
        else:
            code = task.error_code or task.http_status or "failed"
            text = f"{code}: {task.message}" if task.message else code
            _failed(report, log, sides, task.key, text)
    for key in sizes.keys() - seen:
        _failed(report, log, sides, key, "absent from the job's completion report")


def _failed(
    report: Report, log: TransferLog | None, sides: BatchSides, key: str, reason: str
) -> None:
    report.failed[key[len(sides.src_prefix) :]] = reason
    if log is not None:
        log.record_failed(key, reason)


def _dst_key(sides: BatchSides, src_key: str) -> str:
    return f"{sides.dst_prefix}{src_key[len(sides.src_prefix) :]}"


@dataclass
class BatchTransferResult:
    """A whole `--engine batch` run: the outcome, the log and where it was written."""

    outcome: BatchOutcome
    source: Any
    log: TransferLog | None = None
    log_location: str | None = None


def batch_transfer(
    config: TransferConfig,
    base: Any,
    options: BatchOptions,
    *,
    workers: int | None = None,
    inventory: str | None = None,
    clients: BatchClients | None = None,
    reporter: Reporter | None = None,
    on_planned: Callable[[PreparedSync], None] | None = None,
    on_progress: Callable[[JobProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> BatchTransferResult:
    """Check, plan, and run a transfer with Batch Operations, writing its transfer log.

    Refusals come before anything is listed or created. The destination is
    locked for the run as with the local engine. Without `options.wait` the
    log is left `Running` with the job's id: the job goes on inside AWS.
    """
    from s32s.aws.clients import aws_errors
    from s32s.sync.job import prepare
    from s32s.sync.lock import destination_lock
    from s32s.sync.parts import part_pool
    from s32s.transfers.config import (
        build_job,
        log_factory,
        log_target,
        new_log,
    )
    from s32s.transfers.log import FAILED, RUNNING, LogWriter

    clients = clients or BatchClients.for_config(config, base)
    sides = check_batch(config, clients, options)
    workers = workers or config.workers
    with part_pool(workers) as parts:
        job = build_job(
            config, base, parts, workers, inventory=inventory, settings=options.settings
        )
        with (
            aws_errors(bucket=config.src.bucket),
            destination_lock(job.dest.identity, str(job.dest)),
        ):
            prepared = prepare(job)
            if on_planned is not None:
                on_planned(prepared)
            if options.dry_run:
                outcome = run_batch(prepared, sides, clients, options)
                return BatchTransferResult(outcome, job.source)
            log = new_log(config, workers)
            note_inventory(log, job.source)
            writer = LogWriter(
                log, config.log_directory, s3=log_target(config), factory=log_factory(config, base)
            )
            writer.start()
            try:
                outcome = run_batch(
                    prepared,
                    sides,
                    clients,
                    options,
                    log=log,
                    reporter=reporter,
                    stop=stop,
                    on_progress=on_progress,
                )
            except BaseException:
                # A job already created goes on inside AWS: its log stays Running.
                job = log.section("batch_job") or {}
                writer.close(RUNNING if job.get("job_id") else FAILED)
                raise
            running = outcome.job_id is not None and outcome.progress is None
            writer.close(RUNNING if running else None)
    where = str(writer.path) if writer.path else str(log_target(config))
    return BatchTransferResult(outcome, job.source, log, where)


def note_inventory(log: TransferLog, source: Any) -> None:
    """Record in the log which inventory report listed the source, and its age."""
    manifest = getattr(source, "manifest", None)
    if manifest is not None:
        log.set_section(
            "inventory",
            {
                "manifest": manifest.location,
                "created_epoch": manifest.created,
                "age_seconds": round(manifest.age_seconds()),
            },
        )
