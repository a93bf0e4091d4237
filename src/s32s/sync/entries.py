"""The record both sides of a sync list, and helpers for keys and mtimes."""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    key: str
    size: int = 0
    mtime_ns: int | None = None
    etag: str | None = None
    is_dir: bool = False
    modified_ns: int | None = None
    mtime_known: bool = True


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


def metadata_mtime(metadata: dict[str, str] | None) -> int | None:
    """The recorded mtime of an object's user metadata, whatever case the server gave the key
    (Go servers send `X-Amz-Meta-Mtime`, which botocore keeps as `Mtime`)."""
    for key, value in (metadata or {}).items():
        if key.lower() == MTIME_METADATA_KEY:
            return parse_mtime(value)
    return None


def parent_dirs(key: str) -> list[str]:
    """`a/b/c.txt` → [`a`, `a/b`]."""
    parts = key.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]
