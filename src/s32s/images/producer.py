"""The image producer: a steady stream of distinct JPEGs for a watched folder or an S3 prefix.

It stands in for the cameras or scanners at the on-premises end of the
pipeline: a folder that DataSync (or an SMB reader, or `s32s master push`)
watches fills with `img_00000.jpg`, `img_00001.jpg`, … and, with an S3
destination, the same images are uploaded as they are made.

Rules a watcher can rely on:

- A file only ever appears under its final name complete. Each image is
  written to a hidden temporary name in the same folder (`.img_00007.jpg.<pid>-<n>-<random>.s32s-tmp`)
  and renamed into place with `os.replace`, which is atomic on one file system.
- Numbers are never reused by default: with `start=None` numbering continues
  after the highest `<prefix>NNNNN.jpg` already in the folder and under the
  S3 prefix. An explicit start that would overwrite an existing image is refused.
- A stop request (Ctrl-C in the CLI) is honoured between images: the image
  being made is finished, written and uploaded, then the run ends.

The library never prints; it reports each image through a callback. The clock
and the pause between images are injectable so tests run instantly.
"""

from __future__ import annotations

import colorsys
import io
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from s32s.atomicfile import probe_writable, write_atomically
from s32s.aws.clients import error_code
from s32s.errors import AwsError, ConfigError
from s32s.paths import S3Url

log = logging.getLogger(__name__)

DEFAULT_PREFIX = "img_"
DEFAULT_SIZE = (640, 480)
DEFAULT_QUALITY = 85
MIN_SIDE, MAX_SIDE = 32, 8192
DIGITS = 5
EXTENSION = ".jpg"
_SIZE = re.compile(r"^\s*(\d+)\s*[xX×]\s*(\d+)\s*$")
_FORBIDDEN_IN_PREFIX = set('/\\:*?"<>|')


# --- names and numbers --------------------------------------------------------


