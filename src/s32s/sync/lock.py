"""A per-destination lock, so two runs cannot write to one destination at once.

The lock is an OS lock (flock on POSIX, LockFileEx on Windows, through the
filelock library) on a small file in the state folder: the operating system
releases it when the process ends, so a crashed run never leaves a stale lock
behind. The holder writes who it is beside the lock, so a refused run can name it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from s32s.atomicfile import write_atomically
from s32s.errors import SafeguardRefused
from s32s.sync.state import location_id, state_dir


@contextlib.contextmanager
def destination_lock(identity: str, label: str) -> Iterator[Path]:
    """Hold the lock of destination `identity` (shown to users as `label`).

    A second holder, in this process or another, is refused at once
    (SafeguardRefused, exit 3) with the first one's pid and host when known.
    """
    folder = state_dir() / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{location_id(identity)}.lock"
    holder_file = path.with_suffix(".holder")
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = ""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            holder = holder_file.read_text(encoding="utf-8").strip()
        raise SafeguardRefused(
            f"Another s32s run is already writing to {label}{f' ({holder})' if holder else ''}.",
            "Wait for it to finish; runs on one destination never overlap.",
        ) from None
    try:
        with contextlib.suppress(OSError):
            write_atomically(
                holder_file, f"pid {os.getpid()} on {socket.gethostname()}", durable=False
            )
        yield path
    finally:
        lock.release()
