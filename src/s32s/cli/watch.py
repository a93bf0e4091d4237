"""`s32s slave pull --watch sqs://QUEUE`: the CLI side of `s32s.notify.watch`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from s32s.cli.app import App
from s32s.errors import ExitCode

if TYPE_CHECKING:
    from s32s.notify.watch import WatchedMap, WatchOptions


def watch_and_pull(
    app: App,
    queue: str,
    options: WatchOptions,
    names: tuple[str, ...],
    maps: str | None,
    kwargs: dict[str, Any],
    backup_dir: str | None,
) -> None:
    """Watch `queue` and pull the slave maps its messages name, until Ctrl-C or --idle-exit."""
    from s32s.cli.maps import load_mapset
    from s32s.cli.sync import run_selected_maps, show_summary
    from s32s.notify.watch import QueueWatcher, WatchedMap, open_queue

    app.load_config(required=maps is None)
    client, queue_url = open_queue(queue, app.factory)

    def load_maps() -> list[WatchedMap]:
        mapset = load_mapset(app, maps, "slave")
        return [WatchedMap(pathmap.name, pathmap.s3) for pathmap in mapset.select(names)]

    watched = load_maps()  # a bad map stops us now (exit 2), not at the first message
    # A prompt would stall the loop: deletions need --yes or skip_delete_alert.
    pull_app = replace(app, stdin_isatty=False)

    def pull(selected: list[str] | tuple[str, ...]) -> dict[str, bool]:
        config, reports = run_selected_maps(
            pull_app, "slave", tuple(selected), maps, kwargs, backup_dir
        )
        show_summary(pull_app, config, reports)
        return {report.name: report.exit_code == ExitCode.OK for report in reports}

    app.info(f"Watching {queue} for changes to {_describe_maps(watched)} (Ctrl-C to stop).")
    stats = QueueWatcher(client, queue_url, load_maps, pull, options).run()
    if app.json_output:
        app.emit_json({"queue": queue_url, **stats.to_dict()})
    else:
        app.info(
            f"Stopped watching: {stats.received} message(s), {stats.pulls} pull(s) "
            f"({stats.failed_pulls} failed), {stats.unrelated} unrelated."
        )


def _describe_maps(watched: list[WatchedMap]) -> str:
    shown = ", ".join(f"{item.name} ({item.s3})" for item in watched[:5])
    more = f" and {len(watched) - 5} more" if len(watched) > 5 else ""
    return f"{len(watched)} map(s): {shown}{more}" if watched else "no map"
