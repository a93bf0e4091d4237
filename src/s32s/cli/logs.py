"""`s32s logs list|show|serve`: read the transfer logs, locally or over HTTP."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, pass_app

if TYPE_CHECKING:
    from s32s.transfers.log import LogStore, StoredLog

DEFAULT_DIR = "logs"


def _source_options(function: Any) -> Any:
    function = click.option(
        "--s3",
        "s3_path",
        metavar="PATH",
        help="Read logs from this S3 prefix (bucket/prefix or s3://bucket/prefix) instead of a folder.",
    )(function)
    return click.option(
        "--dir",
        "directory",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Folder holding the dt_data_<epoch>.json logs [default: ./{DEFAULT_DIR}].",
    )(function)


def open_log_store(app: App, directory: Path | None, s3_path: str | None) -> LogStore:
    """The store named by --dir or --s3 (not both)."""
    from s32s.transfers.log import open_store

    if directory is not None and s3_path is not None:
        raise click.UsageError("Give --dir or --s3, not both.")
    if s3_path is not None:
        return open_store(s3_path=s3_path, factory=app.factory)
    return open_store(directory=directory if directory is not None else Path(DEFAULT_DIR))


def _epoch_option(name: str, text: str) -> Any:
    return click.option(name, type=click.IntRange(min=0), metavar="EPOCH", help=text)


@click.group("logs")
def logs_group() -> None:
    """Read the JSON logs of `s32s transfer run`, or serve them over HTTPS."""


@logs_group.command("list")
@_source_options
@_epoch_option("--start", "Only logs that started at or after this epoch (seconds).")
@_epoch_option("--end", "Only logs that started at or before this epoch (seconds).")
@pass_app
def list_command(
    app: App,
    directory: Path | None,
    s3_path: str | None,
    start: int | None,
    end: int | None,
) -> None:
    """List the transfer logs, oldest first."""
    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"--start ({start}) is after --end ({end}).", param_hint="--start")
    store = open_log_store(app, directory, s3_path)
    listing = store.list(start, end)
    for problem in listing.problems:
        app.warn(problem)
    summaries = [log.summary() for log in listing]
    if app.json_output:
        app.emit_json({"location": store.description, "logs": summaries})
        return
    if not summaries:
        app.info(f"No transfer logs in {store.description} for that range.")
        return
    _print_list(store.description, summaries)


def _print_list(location: str, summaries: list[dict[str, Any]]) -> None:
    from s32s.cli.output import human_bytes, stdout_console, table

    rows = [
        [
            item["epoch"],
            item["start_time"],
            item["status"],
            item["objects_moved"],
            item["failed_objects"],
            _bytes(item["bytes_transferred"], human_bytes),
            _percent(item["completion_percentage"]),
            _seconds(item["total_duration_seconds"]),
        ]
        for item in summaries
    ]
    columns = ["epoch", "start", "status", "moved", "failed", "bytes", "done", "duration"]
    rendered = table(f"Transfer logs in {location}", columns, rows)
    for column in rendered.columns[:3]:
        column.no_wrap = True
    stdout_console().print(rendered)


def _bytes(value: Any, human: Any) -> str:
    return human(value) if isinstance(value, int | float) else ""


def _percent(value: Any) -> str:
    return f"{value:.2f} %" if isinstance(value, int | float) else ""


def _seconds(value: Any) -> str:
    return f"{value:.1f} s" if isinstance(value, int | float) else ""


@logs_group.command("show")
@click.argument("which", metavar="EPOCH|latest")
@_source_options
@click.option("--objects", is_flag=True, help="Also list every object moved.")
@pass_app
def show_command(
    app: App, which: str, directory: Path | None, s3_path: str | None, objects: bool
) -> None:
    """Show one transfer log: by its start epoch, or the latest."""
    from s32s.transfers.log import LATEST, parse_epoch

    which = LATEST if which.strip().lower() == LATEST else str(parse_epoch(which))
    stored = open_log_store(app, directory, s3_path).load(which)
    if app.json_output:
        app.emit_json(stored.document(include_objects=objects))
        return
    _print_log(stored, objects)


def _print_log(stored: StoredLog, objects: bool) -> None:
    from s32s.cli.output import human_bytes, stdout_console, table
    from s32s.transfers.log import format_epoch

    console = stdout_console()
    document = stored.document(include_objects=False)
    failed = document.pop("failed_objects", None) or {}
    rows: list[list[Any]] = []
    for key, value in document.items():
        if isinstance(value, list):
            value = ", ".join(str(item) for item in value)
        elif key.endswith("_epoch") and isinstance(value, int | float):
            value = f"{value} ({format_epoch(value)})"
        elif key in ("total_bytes_to_move", "bytes_transferred", "remaining_bytes"):
            value = f"{value} ({_bytes(value, human_bytes)})"
        rows.append([key, value])
    console.print(table(f"Transfer log {stored.location}", ["field", "value"], rows))
    if failed:
        console.print(
            table("Failed objects", ["key", "reason"], [[k, v] for k, v in failed.items()])
        )
    if objects:
        moved = [
            [
                item.get("src_key"),
                item.get("dst_key"),
                item.get("bytes"),
                _seconds(item.get("total_time_seconds")),
            ]
            for item in stored.objects_moved
        ]
        console.print(
            table("Objects moved", ["source key", "destination key", "bytes", "time"], moved)
        )


@logs_group.command("serve")
@_source_options
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; anything but loopback needs --cert/--key or --insecure.",
)
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8443, show_default=True, help="TCP port."
)
@click.option(
    "--cert",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TLS certificate (PEM, with any intermediate certificates after it).",
)
@click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Private key of --cert (PEM, unencrypted).",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy).",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 200),
    default=10,
    show_default=True,
    help="Requests served at once.",
)
@pass_app
def serve_command(
    app: App,
    directory: Path | None,
    s3_path: str | None,
    host: str,
    port: int,
    cert: Path | None,
    key: Path | None,
    insecure: bool,
    threads: int,
) -> None:
    """Serve the transfer logs over HTTP(S), as api_service.py did, with a dashboard.

    The token comes from $S32S_API_TOKEN; clients send `Authorization: Bearer
    <token>`. GET / lists the routes; a browser opening / gets the transfers
    dashboard, which asks for the token once. Ctrl-C stops the server.
    """
    from s32s.transfers import api as logsapi

    token = logsapi.check_start(
        token=os.environ.get(logsapi.TOKEN_ENV), host=host, cert=cert, key=key, insecure=insecure
    )
    if len(token) < logsapi.MIN_TOKEN_LENGTH:
        app.warn(
            f"${logsapi.TOKEN_ENV} is shorter than {logsapi.MIN_TOKEN_LENGTH} characters; "
            "use a long random secret."
        )
    if insecure and cert is None and not logsapi.is_loopback(host):
        app.warn(f"Serving plain HTTP on {host}: put a TLS proxy in front of it.")
    store = open_log_store(app, directory, s3_path)
    store.epochs()  # fail now, with a clear message, if the folder or bucket cannot be read
    server = logsapi.make_server(
        logsapi.LogsApi(store, token), host, port, cert=cert, key=key, threads=threads
    )
    bound_host, bound_port = logsapi.bind(server)
    scheme = "https" if cert is not None else "http"
    shown_host = f"[{bound_host}]" if ":" in bound_host else bound_host
    app.info(
        f"Serving transfer logs from {store.description} at "
        f"{scheme}://{shown_host}:{bound_port}/ (open it in a browser for the dashboard; "
        "Ctrl-C to stop)."
    )
    logsapi.serve_forever(server)
    app.info("Server stopped.")
