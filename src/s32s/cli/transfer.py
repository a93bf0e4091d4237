"""`s32s transfer run CONFIG.yaml`: bucket-to-bucket transfers with JSON transfer logs."""

from __future__ import annotations

from pathlib import Path

import click

from s32s.cli.app import App, pass_app
from s32s.cli.sync import notify_option, notify_targets


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
    help="Objects copied in parallel [default: the config's workers, else 16].",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compare both buckets and show what would be copied; write no log.",
)
@notify_option
@pass_app
def run_command(
    app: App, config_path: Path, workers: int | None, dry_run: bool, notify: tuple[str, ...]
) -> None:
    """Copy what is missing or different from src to dst as CONFIG.yaml describes.

    Objects are compared by size and ETag; nothing is deleted. When both sides
    share endpoints and credentials objects are copied server-side, otherwise
    each one streams from a GET into a (multipart) PUT. Several endpoint_urls
    are used round-robin; one that fails is rested and its objects go to the
    others. The log dt_data_<start epoch>.json is rewritten during the run and
    at the end. A re-run resumes where an interrupted one stopped.
    """
    from concurrent.futures import ThreadPoolExecutor

    from s32s.aws.clients import AwsOptions
    from s32s.cli.sync import SyncSession
    from s32s.maps.ini import Config
    from s32s.transfers.config import (
        TransferLogReporter,
        build_job,
        load_transfer_config,
        log_factory,
        log_target,
        new_log,
    )
    from s32s.transfers.log import LogWriter

    config = load_transfer_config(config_path)
    for warning in config.warnings:
        app.warn(warning)
    workers = workers or config.workers
    base = AwsOptions(
        profile=app.profile,
        region=app.region,
        endpoint_url=app.endpoint_url,
        verify_tls=False if app.no_verify_ssl else None,
    )
    targets = notify_targets(notify, app.load_config(required=False))
    session = SyncSession(
        app,
        Config(skip_transfer_detail=False),
        dry_run=dry_run,
        yes=True,
        command="transfer",
        notify=targets,
    )
    with ThreadPoolExecutor(
        max_workers=max(4, min(workers, 16)), thread_name_prefix="s32s-part"
    ) as parts:
        job = build_job(config, base, parts, workers)
        if dry_run:
            session.run_job(job)
            session.finish()
            return
        log = new_log(config, workers)
        writer = LogWriter(
            log, config.log_directory, s3=log_target(config), factory=log_factory(config, base)
        )
        with writer:
            where = str(writer.path) if writer.path else f"{log_target(config)}{log.file_name}"
            session.run_job(job, TransferLogReporter(log, config.src, config.dst), log=where)
        _check_endpoints(job)
    app.info(f"Transfer log: {where} ({log.status})")
    session.finish(log=where, status=log.status)


def _check_endpoints(job: object) -> None:
    """Every endpoint of a side down by the end: a configuration problem (exit 2), not a partial run."""
    from s32s.transfers.endpoints import AllEndpointsDown, RotatingClient

    for store in (job.source, job.dest):  # type: ignore[attr-defined]
        client = store.client
        if isinstance(client, RotatingClient) and not client.healthy():
            raise AllEndpointsDown(
                f"No endpoint of {client.label} could be reached: {', '.join(client.clients)}.",
                "Check that the endpoints are up; a re-run resumes where this one stopped.",
            )
