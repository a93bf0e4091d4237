"""`s32s produce`: write a stream of JPEGs into a watched folder and/or an S3 prefix."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, pass_app
from s32s.errors import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from s32s.images.producer import ProducedImage, Producer, ProducerRun
    from s32s.paths import S3Url


class SizeType(click.ParamType):
    """WIDTHxHEIGHT in pixels."""

    name = "WxH"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[int, int]:
        if isinstance(value, tuple):
            return value
        from s32s.images.producer import parse_size

        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class StartType(click.ParamType):
    """`auto` or a number >= 0."""

    name = "auto|N"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | None:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip().lower()
        if text == "auto":
            return None
        if text.isdigit():
            return int(text)
        self.fail(f"{value!r} is neither `auto` nor a whole number >= 0.", param, ctx)


class PrefixType(click.ParamType):
    name = "TEXT"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        from s32s.images.producer import check_prefix

        try:
            return check_prefix(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class S3UrlType(click.ParamType):
    name = "s3://BUCKET/PREFIX"

    def convert(self, value: Any, param: Any, ctx: Any) -> S3Url:
        from s32s.errors import ConfigError
        from s32s.paths import is_s3_url, parse_s3_url

        if not is_s3_url(str(value)):
            self.fail(f"{value!r} is not an S3 URL; write it as s3://bucket/prefix.", param, ctx)
        try:
            return parse_s3_url(str(value), what="--to")
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


@click.command("produce")
@click.option(
    "--root",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    help="Folder to write the images into; created if missing. "
    "Optional with --to: leave it out to upload only, give it to keep a local copy too.",
)
@click.option(
    "--to",
    "target",
    type=S3UrlType(),
    metavar="s3://BUCKET/PREFIX",
    help="Upload each image to this S3 prefix, instead of or as well as --root "
    "(honours --endpoint-url, --profile, --region).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    help="Seconds to wait between two images (0: as fast as possible).",
)
@click.option(
    "--count",
    type=click.IntRange(min=1),
    help="Stop after this many images [default: run until Ctrl-C].",
)
@click.option(
    "--start",
    type=StartType(),
    metavar="auto|N",
    default="auto",
    show_default=True,
    help="First image number; `auto` continues after the highest existing one. "
    "A number that would overwrite an existing image is refused.",
)
@click.option(
    "--prefix",
    type=PrefixType(),
    default="img_",
    show_default=True,
    help="File name prefix: images are named PREFIX00000.jpg, PREFIX00001.jpg, ...",
)
@click.option(
    "--size",
    type=SizeType(),
    metavar="WxH",
    default="640x480",
    show_default=True,
    help="Image size in pixels, WIDTHxHEIGHT (each side 32 to 8192).",
)
@click.option(
    "--quality",
    type=click.IntRange(1, 100),
    default=85,
    show_default=True,
    help="JPEG quality, 1 (smallest) to 100 (largest); above 95 mostly adds bytes.",
)
@pass_app
def produce_command(
    app: App,
    root: Path | None,
    target: S3Url | None,
    interval: float,
    count: int | None,
    start: int | None,
    prefix: str,
    size: tuple[int, int],
    quality: int,
) -> None:
    """Write distinct JPEGs, one every INTERVAL seconds, for a watcher to pick up.

    Each image shows its number and the UTC time. Files appear complete under
    their final name (written to a hidden .tmp name, then renamed), so
    DataSync, an SMB reader or `s32s master push` never sees half an image.
    Numbering continues after the highest existing PREFIXNNNNN.jpg in the
    folder and under the S3 prefix.

    Ctrl-C stops cleanly after the image in progress (exit 130); press it
    twice to stop at once. Exit 1 if some images could not be written or
    uploaded.

    \b
    Examples:
      s32s produce --root /srv/share/cams --interval 2
      s32s produce --to s3://bucket/cams --count 100 --interval 0
      s32s produce --root ./out --to s3://bucket/cams --size 1920x1080
    """
    from s32s.images.producer import Producer, ProducerSettings

    if root is None and target is None:
        raise click.UsageError("Give --root DIR, --to s3://bucket/prefix, or both.")
    settings = ProducerSettings(
        root=root.expanduser().absolute() if root is not None else None,
        target=target,
        prefix=prefix,
        count=count,
        interval=interval,
        start=start,
        size=size,
        quality=quality,
    )
    s3 = app.factory.s3() if target is not None else None
    producer = Producer(settings, s3=s3)
    first = producer.prepare()
    with _stop_on_ctrl_c(producer.stop):
        run = _run_with_display(app, producer, first)
    _finish(app, producer, run)


@contextlib.contextmanager
def _stop_on_ctrl_c(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C sets `stop` (finish the current image); a second one interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_with_display(app: App, producer: Producer, first: int) -> ProducerRun:
    settings = producer.settings
    where = " and ".join(str(p) for p in (settings.root, settings.target) if p is not None)
    from rich.markup import escape

    app.info(f"Producing images from number {first} into {escape(where)}; Ctrl-C to stop.")
    if app.quiet or app.json_output:
        return producer.run(_warn_failures(app))
    if _console().is_terminal:
        return _run_live(app, producer)
    return producer.run(_status_line(app, settings.target))


def _status_line(app: App, target: S3Url | None) -> Callable[[ProducedImage], None]:
    """One plain line per image, for logs and cron."""
    from rich.markup import escape

    def report(image: ProducedImage) -> None:
        if image.error:
            app.warn(f"{image.name}: {image.error}")
            return
        places = escape(_places(image, target))
        _line(app, f"{image.name}  {_stamp(image)}  {_size(image)}  {places}")

    return report


def _warn_failures(app: App) -> Callable[[ProducedImage], None]:
    def report(image: ProducedImage) -> None:
        if image.error and not app.json_output:
            app.warn(f"{image.name}: {image.error}")

    return report


def _run_live(app: App, producer: Producer) -> ProducerRun:
    """A progress display on the terminal: count, elapsed time and the last image."""
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = [SpinnerColumn(), TextColumn("[bold]{task.description}")]
    if producer.settings.count is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    else:
        columns.append(TextColumn("{task.completed} images"))
    columns += [TimeElapsedColumn(), TextColumn("{task.fields[last]}")]
    with Progress(*columns, console=_console()) as progress:
        task = progress.add_task("Producing", total=producer.settings.count, last="")

        def report(image: ProducedImage) -> None:
            if image.error:
                message = escape(f"{image.name}: {image.error}")
                progress.console.print(f"[yellow]Warning:[/] {message}", highlight=False)
            progress.update(task, advance=1, last=f"{image.name} {_stamp(image)} {_size(image)}")

        run = producer.run(report)
        if run.stopped:
            progress.update(task, description="Stopped")
        return run


def _finish(app: App, producer: Producer, run: ProducerRun) -> None:
    """Summary or JSON document, then the exit code: 130 if stopped, 1 if some failed."""
    settings = producer.settings
    made = len(run.images) - len(run.failed)
    if app.json_output:
        bucket = settings.target.bucket if settings.target else None
        app.emit_json(
            {
                "root": str(settings.root) if settings.root else None,
                "to": str(settings.target) if settings.target else None,
                "produced": made,
                "failed": len(run.failed),
                "interrupted": run.stopped,
                "images": [image.to_dict(bucket) for image in run.images],
            }
        )
    else:
        ending = " (stopped by Ctrl-C)" if run.stopped else ""
        failed = f", {len(run.failed)} failed" if run.failed else ""
        app.info(f"Produced {made} image{'s' if made != 1 else ''}{failed}{ending}.")
    ctx = click.get_current_context()
    if run.stopped:
        ctx.exit(ExitCode.INTERRUPTED)
    if run.failed:
        ctx.exit(ExitCode.PARTIAL_FAILURE)


def _console() -> Console:
    """The stderr console; the live display is drawn only when it is a terminal."""
    from s32s.cli.output import error_console

    return error_console()


def _line(app: App, message: str) -> None:
    """Like `app.info`, but never wrapped: one image, one line, whatever the width."""
    if not (app.quiet or app.json_output):
        _console().print(message, highlight=False, soft_wrap=True)


def _stamp(image: ProducedImage) -> str:
    return image.timestamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(image: ProducedImage) -> str:
    from s32s.cli.output import human_bytes

    return human_bytes(image.size)


def _places(image: ProducedImage, target: S3Url | None) -> str:
    places = [str(image.path)] if image.path else []
    if image.key and target is not None:
        places.append(f"s3://{target.bucket}/{image.key}")
    return ", ".join(places)
