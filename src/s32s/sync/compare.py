"""When does a file move? One function, rules in a fixed order (after rclone's NeedTransfer).

1. missing at the destination → copy
2. size differs → copy
3. both sides carry comparable content hashes (S3 ETags, or a local file's
   hash computed for --checksum or for an object whose mtime is not known):
   they differ → copy, they are equal → skip
4. both modification times known: differ by more than the modify window → copy
5. the destination's mtime is not recorded (objects written by other tools):
   copy when the source is newer than the destination's upload/modification time,
   compared at the coarser resolution of the two (S3 gives LastModified in
   milliseconds in listings and in whole seconds in HEAD and GET answers; a
   file is not newer by a fraction of a second the other side cannot hold)
6. otherwise skip
"""

from __future__ import annotations

from dataclasses import dataclass

from s32s.sync.entries import Entry

MODIFY_WINDOW_NS = 1_000  # 1 µs: NTFS keeps 100 ns, ext4 keeps 1 ns
NEW = "new"  # the reason given for a file the destination lacks


@dataclass(frozen=True)
class CompareOptions:
    checksum: bool = False
    mode: str = "mtime"  # "mtime" for push/pull/sync, "etag" for S3 → S3 transfers
    modify_window_ns: int = MODIFY_WINDOW_NS


def etags_comparable(a: str | None, b: str | None) -> bool:
    """Two ETags say something about content only when both are MD5s of the same kind."""
    if not a or not b:
        return False
    return a.count("-") == b.count("-") and (("-" not in a) or a.split("-")[1] == b.split("-")[1])


def _moment(entry: Entry) -> int | None:
    return entry.mtime_ns if entry.mtime_ns is not None else entry.modified_ns


_RESOLUTIONS_NS = (1_000_000_000, 1_000_000, 1_000, 1)


def resolution_ns(moment_ns: int) -> int:
    """The coarsest of s, ms, µs, ns that `moment_ns` is a whole multiple of."""
    return next(step for step in _RESOLUTIONS_NS if moment_ns % step == 0)


def is_newer(source_ns: int, dest_ns: int) -> bool:
    """`source_ns` is later than `dest_ns` at the coarser resolution of the two."""
    step = max(resolution_ns(source_ns), resolution_ns(dest_ns))
    return source_ns // step > dest_ns // step


def copy_reason(source: Entry, dest: Entry | None, options: CompareOptions) -> str | None:
    """Why `source` must be copied over `dest`, or None when it is up to date."""
    if dest is None:
        return NEW
    if dest.is_dir:
        return "a folder stands at the destination"
    if source.size != dest.size:
        return "size differs"
    if etags_comparable(source.etag, dest.etag):
        return None if source.etag == dest.etag else "content differs"
    if source.mtime_ns is not None and dest.mtime_ns is not None:
        if abs(source.mtime_ns - dest.mtime_ns) > options.modify_window_ns:
            return "modification time changed"
        return None
    source_moment, dest_moment = _moment(source), _moment(dest)
    if (
        source_moment is not None
        and dest_moment is not None
        and is_newer(source_moment, dest_moment)
    ):
        return "newer at the source"
    return None
