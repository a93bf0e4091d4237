"""The record both sides of a sync list, and helpers for keys and mtimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

MTIME_METADATA_KEY = "mtime"  # rclone's user-metadata key: seconds since the epoch, with a fraction


@dataclass(frozen=True, slots=True)
class Entry:
    """One file or folder, by its path relative to the store's root.

    `key` uses `/` separators and never starts or ends with `/`. `mtime_ns` is
    the file's modification time: from stat() on a local disk, from the
    recorded `mtime` metadata on S3. `mtime_known` says whether `mtime_ns` is
    authoritative: an S3 entry whose metadata was never read has it False; one
    whose metadata was read and holds no mtime has it True with `mtime_ns`
    None. `etag` is S3's ETag without quotes (or a local file's computed one
    in --checksum mode). `modified_ns` is S3's LastModified (upload time).
    `storage_class` is S3's as listed (None on a disk, or when not listed).
    """

    key: str
    size: int = 0
    mtime_ns: int | None = None
    etag: str | None = None
    is_dir: bool = False
    modified_ns: int | None = None
    mtime_known: bool = True
    storage_class: str | None = None


def user_metadata(response: dict[str, Any]) -> dict[str, str]:
    """An S3 answer's user metadata with lower-case keys.

    S3 keys user metadata by lower-case name, but servers written in Go send
    canonical-case headers (`X-Amz-Meta-Mtime`), which botocore reports as
    `Mtime`: every read of metadata goes through here.
    """
    return {str(key).lower(): value for key, value in (response.get("Metadata") or {}).items()}


def recorded_mtime(response: dict[str, Any]) -> int | None:
    """The mtime recorded in an object's metadata (HEAD, GET), in any case; None when absent."""
    return parse_mtime(user_metadata(response).get(MTIME_METADATA_KEY))


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def datetime_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (a float timestamp loses the milliseconds' zeros)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def format_mtime(mtime_ns: int) -> str:
    """rclone's metadata format: `1354040105.123456789`."""
    seconds, fraction = divmod(mtime_ns, 1_000_000_000)
    return f"{seconds}.{fraction:09d}"


def parse_mtime(text: str | None) -> int | None:
    """Parse rclone's `mtime` metadata into nanoseconds; None when absent or malformed."""
    if not text:
        return None
    whole, _, fraction = text.strip().partition(".")
    if not whole.lstrip("-").isdigit() or (fraction and not fraction.isdigit()):
        return None
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return int(whole) * 1_000_000_000 + (nanos if not whole.startswith("-") else -nanos)


def parent_dirs(key: str) -> list[str]:
    """`a/b/c.txt` → [`a`, `a/b`]."""
    parts = key.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
