"""Parsing of S3 paths and of the local paths written in maps and config files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from s32s.errors import ConfigError

_DRIVE = re.compile(r"^[A-Za-z]:(/|$)")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-_]{0,254}$", re.IGNORECASE)


@dataclass(frozen=True)
class S3Url:
    """A bucket and a key prefix (without leading or trailing `/`)."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key_prefix(self) -> str:
        """The prefix as used in S3 keys: empty, or ending with `/`."""
        return f"{self.prefix}/" if self.prefix else ""

    def overlaps(self, other: S3Url) -> bool:
        """True when one location lies inside the other."""
        if self.bucket != other.bucket:
            return False
        a, b = self.key_prefix(), other.key_prefix()
        return a.startswith(b) or b.startswith(a)


def is_s3_url(text: str) -> bool:
    return text.lower().startswith("s3://")


def parse_s3_url(text: str, *, what: str = "S3 path") -> S3Url:
    """Parse `s3://bucket/prefix` or `bucket/prefix` (backslashes become `/`)."""
    raw = text.strip().replace("\\", "/")
    if is_s3_url(raw):
        raw = raw[5:]
    raw = raw.strip("/")
    bucket, _, prefix = raw.partition("/")
    if not bucket or not _BUCKET.match(bucket):
        raise ConfigError(
            f"{what} {text!r} does not name a bucket.",
            "Write it as bucket/prefix or s3://bucket/prefix.",
        )
    prefix = "/".join(part for part in prefix.split("/") if part)
    return S3Url(bucket, prefix)


def normalize_local_path(text: str) -> str:
    """Turn `\\` into `/` and drop a trailing `/` (keeping a root such as `/` or `C:/`)."""
    path = text.strip().replace("\\", "/")
    while len(path) > 1 and path.endswith("/") and not re.fullmatch(r"[A-Za-z]:/", path):
        path = path[:-1]
    return path


def is_absolute_local_path(path: str) -> bool:
    """Absolute on POSIX (`/x`), a Windows drive (`C:/x`) or a UNC share (`//host/x`).

    Judged the same way on every platform, because a map written on a Windows
    master is read by Linux slaves and the other way round.
    """
    return path.startswith("/") or bool(_DRIVE.match(path))