def parse_size(text: str) -> tuple[int, int]:
    """`640x480` -> (640, 480); each side between MIN_SIDE and MAX_SIDE pixels."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not WIDTHxHEIGHT, for example 640x480.")
    width, height = int(match.group(1)), int(match.group(2))
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(
                f"{text!r}: each side must be between {MIN_SIDE} and {MAX_SIDE} pixels."
            )
    return width, height


def check_prefix(prefix: str) -> str:
    """A prefix is part of a file name: no separators, no leading dot (that is for temporary files)."""
    bad = sorted(_FORBIDDEN_IN_PREFIX.intersection(prefix))
    if bad:
        raise ValueError(f"{prefix!r} contains {''.join(bad)!r}; use letters, digits, - or _.")
    if prefix.startswith("."):
        raise ValueError(f"{prefix!r} starts with a dot, which is kept for temporary files.")
    if any(ord(char) < 32 for char in prefix):
        raise ValueError(f"{prefix!r} contains control characters.")
    return prefix


def image_name(prefix: str, index: int) -> str:
    """`img_00042.jpg`; numbers past 99999 simply grow a digit."""
    return f"{prefix}{index:0{DIGITS}d}{EXTENSION}"


def _name_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + r"(\d+)" + re.escape(EXTENSION) + "$")


def indices_in_names(names: Iterable[str], prefix: str) -> set[int]:
    """The image numbers among `names` (other files are ignored)."""
    pattern = _name_pattern(prefix)
    found: set[int] = set()
    for name in names:
        match = pattern.match(name)
        if match:
            found.add(int(match.group(1)))
    return found


def local_indices(root: Path, prefix: str) -> set[int]:
    """Numbers of the `<prefix>NNNNN.jpg` files directly in `root` (none if it is missing)."""
    if not root.is_dir():
        return set()
    return indices_in_names((entry.name for entry in root.iterdir() if entry.is_file()), prefix)


def s3_indices(client: Any, target: S3Url, prefix: str) -> set[int]:
    """Numbers of the `<prefix>NNNNN.jpg` objects directly under the S3 prefix."""
    key_prefix = target.key_prefix()
    paginator = client.get_paginator("list_objects_v2")
    names: list[str] = []
    for page in paginator.paginate(Bucket=target.bucket, Prefix=key_prefix + prefix):
        names.extend(item["Key"][len(key_prefix) :] for item in page.get("Contents", []))
    return indices_in_names((name for name in names if "/" not in name), prefix)


def first_index(existing: set[int], start: int | None, count: int | None, where: str) -> int:
    """Where numbering begins: after the highest existing number, or `start` if it overwrites nothing.

    With an explicit `start` and no `count` every number from `start` on may be
    used, so any existing number at or above it is a conflict.
    """
    if start is None:
        return max(existing) + 1 if existing else 0
    if count is None:
        clashes = sorted(n for n in existing if n >= start)
    else:
        clashes = sorted(n for n in existing if start <= n < start + count)
    if clashes:
        raise ConfigError(
            f"--start {start} would overwrite existing images in {where} (first: number {clashes[0]}).",
            "Use --start auto to continue after the highest number, or choose a higher --start.",
        )
    return start


# --- drawing -------------------------------------------------------------------


def _colour(index: int, lightness: float, saturation: float) -> tuple[int, int, int]:
    """A colour whose hue walks the circle by the golden ratio: neighbours always differ."""
    hue = (index * 0.618033988749895) % 1.0
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, saturation)
    return round(red * 255), round(green * 255), round(blue * 255)


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType: fixed bitmap font
        return ImageFont.load_default()


def render_jpeg(
    index: int, when: datetime, size: tuple[int, int] = DEFAULT_SIZE, quality: int = DEFAULT_QUALITY
) -> bytes:
    """One JPEG with the image number and the UTC time drawn on it.

    Background colour, gradient and band position depend on the number, so
    consecutive images differ in content, not only in their caption.
    """
    from PIL import Image, ImageDraw

    width, height = size
    base = Image.new("RGB", size, _colour(index, 0.45, 0.55))
    shade = Image.linear_gradient("L").rotate(index * 37 % 360).resize(size)
    image = Image.composite(base, Image.new("RGB", size, _colour(index + 3, 0.2, 0.4)), shade)
    draw = ImageDraw.Draw(image)
    band_top = (index * 53) % max(height - height // 4, 1)
    draw.rectangle((0, band_top, width, band_top + height // 8), fill=_colour(index + 1, 0.7, 0.6))
    stamp = when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"
    big, small = _font(max(height // 6, 10)), _font(max(height // 16, 8))
    _caption(draw, (width // 20, height // 3), f"#{index:0{DIGITS}d}", big)
    _caption(draw, (width // 20, height // 3 + height // 5), stamp, small)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _caption(draw: Any, xy: tuple[int, int], text: str, font: Any) -> None:
    """White text with a dark outline, readable on any background."""
    draw.text(xy, text, fill=(255, 255, 255), font=font, stroke_width=2, stroke_fill=(0, 0, 0))


# --- writing -------------------------------------------------------------------


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that no reader ever sees a partial file under that name.

    The image is flushed to disk before the rename (see `s32s.atomicfile`):
    a watcher may pick it up and delete the source at once.
    """
    write_atomically(path, data)


def prepare_root(root: Path) -> Path:
    """Create `root` if needed and prove it accepts files; ConfigError (exit 2) otherwise."""
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"--root {root} is a file, not a folder.",
            "Give a folder, or a path that does not exist yet.",
        )
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"Cannot create the folder {root}: {exc.strerror or exc}.",
            "Check the path and its parent folders' permissions.",
        ) from None
    try:
        probe_writable(root)
    except OSError as exc:
        raise ConfigError(
            f"Cannot write in {root}: {exc.strerror or exc}.",
            "Check the folder's permissions, or choose another --root.",
        ) from None
    return root


def _check_bucket(client: Any, bucket: str) -> None:
    """HEAD the bucket; its 404 has no body, so name the bucket here rather than say "Not found"."""
    import botocore.exceptions

    try:
        client.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket"):
            raise AwsError(
                f"The bucket {bucket!r} does not exist at this endpoint.",
                "Check the bucket in --to (and --endpoint-url or --region), or create the bucket.",
            ) from None
        raise


# --- the run -------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ProducerSettings:
    """What to produce and where. At least one of `root` and `target` is set."""

    root: Path | None = None
    target: S3Url | None = None
    prefix: str = DEFAULT_PREFIX
    count: int | None = None  # None: until stopped
    interval: float = 5.0  # seconds between two images
    start: int | None = None  # None: after the highest existing number
    size: tuple[int, int] = DEFAULT_SIZE
    quality: int = DEFAULT_QUALITY

    def __post_init__(self) -> None:
        if self.root is None and self.target is None:
            raise ConfigError(
                "Nowhere to put the images.", "Give --root DIR, --to s3://bucket/prefix, or both."
            )
        check_prefix(self.prefix)

    def key_for(self, name: str) -> str | None:
        return None if self.target is None else self.target.key_prefix() + name


