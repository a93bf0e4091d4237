"""`s32s transfer run CONFIG.yaml`: bucket-to-bucket transfers with JSON transfer logs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import click

from s32s.cli.app import App, end_with, pass_app
from s32s.cli.objectoptions import object_options, parse_object_options
from s32s.cli.sync import finish, notify_option, notify_targets, run_hooks

if TYPE_CHECKING:
    from s32s.aws.clients import AwsOptions
    from s32s.sync.job import PreparedSync
    from s32s.transfers.batch import JobProgress
    from s32s.transfers.batch_run import BatchOptions, BatchOutcome
    from s32s.transfers.config import TransferConfig


@click.group("transfer")
def transfer_group() -> None:
    """Copy between buckets, across endpoints, with JSON transfer logs."""


@transfer_group.command("run")
@click.argument(
    "config_path", metavar="CONFIG.yaml", type=click.Path(dir_okay=False, path_type=Path)
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    help="Objects copied in parallel [default: the config's workers, else adapts to the link].",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compare both buckets and show what would be copied; write no log. With --engine "
    "batch: the manifest it would write and the job it would create.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "batch"]),
    default="local",
    show_default=True,
    help="local: copy from this machine. batch: one S3 Batch Operations job copies the plan "
    "inside AWS (objects over 5 GiB are copied locally in the same run).",
)
@click.option(
    "--role-arn",
    metavar="ARN",
    help="With --engine batch: the IAM role the job assumes [default: s32s creates one with "
    "the least it needs and names it].",
)
@click.option(
    "--wait",
    is_flag=True,
    help="With --engine batch: follow the job to its end, read its completion report into the "
    "log and exit as a transfer does.",
)
@click.option(
    "--from-inventory",
    "inventory",
    metavar="S3URL",
    help="List the source from this S3 Inventory manifest.json (CSV) instead of LIST. Objects "
    "written after the report are not seen.",
)
@click.option(
    "--snowball-batch",
    is_flag=True,
    help="dst region snow: send files of 1 MB or less in tar archives the import unpacks "
    "(snowball-auto-extract).",
)
@object_options
@notify_option
@pass_app
def run_command(
    app: App,
    config_path: Path,
    workers: int | None,
    dry_run: bool,
    engine: str,
    role_arn: str | None,
    wait: bool,
    inventory: str | None,
    snowball_batch: bool,
    notify: tuple[str, ...],
    **kwargs: object,
) -> None:
    """Copy what is missing or different from src to dst as CONFIG.yaml describes.

    Objects are compared by size and ETag; nothing is deleted. When both sides
    share endpoints and credentials objects are copied server-side, otherwise
    each one streams from a GET into a (multipart) PUT. Several endpoint_urls
    are used round-robin; one that fails is rested and its objects go to the
    others. The log dt_data_<start epoch>.json is rewritten during the run and
    at the end. A re-run resumes where an interrupted one stopped. The
    object options override what the config's dst (and src) say.

    --engine batch writes the plan as a Batch Operations manifest to the log
    bucket and creates one copy job (see docs/transfer.md for when to choose it).
    """
    from s32s import runs
    from s32s.maps.ini import Config
    from s32s.transfers.config import load_transfer_config

    if engine != "batch" and (role_arn or wait):
        raise click.UsageError("--role-arn and --wait belong to --engine batch.")
    ini = app.load_config(required=False)
    objects = parse_object_options(kwargs, ini)
    if engine == "batch":
        if notify:
            raise click.UsageError(
                "--notify is for the local engine: a Batch Operations job reports through its "
                "completion report (read with --wait)."
            )
        config = load_transfer_config(config_path)
        for warning in config.warnings:
            app.warn(warning)
        if snowball_batch:
            raise click.UsageError(
                "--snowball-batch is for a Snowball Edge destination (dst region: snow) with the "
                "local engine."
            )
        from s32s.transfers.batch_run import BatchOptions

        base = app.aws_options()
        batch = BatchOptions(
            role_arn=role_arn,
            wait=wait,
            dry_run=dry_run,
            settings=objects.settings,
            endpoint_url=base.endpoint_url,
        )
        _run_batch(app, config, base, workers or config.workers, inventory, batch)
        return
    report = runs.transfer(
        config_path,
        dry_run=dry_run,
        inventory=inventory,
        snowball_batch=snowball_batch,
        hooks=run_hooks(app, yes=True),
        workers=workers,
        notify=notify_targets(notify, ini),
        **objects.run_fields(),
        **app.aws_keywords(),
    )
    transfer_view = Config(skip_transfer_detail=False)
    if report.log is None:  # a dry run
        finish(app, transfer_view, [report])
        return
    if report.archives:
        app.info(
            f"{report.archived_files} small file(s) in {len(report.archives)} archive(s); "
            "the log names each file's archive."
        )
    app.info(f"Transfer log: {report.log} ({report.log_status})")
    finish(app, transfer_view, [report], log=report.log, status=report.log_status)


def _run_batch(
    app: App,
    config: TransferConfig,
    base: AwsOptions,
    workers: int,
    inventory: str | None,
    options: BatchOptions,
) -> None:
    """`--engine batch`: the library runs it; here it is shown."""
    from s32s.runs import describe_inventory
    from s32s.transfers.batch_run import batch_transfer

    def planned(prepared: PreparedSync) -> None:
        line = describe_inventory(prepared.job.source)
        if line:
            app.info(line)
        plan = prepared.plan
        app.info(f"Plan: {len(plan.copies)} object(s) to copy, {plan.unchanged} already in place.")

    with _job_progress(app) as on_progress:
        result = batch_transfer(
            config,
            base,
            options,
            workers=workers,
            inventory=inventory,
            on_planned=planned,
            on_progress=on_progress,
        )
    outcome = result.outcome
    if app.json_output:
        app.emit_json(
            {**outcome.to_dict(), "log": result.log_location, "report": outcome.report.to_dict()}
        )
    else:
        _render_batch(app, outcome, result.log_location)
    end_with(outcome.report.exit_code)


def _render_batch(app: App, outcome: BatchOutcome, log_location: str | None) -> None:
    import json

    from rich.markup import escape

    from s32s.cli.output import stdout_console

    console = stdout_console()
    report = outcome.report

    def say(text: str) -> None:
        console.print(escape(text), highlight=False, soft_wrap=True)

    if report.dry_run:
        manifest = outcome.manifest
        say(f"Manifest ({manifest.tasks} line(s)) would be written to {outcome.manifest_url}:")
        for line in manifest.sample:
            say(f"  {line}")
        if manifest.tasks > len(manifest.sample):
            say("  ...")
        if outcome.role_policy is not None:
            say(f"Role {outcome.role_arn} would be created or updated, with this policy:")
            say(json.dumps(outcome.role_policy, indent=2))
        say("Job it would create (s3control CreateJob):")
        say(json.dumps(outcome.request, indent=2))
        app.info("Dry run: nothing was written, created or copied.")
    elif not outcome.job_id and not outcome.local_keys:
        app.info("Nothing to copy: the destination is up to date.")
    elif outcome.job_id:
        if outcome.role_policy is None:
            how = "given with --role-arn"
        else:
            how = "created now" if outcome.role_created else "made before, its policy updated"
        say(f"Batch Operations job: {outcome.job_id}")
        say(f"Role: {outcome.role_arn} ({how})")
        say(f"Manifest: {outcome.manifest_url} ({outcome.manifest.tasks} object(s))")
        if outcome.progress is None:
            say(outcome.follow)
    if outcome.local_keys:
        verb = "would be" if report.dry_run else "were"
        app.info(f"{len(outcome.local_keys)} object(s) over 5 GiB {verb} copied by this machine.")
    if report.failed or report.warnings:
        from s32s.cli.progress import render_problems

        render_problems(report)
    if log_location:
        app.info(f"Transfer log: {log_location}")


ProgressCallback = Callable[["JobProgress"], None]


def _job_progress(app: App) -> AbstractContextManager[ProgressCallback | None]:
    """An `on_progress(JobProgress)` callback: a bar on a terminal, a line per status
    change otherwise, nothing with --json or -q."""
    if app.json_output or app.quiet:
        return nullcontext(None)
    from s32s.cli.output import error_console

    return _job_bar() if error_console().is_terminal else _job_lines(app)


@contextmanager
def _job_lines(app: App) -> Iterator[ProgressCallback]:
    seen: list[str] = []

    def update(job: JobProgress) -> None:
        if not seen or seen[-1] != job.status:
            seen.append(job.status)
            app.info(
                f"Job {job.status}: {job.succeeded} succeeded, {job.failed} failed, "
                f"{job.total} task(s)"
            )

    yield update


@contextmanager
def _job_bar() -> Iterator[ProgressCallback]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from s32s.cli.output import error_console

    columns = (
        TextColumn("{task.fields[status]:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
    )
    with Progress(*columns, console=error_console()) as progress:
        task = progress.add_task("job", total=None, status="New", failed=0)

        def update(job: JobProgress) -> None:
            progress.update(
                task,
                total=job.total or None,
                completed=job.succeeded + job.failed,
                status=job.status,
                failed=job.failed,
            )

        yield update
