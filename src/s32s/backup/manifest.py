"""A snapshot's manifest, `s32s-snapshot.json`: the last object a backup writes.

Its presence is what makes a snapshot complete; its `files` say what the
snapshot holds (`{key: {size, mtime, etag}}`, keys relative to the snapshot
folder, `mtime` in rclone's `seconds.nanoseconds` form or null, `etag` the
snapshot object's ETag without quotes), so `check` can prove the snapshot
whole and the next `create` can tell which files are unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from s32s.errors import S32SError
from s32s.sync.entries import Entry, format_mtime, parse_mtime

MANIFEST_NAME = "s32s-snapshot.json"
MANIFEST_VERSION = 1


class ManifestError(S32SError):
    """A manifest that cannot be read: the snapshot is damaged (exit 2)."""


@dataclass(frozen=True)
class FileRecord:
    size: int
    mtime_ns: int | None
    etag: str | None

    def entry(self, key: str) -> Entry:
        """The record as a listing entry, so the engine's comparison can judge it."""
        return Entry(key, size=self.size, mtime_ns=self.mtime_ns, etag=self.etag, mtime_known=True)


@dataclass
class Manifest:
    source: str
    host: str
    started: str  # ISO 8601, UTC
    ended: str
    files: dict[str, FileRecord] = field(default_factory=dict)
    version: int = MANIFEST_VERSION

    @property
    def total_bytes(self) -> int:
        return sum(record.size for record in self.files.values())

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "version": self.version,
            "source": self.source,
            "host": self.host,
            "started": self.started,
            "ended": self.ended,
            "files": {
                key: {
                    "size": record.size,
                    "mtime": None if record.mtime_ns is None else format_mtime(record.mtime_ns),
                    "etag": record.etag,
                }
                for key, record in sorted(self.files.items())
            },
        }
        return json.dumps(document, indent=1, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes, where: str) -> Manifest:
        """Parse a manifest; anything malformed raises ManifestError naming `where` and the key."""
        try:
            document = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _damaged(where, f"it is not valid JSON ({exc})") from None
        if not isinstance(document, dict):
            raise _damaged(where, "it is not a JSON object")
        version = document.get("version")
        if version != MANIFEST_VERSION:
            raise _damaged(where, f"`version` is {version!r}; this s32s reads version 1")
        texts = {}
        for key in ("source", "host", "started", "ended"):
            value = document.get(key)
            if not isinstance(value, str):
                raise _damaged(where, f"`{key}` is missing or not a string")
            texts[key] = value
        files = document.get("files")
        if not isinstance(files, dict):
            raise _damaged(where, "`files` is missing or not an object")
        return cls(**texts, files={key: _record(key, value, where) for key, value in files.items()})


def _record(key: str, value: Any, where: str) -> FileRecord:
    if not isinstance(value, dict):
        raise _damaged(where, f"the entry of {key!r} is not an object")
    size = value.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise _damaged(where, f"the `size` of {key!r} is not a whole number")
    etag = value.get("etag")
    if etag is not None and not isinstance(etag, str):
        raise _damaged(where, f"the `etag` of {key!r} is not a string")
    mtime = value.get("mtime")
    mtime_ns = parse_mtime(mtime) if isinstance(mtime, str) else None
    if mtime is not None and mtime_ns is None:
        raise _damaged(where, f"the `mtime` of {key!r} is not `seconds.nanoseconds`")
    if not key or key.startswith("/") or key.endswith("/"):
        raise _damaged(where, f"the key {key!r} is not a relative file path")
    return FileRecord(size, mtime_ns, etag)


def _damaged(where: str, problem: str) -> ManifestError:
    return ManifestError(
        f"The manifest {where} is damaged: {problem}.",
        "That snapshot cannot be trusted: restore another one by name (`s32s backup list` "
        "shows them); prune never removes it, so inspect it and delete its folder by hand.",
    )
