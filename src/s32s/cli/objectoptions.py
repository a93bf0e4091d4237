"""The options of every command that moves data: how objects are written, bandwidth, archives.

`object_options` adds them to a click command; `parse_object_options` pops
them from the command's keyword arguments and returns what the library takes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from s32s.maps.ini import Config
    from s32s.sync.bwlimit import RateSchedule
    from s32s.sync.objectsettings import ObjectSettings

_NAMES = (
    "no_guess_mime_type",
    "storage_class",
    "sse",
    "sse_kms_key_id",
    "sse_c_key_file",
    "bwlimit",
    "skip_archived",
    "restore_archived",
)


def object_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """Add --no-guess-mime-type, --storage-class, --sse, --sse-kms-key-id, --sse-c-key-file,
    --bwlimit, --skip-archived and --restore-archived to a command."""
    options = [
        click.option(
            "--no-guess-mime-type",
            is_flag=True,
            help="Do not set Content-Type from the file name on upload (copies between buckets "
            "always keep the source's).",
        ),
        click.option(
            "--storage-class",
            metavar="CLASS",
            help="Storage class of the objects written: STANDARD, STANDARD_IA, ONEZONE_IA, "
            "INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE, … [default: the "
            "map's, else S3's STANDARD].",
        ),
        click.option(
            "--sse",
            metavar="AES256|aws:kms",
            help="Server-side encryption of the objects written [default: the map's, else the "
            "bucket's default].",
        ),
        click.option(
            "--sse-kms-key-id",
            metavar="ID",
            help="The KMS key (id, ARN or alias) for --sse aws:kms [default: the AWS managed key].",
        ),
        click.option(
            "--sse-c-key-file",
            type=click.Path(dir_okay=False),
            help="Encrypt and read objects with your own key (SSE-C): a file holding 32 bytes, "
            "or 44 base64 / 64 hex characters. Keep it mode 0600.",
        ),
        click.option(
            "--bwlimit",
            metavar="RATE|TIMETABLE",
            help="Bandwidth limit for the whole run: 10M (MiB/s), 512k, 10MB/s, off, or a "
            'timetable such as "08:00,2M 19:00,off" [default: bwlimit in s32s.ini, else none].',
        ),
        click.option(
            "--skip-archived",
            is_flag=True,
            help="Archived source objects (Glacier classes) are listed but do not make the exit "
            "code 1.",
        ),
        click.option(
            "--restore-archived",
            metavar="DAYS",
            type=click.IntRange(1, 36500),
            help="Ask S3 to restore archived source objects for DAYS days, so a later run can "
            "copy them.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@dataclass(frozen=True)
class ObjectOptions:
    """What the object options ask of a run."""

    settings: ObjectSettings
    bwlimit: RateSchedule | None
    skip_archived: bool
    restore_archived_days: int | None

    def run_fields(self) -> dict[str, Any]:
        """These options as `RunOptions` fields (the library's `s32s.runs` calls take them)."""
        return {
            "object_settings": self.settings,
            "bwlimit": self.bwlimit,
            "skip_archived": self.skip_archived,
            "restore_archived_days": self.restore_archived_days,
        }


def parse_object_options(kwargs: dict[str, Any], config: Config | None) -> ObjectOptions:
    """Pop the object options from `kwargs`; `--bwlimit` falls back to s32s.ini's `bwlimit`."""
    from s32s.sync.bwlimit import parse_bwlimit
    from s32s.sync.objectsettings import ObjectSettings

    values = {name: kwargs.pop(name, None) for name in _NAMES}
    settings = ObjectSettings.from_options(
        guess_mime_type=not values["no_guess_mime_type"],
        storage_class=values["storage_class"],
        sse=values["sse"],
        sse_kms_key_id=values["sse_kms_key_id"],
        sse_c_key_file=values["sse_c_key_file"],
    )
    if values["bwlimit"] is not None:
        bwlimit = parse_bwlimit(values["bwlimit"])
    else:
        bwlimit = config.bwlimit if config is not None else None
    return ObjectOptions(
        settings=settings,
        bwlimit=bwlimit,
        skip_archived=bool(values["skip_archived"]),
        restore_archived_days=values["restore_archived"],
    )