@dataclass(frozen=True)
class ProducedImage:
    """One image made by a run; `error` is set when writing or uploading it failed."""

    index: int
    name: str
    timestamp: datetime
    size: int
    path: Path | None = None
    key: str | None = None
    error: str | None = None

    def to_dict(self, bucket: str | None = None) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "bytes": self.size,
            "path": str(self.path) if self.path else None,
            "s3": f"s3://{bucket}/{self.key}" if bucket and self.key else None,
            "error": self.error,
        }


@dataclass
class ProducerRun:
    """The outcome of `Producer.run()`."""

    images: list[ProducedImage] = field(default_factory=list)
    stopped: bool = False  # ended by a stop request rather than by count

    @property
    def failed(self) -> list[ProducedImage]:
        return [image for image in self.images if image.error]


class Producer:
    """Makes images one after another until `count` is reached or `stop` is set.

    `clock` gives the time drawn on each image (UTC). `sleep(seconds)` is the
    pause between images; the default waits on `stop`, so a stop request cuts
    the pause short. `s3` is a boto3 S3 client, needed only with a target.
    """

    def __init__(
        self,
        settings: ProducerSettings,
        *,
        s3: Any = None,
        stop: threading.Event | None = None,
        clock: Callable[[], datetime] = utc_now,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        if settings.target is not None and s3 is None:
            raise ValueError("an S3 client is needed to upload to a target")
        self.settings = settings
        self.s3 = s3
        self.stop = stop or threading.Event()
        self.clock = clock
        self.sleep = sleep or self.stop.wait
        self._next: int | None = None

    def prepare(self) -> int:
        """Check the folder and the bucket, find the first number; errors are ConfigError/AwsError."""
        settings = self.settings
        existing: set[int] = set()
        places: list[str] = []
        if settings.root is not None:
            prepare_root(settings.root)
            existing |= local_indices(settings.root, settings.prefix)
            places.append(str(settings.root))
        if settings.target is not None:
            from s32s.aws.clients import aws_errors

            with aws_errors(bucket=settings.target.bucket):
                _check_bucket(self.s3, settings.target.bucket)
                existing |= s3_indices(self.s3, settings.target, settings.prefix)
            places.append(str(settings.target))
        self._next = first_index(existing, settings.start, settings.count, " and ".join(places))
        return self._next

    def run(self, on_image: Callable[[ProducedImage], object] | None = None) -> ProducerRun:
        """Produce images, calling `on_image` after each one; returns what was made."""
        if self._next is None:
            self.prepare()
        result = ProducerRun()
        for image in self._images():
            result.images.append(image)
            if on_image is not None:
                on_image(image)
        result.stopped = self.stop.is_set()
        return result

    def _images(self) -> Iterator[ProducedImage]:
        count = self.settings.count
        made = 0
        while not self.stop.is_set() and (count is None or made < count):
            index = self._claim_number()
            yield self.produce_one(index)
            made += 1
            if (count is None or made < count) and not self.stop.is_set():
                self.sleep(self.settings.interval)

    def _claim_number(self) -> int:
        assert self._next is not None
        index = self._next
        self._next += 1
        return index

    def produce_one(self, index: int) -> ProducedImage:
        """Render image `index`, write it under the root and upload it to the target."""
        settings = self.settings
        when = self.clock()
        data = render_jpeg(index, when, settings.size, settings.quality)
        name = image_name(settings.prefix, index)
        path = settings.root / name if settings.root is not None else None
        key = settings.key_for(name)
        errors: list[str] = []
        if path is not None:
            try:
                write_atomic(path, data)
            except OSError as exc:
                errors.append(f"cannot write {path}: {exc.strerror or exc}")
                path = None
        if key is not None:
            error = self._upload(key, data)
            if error:
                errors.append(error)
                key = None
        log.debug("image %s: %d bytes, errors=%s", name, len(data), errors)
        return ProducedImage(index, name, when, len(data), path, key, "; ".join(errors) or None)

    def _upload(self, key: str, data: bytes) -> str | None:
        """Put one object; a failure (after botocore's retries) is returned, not raised."""
        from s32s.aws.clients import describe_client_error

        assert self.settings.target is not None
        bucket = self.settings.target.bucket
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=data, ContentType="image/jpeg")
        except Exception as exc:
            import botocore.exceptions

            if not isinstance(
                exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError
            ):
                raise
            return f"cannot upload s3://{bucket}/{key}: {describe_client_error(exc, bucket=bucket)}"
        return None
