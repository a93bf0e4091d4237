"""A per-destination lock, so two runs cannot write to one destination at once.

The lock is an OS lock on a small file in the state folder (fcntl on POSIX,
msvcrt on Windows): the operating system releases it when the process ends,
so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from s32s.errors import SafeguardRefused
from s32s.sync.state import location_id, state_dir


def _try_lock(descriptor: int) -> bool:
    try:
        if os.name == "nt":
            import msvcrt

            msvcrt.locking(descriptor, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(descriptor: int) -> None:
    with contextlib.suppress(OSError):
        if os.name == "nt":
            import msvcrt

            os.lseek(descriptor, 0, os.SEEK_SET)
            msvcrt.locking(descriptor, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(descriptor, fcntl.LOCK_UN)


@contextlib.contextmanager
def destination_lock(identity: str, label: str) -> Iterator[Path]:
    """Hold the lock of destination `identity` (shown to users as `label`)."""
    folder = state_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{location_id(identity)}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if not _try_lock(descriptor):
            holder = ""
            with contextlib.suppress(OSError):
                holder = Path(path).read_text(encoding="utf-8").strip()
            raise SafeguardRefused(
                f"Another s32s run is already writing to {label}{f' ({holder})' if holder else ''}.",
                "Wait for it to finish; runs on one destination never overlap.",
            )
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, f"pid {os.getpid()}".encode())
        try:
            yield path
        finally:
            _unlock(descriptor)
    finally:
        os.close(descriptor)
