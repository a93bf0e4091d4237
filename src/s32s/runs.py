"""Whole runs as Python calls: `sync`, `run_maps` and `transfer`, as the CLI runs them.

    import s32s
    report = s32s.sync("./data", "s3://bucket/data", delete=True, yes=True, workers=64)
    reports = s32s.run_maps("master", config="s32s.ini", names=["site"], yes=True)
    report = s32s.transfer("transfer.yaml", notify=["sqs://transfers"])

Each call loads what it needs (the ini, the maps, the transfer config), takes
the destination lock, plans, applies the safeguards, executes, writes the
transfer log and sends the notifications, and returns Reports. It never
prints and never asks: a deletion that needs confirmation is refused (the
report's `refused`, exit code 3, nothing changed) unless `yes=True` or a
`confirm` callback agrees. Errors that stop a run before its report (a bad
map, a missing bucket, a destination another run holds) raise `S32SError`s
whose `exit_code` is the CLI's.

Run options (`workers`, `checksum`, `max_delete`, `allow_empty_source`,
`delete_excluded`, `backup_dir`, `cleanup_uploads`, `notify`, … every field
of `RunOptions`) are keywords of each call, or one `options=RunOptions(...)`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s32s.maps.runner import RunOptions, StoreFactory
from s32s.sync.events import Report
from s32s.sync.session import RunHooks, RunSession

if TYPE_CHECKING:
    from s32s.aws.clients import AwsOptions
    from s32s.maps.ini import Config
    from s32s.maps.pathmap import MapSet, PathMap
    from s32s.sync.check import Comparison
    from s32s.sync.events import Reporter
    from s32s.sync.job import PreparedSync, SyncJob
    from s32s.transfers.config import TransferConfig


@dataclass
class RunReport(Report):
    """A Report with what a transfer or a batched sync adds."""

    log: str | None = None  # where the transfer log lies (local path, else s3://…)
    log_status: str | None = None  # the log's final status: Completed, Failed…
    archives: dict[str, list[str]] = field(default_factory=dict)  # --snowball-batch: {tar: files}

    @property
    def archived_files(self) -> int:
        """How many files went in Snowball archives."""
        return sum(len(files) for files in self.archives.values())

    @classmethod
    def of(cls, report: Report, **extra: Any) -> RunReport:
        values = {f.name: getattr(report, f.name) for f in dataclasses.fields(Report)}
        return cls(**values, **extra)


# --- options -----------------------------------------------------------------


def run_options(
    options: RunOptions | None = None, config: Config | None = None, **values: Any
) -> RunOptions:
    """`options` (else the ini's defaults) with `values` (any RunOptions field) on top.

    Values may be given as a user writes them: `max_delete="all"`,
    `backup_dir="./old"`, `notify=["sqs://queue"]`, `bwlimit="10M"`.
    """
    known = {f.name for f in dataclasses.fields(RunOptions)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TypeError(
            f"unknown run option(s) {', '.join(unknown)}; the options are: {', '.join(sorted(known))}"
        )
    if options is None:
        options = RunOptions(
            sleep_after_rmdir=config.time_sleep_after_rm if config else 0.0,
            notify=config.notify if config else (),
            bwlimit=config.bwlimit if config else None,
        )
    return dataclasses.replace(options, **_normalized(values))


def _normalized(values: dict[str, Any]) -> dict[str, Any]:
    values = dict(values)
    if isinstance(values.get("max_delete"), str):
        from s32s.errors import ConfigError
        from s32s.sync.safeguards import Safeguards

        try:
            values["max_delete"] = Safeguards.parse_max_delete(values["max_delete"])
        except ValueError as exc:
            raise ConfigError(f"max_delete: {exc}") from None
    if values.get("backup_dir") is not None:
        values["backup_dir"] = Path(values["backup_dir"]).expanduser().resolve()
    if "notify" in values:
        values["notify"] = notify_targets(values["notify"])
    if isinstance(values.get("bwlimit"), str):
        from s32s.sync.bwlimit import parse_bwlimit

        values["bwlimit"] = parse_bwlimit(values["bwlimit"], where="bwlimit")
    return values


def notify_targets(values: Sequence[Any] | str) -> tuple[Any, ...]:
    """Targets from `sqs://…`, queue URLs and `sns:…` ARNs (Targets pass as they are)."""
    from s32s.notify.targets import Target, parse_targets

    if isinstance(values, str):
        values = (values,)
    texts = tuple(value for value in values if not isinstance(value, Target))
    parsed = iter(parse_targets(texts, where="notify") if texts else ())
    return tuple(value if isinstance(value, Target) else next(parsed) for value in values)


def load_ini(config: Any, *, required: bool, hooks: RunHooks | None = None) -> Config:
    """The ini: a Config as it is, else the file at `config` (default: $S32S_CONFIG, else
    ./s32s.ini); its defaults when the file is absent and not `required`."""
    from s32s.maps.ini import Config, load_config, resolve_config_path

    if isinstance(config, Config):
        return config
    path = resolve_config_path(config)
    if not path.exists() and not required:
        return Config(path=None)
    loaded = load_config(path)
    for warning in loaded.warnings:
        (hooks or RunHooks()).warn(warning)
    return loaded


def aws_options(
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
) -> AwsOptions:
    from s32s.aws.clients import AwsOptions

    return AwsOptions(
        profile=profile, region=region, endpoint_url=endpoint_url, verify_tls=verify_tls
    )


def _hooks(
    hooks: RunHooks | None, reporter: Reporter | None, confirm: Callable[..., bool] | None
) -> RunHooks:
    hooks = hooks or RunHooks()
    if reporter is not None:
        hooks = dataclasses.replace(hooks, reporter=reporter)
    if confirm is not None:
        hooks = dataclasses.replace(hooks, confirm=confirm)
    return hooks


@contextmanager
def _stores(aws: AwsOptions, options: RunOptions) -> Iterator[StoreFactory]:
    from s32s.aws.clients import ClientFactory

    factory = ClientFactory(aws.for_workers(options.workers))
    with StoreFactory(
        factory,
        options.workers,
        pause_after_rmdir=options.sleep_after_rmdir,
        bwlimit=options.bwlimit,
    ) as stores:
        yield stores


def _session(
    command: str, options: RunOptions, aws: AwsOptions, hooks: RunHooks, **flags: bool
) -> RunSession:
    from s32s.aws.clients import ClientFactory

    return RunSession(
        command=command, notify=options.notify, factory=ClientFactory(aws), hooks=hooks, **flags
    )


# --- s32s sync ---------------------------------------------------------------


def sync(
    source: str,
    destination: str,
    *,
    delete: bool = False,
    yes: bool = False,
    dry_run: bool = False,
    ignore: Sequence[str] = (),
    snowball_batch: bool = False,
    config: str | os.PathLike[str] | Config | None = None,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    confirm: Callable[[PreparedSync], bool] | None = None,
    hooks: RunHooks | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
    **run: Any,
) -> RunReport:
    """Sync `source` to `destination` (each a folder or s3://bucket/prefix), as `s32s sync`.

    `config`: an s32s.ini whose [MAIN] settings apply (skip_delete_alert,
    time_sleep_after_rm, notify); none by default. `snowball_batch`: to a
    Snowball Edge (region "snow"), files of 1 MB or less go in tar archives.
    """
    from s32s.errors import ConfigError
    from s32s.maps.runner import job_for_paths

    hooks = _hooks(hooks, reporter, confirm)
    ini = load_ini(config, required=True, hooks=hooks) if config is not None else None
    options = run_options(options, ini, **run)
    aws = aws_options(profile, region, endpoint_url, verify_tls)
    assume_yes = yes or bool(ini and ini.skip_delete_alert)
    session = _session("sync", options, aws, hooks, dry_run=dry_run, yes=assume_yes)
    with _stores(aws, options) as stores:
        job = job_for_paths(
            source, destination, stores, options, delete=delete, ignore=tuple(ignore)
        )
        if not snowball_batch:
            return RunReport.of(session.run_job(job))
        from s32s.snowball.batch import SnowballBatching

        if (region or "").lower() != "snow":
            raise ConfigError("Snowball batching is for a Snowball Edge: pass --region snow.")
        batching = SnowballBatching()
        report = session.run_job(batching.job(job), run=batching.run)
        return RunReport.of(report, archives=batching.by_archive())


# --- master push / slave pull --------------------------------------------------


def open_maps(
    config: Config, maps: str | None, mode: str, factory: Any, hooks: RunHooks | None = None
) -> MapSet:
    """The maps at `maps` (else the ini's maps path for `mode`), validated for `mode`."""
    from s32s.errors import ConfigError
    from s32s.maps.pathmap import load_maps

    location = maps or config.maps_for(mode)
    if not location:
        section = "MASTER" if mode == "master" else "SLAVE"
        raise ConfigError(
            f"No maps path for {mode} mode: [{section}] maps_s3_path is not set in {config.path}.",
            "Pass --maps (maps= in Python), or run `s32s init`.",
        )
    mapset = load_maps(location, mode=mode, factory=factory, sort=not config.skip_order_maps)
    for warning in mapset.warnings:
        (hooks or RunHooks()).warn(warning)
    return mapset


def check_other_mode(
    config: Config, mode: str, maps: list[PathMap], factory: Any, hooks: RunHooks
) -> None:
    """When this machine's ini names both a master and a slave maps path, they must not share S3 paths."""
    from s32s.errors import S32SError
    from s32s.maps.pathmap import load_maps
    from s32s.maps.runner import check_no_shared_s3_paths

    other_mode = "slave" if mode == "master" else "master"
    other_location = config.maps_for(other_mode)
    if not other_location or other_location == config.maps_for(mode):
        return
    try:
        other = load_maps(other_location, mode=None, factory=factory).maps
    except S32SError as exc:
        hooks.warn(
            f"The {other_mode} maps at {other_location} could not be checked for shared S3 paths: {exc.message}"
        )
        return
    masters, slaves = (maps, other) if mode == "master" else (other, maps)
    check_no_shared_s3_paths(masters, slaves)


def run_maps(
    mode: str,
    *,
    config: str | os.PathLike[str] | Config | None = None,
    maps: str | None = None,
    names: Sequence[str] = (),
    yes: bool = False,
    dry_run: bool = False,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    confirm: Callable[[PreparedSync], bool] | None = None,
    hooks: RunHooks | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
    **run: Any,
) -> list[Report]:
    """`master push` (mode "master") or `slave pull` (mode "slave") of the named maps (all when none).

    `config`: the s32s.ini (default: $S32S_CONFIG, else ./s32s.ini; needed
    unless `maps` is given). `maps`: a maps path (S3 or local) instead of the
    ini's. One report per map, in the order they ran.
    """
    from s32s.aws.clients import ClientFactory
    from s32s.errors import ConfigError
    from s32s.maps.runner import job_for_map

    if mode not in ("master", "slave"):
        raise ConfigError(f"Unknown mode {mode!r}: use 'master' or 'slave'.")
    hooks = _hooks(hooks, reporter, confirm)
    ini = load_ini(config, required=maps is None, hooks=hooks)
    aws = aws_options(profile, region, endpoint_url, verify_tls)
    maps_factory = ClientFactory(aws)
    mapset = open_maps(ini, maps, mode, maps_factory, hooks)
    selected = mapset.select(names)
    check_other_mode(ini, mode, mapset.maps, maps_factory, hooks)
    options = run_options(options, ini, **run)
    command = "push" if mode == "master" else "pull"
    session = _session(
        command, options, aws, hooks, dry_run=dry_run, yes=yes or ini.skip_delete_alert
    )
    with _stores(aws, options) as stores:
        for pathmap in selected:
            session.run_job(job_for_map(pathmap, mode, stores, options))
    return session.reports


def check_maps(
    mode: str,
    *,
    config: str | os.PathLike[str] | Config | None = None,
    maps: str | None = None,
    names: Sequence[str] = (),
    checksum: bool = False,
    workers: int | None = None,
    hooks: RunHooks | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
) -> list[Comparison]:
    """`master check` / `slave check`: each selected map's two sides compared; nothing changes."""
    from s32s.aws.clients import ClientFactory, aws_errors
    from s32s.maps.runner import job_for_map
    from s32s.sync.check import compare_job

    hooks = hooks or RunHooks()
    ini = load_ini(config, required=maps is None, hooks=hooks)
    aws = aws_options(profile, region, endpoint_url, verify_tls)
    selected = open_maps(ini, maps, mode, ClientFactory(aws), hooks).select(names)
    options = RunOptions(workers=workers, checksum=checksum)
    with _stores(aws, options) as stores, aws_errors():
        return [compare_job(job_for_map(pathmap, mode, stores, options)) for pathmap in selected]


# --- transfer run ---------------------------------------------------------------


def transfer(
    config_path: str | os.PathLike[str],
    *,
    dry_run: bool = False,
    inventory: str | None = None,
    snowball_batch: bool = False,
    options: RunOptions | None = None,
    reporter: Reporter | None = None,
    hooks: RunHooks | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
    **run: Any,
) -> RunReport:
    """`s32s transfer run CONFIG.yaml`: copy what dst lacks from src, with a JSON transfer log.

    `workers` defaults to the config's. `inventory`: list the source from
    this S3 Inventory manifest.json. The report's `log` is where the log was
    written and `log_status` its final status; a dry run writes no log.
    Raises `AllEndpointsDown` when every endpoint of a side failed.
    """
    from s32s.transfers.config import load_transfer_config

    hooks = _hooks(hooks, reporter, None)
    config = load_transfer_config(Path(config_path))
    for warning in config.warnings:
        hooks.warn(warning)
    if snowball_batch and (config.dst.region or "").lower() != "snow":
        from s32s.errors import ConfigError

        raise ConfigError(
            "Snowball batching is for a Snowball Edge destination (dst region: snow) with the "
            "local engine."
        )
    options = run_options(options, None, **run)
    if options.workers is None:
        options = dataclasses.replace(options, workers=config.workers)
    aws = aws_options(profile, region, endpoint_url, verify_tls)
    session = _session("transfer", options, aws, hooks, dry_run=dry_run, yes=True)
    return _run_transfer(session, config, aws, options, inventory, snowball_batch)


def _run_transfer(
    session: RunSession,
    config: TransferConfig,
    aws: AwsOptions,
    options: RunOptions,
    inventory: str | None,
    snowball_batch: bool,
) -> RunReport:
    from s32s.snowball.batch import SnowballBatching
    from s32s.sync.bwlimit import make_limiter
    from s32s.sync.parts import part_pool
    from s32s.transfers.batch_run import note_inventory
    from s32s.transfers.config import (
        TransferLogReporter,
        build_job,
        log_factory,
        log_target,
        new_log,
    )
    from s32s.transfers.log import LogWriter

    workers = options.workers
    with part_pool(workers) as parts:
        job = build_job(
            config,
            aws,
            parts,
            workers,
            inventory=inventory,
            settings=options.object_settings,
            bandwidth=make_limiter(options.bwlimit),
            skip_archived=options.skip_archived,
            restore_archived_days=options.restore_archived_days,
        )
        _tell_inventory(session.hooks, job.source)
        batching = SnowballBatching() if snowball_batch else None
        runner = batching.run if batching else None
        if batching:
            job = batching.job(job)
        if session.dry_run:
            return RunReport.of(session.run_job(job, run=runner))
        log = new_log(config, workers)
        note_inventory(log, job.source)
        writer = LogWriter(
            log, config.log_directory, s3=log_target(config), factory=log_factory(config, aws)
        )
        with writer:
            where = str(writer.path) if writer.path else f"{log_target(config)}{log.file_name}"
            archives = batching.archives if batching else None
            log_reporter = TransferLogReporter(log, config.src, config.dst, archives=archives)
            report = session.run_job(job, log_reporter, run=runner, log=where)
        check_endpoints(job)
    by_archive = batching.by_archive() if batching else {}
    return RunReport.of(report, log=where, log_status=log.status, archives=by_archive)


def check_endpoints(job: SyncJob) -> None:
    """Every endpoint of a side down by the end: a configuration problem (exit 2), not a partial run."""
    from s32s.transfers.endpoints import AllEndpointsDown, RotatingClient

    for store in (job.source, job.dest):
        client = getattr(store, "client", None)
        if isinstance(client, RotatingClient) and not client.healthy():
            raise AllEndpointsDown(
                f"No endpoint of {client.label} could be reached: {', '.join(client.clients)}.",
                "Check that the endpoints are up; a re-run resumes where this one stopped.",
            )


def describe_inventory(source: object) -> str | None:
    """The line telling a source is listed from an inventory report, if it is."""
    manifest = getattr(source, "manifest", None)
    if manifest is None:
        return None
    return (
        f"Source listed from the inventory report {manifest.location} "
        f"({manifest.describe_age()}); objects written after it are not seen."
    )


def _tell_inventory(hooks: RunHooks, source: object) -> None:
    line = describe_inventory(source)
    if line:
        hooks.info(line)
