"""What s32s remembers between runs, so a no-op run costs only LIST requests.

S3 listings give size, ETag and upload time, but not the file's modification
time, which s32s (like rclone) keeps in the object's `mtime` metadata and
which only a HEAD or GET returns. `MetadataCache` remembers, per S3 location,
the mtime seen for each (key, ETag, size): while an object's ETag and size are
unchanged its metadata is too, so the recorded mtime can be trusted without
asking again. A lost or stale cache only costs HEAD requests, never a wrong
decision.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from s32s.atomicfile import write_atomically

NO_MTIME = -(2**62)  # recorded for objects whose metadata holds no mtime


def state_dir() -> Path:
    """$S32S_STATE_DIR, else %LOCALAPPDATA%/s32s, else $XDG_STATE_HOME/s32s or ~/.local/state/s32s."""
    if os.environ.get("S32S_STATE_DIR"):
        return Path(os.environ["S32S_STATE_DIR"])
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "s32s"
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "s32s"


def location_id(*parts: str | None) -> str:
    return hashlib.sha256("|".join(p or "" for p in parts).encode()).hexdigest()[:32]


class MetadataCache:
    """key → (etag, size, mtime_ns) for one S3 location, saved as JSON."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._items: dict[str, tuple[str, int, int]] = {}
        self._dirty = False
        self._folder_markers: bool | None = None  # None: not known yet
        if path is not None:
            self._load(path)

    @classmethod
    def for_location(cls, endpoint: str | None, bucket: str, prefix: str) -> MetadataCache:
        return cls(state_dir() / "metadata" / f"{location_id(endpoint, bucket, prefix)}.json")

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            self._items = {k: (str(v[0]), int(v[1]), int(v[2])) for k, v in data["items"].items()}
            markers = data.get("folder_markers")
            self._folder_markers = markers if isinstance(markers, bool) else None
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            self._items = {}  # a missing or damaged cache only costs HEAD requests

    def lookup(self, key: str, etag: str | None, size: int) -> tuple[bool, int | None]:
        """(known, mtime_ns): known is False when the metadata must be read again."""
        with self._lock:
            item = self._items.get(key)
        if item and etag and item[0] == etag and item[1] == size:
            return True, (None if item[2] == NO_MTIME else item[2])
        return False, None

    def recorded(self, key: str) -> tuple[str, int, int | None] | None:
        """(etag, size, mtime_ns) last recorded for `key`, or None."""
        with self._lock:
            item = self._items.get(key)
        if item is None:
            return None
        return item[0], item[1], None if item[2] == NO_MTIME else item[2]

    def record(self, key: str, etag: str | None, size: int, mtime_ns: int | None) -> None:
        """Remember the metadata of an object just read or written (None: it has no mtime)."""
        with self._lock:
            if etag:
                self._items[key] = (etag, size, NO_MTIME if mtime_ns is None else mtime_ns)
            else:
                self._items.pop(key, None)
            self._dirty = True

    @property
    def folder_markers(self) -> bool | None:
        """Whether the location's server keeps folder markers; None until a marker was written."""
        return self._folder_markers

    @folder_markers.setter
    def folder_markers(self, supported: bool) -> None:
        with self._lock:
            self._folder_markers = supported
            self._dirty = True

    def forget(self, key: str) -> None:
        with self._lock:
            if self._items.pop(key, None) is not None:
                self._dirty = True

    def save(self) -> None:
        if self.path is None or not self._dirty:
            return
        with self._lock:
            document: dict[str, object] = {"version": 1, "items": self._items}
            if self._folder_markers is not None:
                document["folder_markers"] = self._folder_markers
            text = json.dumps(document, separators=(",", ":"))
            self._dirty = False
        write_atomically(self.path, text)
