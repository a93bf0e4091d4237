"""Writing a local file so that readers see the old content or the new, never a part of it.

Every local write of s32s goes through `atomic_writer`: the bytes go to a
hidden temporary file beside the target (same folder, so the same file
system), which is flushed (and, when `durable`, fsynced) once, after the last
byte and before the rename, then renamed over the target. On any failure,
Ctrl-C included, the temporary file is removed. Files holding secrets are
created 0600 from the start; others follow the umask like any new file.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

TEMP_SUFFIX = ".s32s-tmp"  # every temporary file s32s leaves ends so; listings skip them

_numbers = itertools.count()


def temporary_name(final_name: str) -> str:
    """A hidden name, unique in this process and across processes, for a file on its way to `final_name`."""
    return f".{final_name}.{os.getpid()}-{next(_numbers)}-{os.urandom(2).hex()}{TEMP_SUFFIX}"


def _create_temporary(path: Path, *, private: bool) -> tuple[Path, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = path.with_name(temporary_name(path.name))
        try:
            return temporary, os.open(temporary, flags, 0o600 if private else 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {path}")


def replace_file(source: Path, target: Path, attempts: int = 10) -> None:
    """`os.replace`, retried briefly on Windows, where a reader holding the target blocks it."""
    for attempt in range(attempts):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if sys.platform != "win32" or attempt == attempts - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


@contextlib.contextmanager
def atomic_writer(
    path: Path,
    *,
    private: bool = False,
    durable: bool = True,
    before_rename: Callable[[Path], None] | None = None,
) -> Iterator[BinaryIO]:
    """A binary file handle whose content replaces `path` only when the block ends without error.

    `private`: the file is created 0600 (secrets). `durable`: it is fsynced
    before the rename, so a crash cannot leave an empty file under the name
    (the sync engine skips this for new files, which a later run copies
    again). `before_rename(temporary)` runs on the closed, whole temporary
    file just before the rename (to set its mtime, back up the old file...).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary, descriptor = _create_temporary(path, private=private)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if before_rename is not None:
            before_rename(temporary)
        replace_file(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def write_atomically(
    path: Path, data: bytes | str, *, private: bool = False, durable: bool = True
) -> None:
    """Replace `path` with `data` (text is written as UTF-8 with `\\n` line ends) in one rename."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_writer(path, private=private, durable=durable) as handle:
        handle.write(data)


def probe_writable(folder: Path) -> None:
    """Create and remove a file in `folder`: OSError when it cannot take files.

    (os.access is unreliable with Windows ACLs and network shares: this tries for real.)
    """
    probe, descriptor = _create_temporary(folder / ".s32s-probe", private=True)
    os.close(descriptor)
    probe.unlink()
