"""What every side of a sync offers: one protocol for a local folder and an S3 location.

The engine (plan, execute, job) talks to stores only through these methods.
The one place that looks at which kinds of stores it holds is the executor's
choice of copier (`execute.pick_copier`): an upload from a local file can read
parts from disk in parallel, and two S3 locations on one endpoint can copy
server-side; every other pair streams from `open_read` into `write`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from s32s.sync.entries import Entry

ProgressCallback = Callable[[int], None]


@dataclass
class Opened:
    """A readable body and what the store knows about the version being read."""

    body: BinaryIO
    mtime_ns: int | None
    etag: str | None = None
    content_type: str | None = None  # an S3 object's; carried to an S3 destination


class Store(Protocol):
    """One side of a sync: a root below which keys are `/`-separated relative paths."""

    lists_mtimes: bool
    """True when listings carry authoritative mtimes (a disk); False when they may
    need a metadata read (S3, whose listings lack the `mtime` metadata)."""
    implicit_folders: bool
    """True when a folder exists through the files below it (S3), so only empty
    folders need a marker of their own."""
    etags_are_content_md5: bool
    """True when listed ETags can be compared with a hash of the content (False
    for S3 objects written with SSE-KMS or SSE-C)."""
    skipped: list[tuple[str, str]]
    """Entries the last listing passed over, with the reason (symbolic links, ...)."""

    @property
    def identity(self) -> str:
        """A stable name for this location (for its lock)."""
        ...

    def exists(self) -> bool:
        """False when the root itself is missing (a sync source then lists as empty)."""
        ...

    def list(self) -> Iterator[Entry]: ...

    def stat(self, key: str) -> Entry | None: ...

    def open_read(self, entry: Entry) -> Opened: ...

    def write(
        self,
        key: str,
        body: BinaryIO,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        content_type: str | None = None,
    ) -> None:
        """Write `size` bytes read from `body` atomically: whole, or not at all.

        `content_type` is the source's, for stores that keep one (S3).
        """
        ...

    def delete_many(self, keys: list[str]) -> dict[str, str]:
        """Delete `keys`; returns {key: reason} for those that could not be deleted."""
        ...

    def make_folder(self, key: str) -> None: ...

    def remove_folders(self, keys: list[str]) -> int:
        """Remove these (empty) folders, deepest first as given; returns how many went."""
        ...

    def content_etag(self, entry: Entry, like: str) -> str | None:
        """The entry's content hashed the way ETag `like` was made; None when it cannot be."""
        ...

    def read_metadata(self, entry: Entry) -> Entry:
        """The entry with its authoritative mtime (one request on S3)."""
        ...

    def record_seen(self, key: str, etag: str | None, size: int, mtime_ns: int | None) -> None:
        """Remember the metadata of a version just compared, read or written."""
        ...

    def clean_leftovers(self) -> int:
        """Drop what interrupted runs kept to resume (kept downloads, unfinished uploads)."""
        ...

    def save_seen(self) -> None:
        """Persist what `record_seen` remembered, so the next run needs fewer requests."""
        ...
