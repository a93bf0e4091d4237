"""A folder on a local disk as one side of a sync."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat as stat_module
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from s32s.atomicfile import TEMP_SUFFIX, atomic_writer, replace_file
from s32s.sync.entries import Entry
from s32s.sync.parts import PartialDownload
from s32s.sync.store import Opened, ProgressCallback

CHUNK = 1024 * 1024

PARTIAL_SUFFIX = f".partial{TEMP_SUFFIX}"  # a download kept to be resumed
PARTIAL_RECORD_SUFFIX = f".partial-state{TEMP_SUFFIX}"
_DRIVE = re.compile(r"^[A-Za-z]:")


class UnsafeKeyError(ValueError):
    """An S3 key that would land outside the destination folder."""


class FileChangedError(OSError):
    """A local file changed while it was read; copying it again usually succeeds."""


def check_relative_key(key: str) -> str:
    """Refuse keys that could escape the root: `..`, absolute paths, drive letters, backslashes.

    Returns the key unchanged when it is safe. Checked for every file written
    or deleted locally, whatever produced the key.
    """
    problems = []
    if not key:
        problems.append("it is empty")
    if "\\" in key:
        problems.append("it contains a backslash")
    if key.startswith("/"):
        problems.append("it is an absolute path")
    if _DRIVE.match(key):
        problems.append("it starts with a drive letter")
    if "\0" in key:
        problems.append("it contains a NUL character")
    parts = key.split("/")
    if any(part in ("..", ".") for part in parts):
        problems.append("it has a `.` or `..` segment")
    if any(part == "" for part in parts[1:-1]) or (len(parts) > 1 and parts[0] == ""):
        problems.append("it has an empty path segment")
    if problems:
        raise UnsafeKeyError(
            f"refused: the key would not stay inside the folder ({', '.join(problems)})"
        )
    return key


class LocalStore:
    """Lists, reads, writes (atomically) and deletes files below `root`.

    Symbolic links are not followed: they are reported in `skipped` with a
    reason, and never deleted or replaced through.
    """

    lists_mtimes = True
    implicit_folders = False
    etags_are_content_md5 = True  # the hashes s32s computes from the files

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        backup_dir: Path | None = None,
        pause_after_rmdir: float = 0.0,
    ) -> None:
        self.root = Path(root)
        self.backup_dir = backup_dir
        self.pause_after_rmdir = pause_after_rmdir  # the ini's time_sleep_after_rm
        self.skipped: list[tuple[str, str]] = []
        self.partials: list[Path] = []  # kept downloads found by the last listing
        self._checked_parents: set[Path] = set()

    def __str__(self) -> str:
        return str(self.root)

    @property
    def identity(self) -> str:
        return f"local:{os.path.normcase(os.path.abspath(self.root))}"

    def exists(self) -> bool:
        return self.root.is_dir()

    def path_of(self, key: str) -> Path:
        check_relative_key(key)
        return self.root.joinpath(*key.split("/"))

    # listing ---------------------------------------------------------------
    def list(self) -> Iterator[Entry]:
        """Every file and folder below the root (files with size and mtime)."""
        self.skipped = []
        self.partials = []
        if not self.root.is_dir():
            return
        yield from self._walk(str(self.root), "")

    def _walk(self, folder: str, relative: str) -> Iterator[Entry]:
        try:
            with os.scandir(folder) as iterator:
                items = sorted(iterator, key=lambda item: item.name)
        except OSError as exc:
            self.skipped.append((relative or ".", f"cannot be listed: {exc.strerror or exc}"))
            return
        for item in items:
            key = f"{relative}{item.name}"
            if item.name.endswith(TEMP_SUFFIX):
                if item.name.endswith(PARTIAL_SUFFIX):
                    self.partials.append(Path(item.path))
                continue
            try:
                if item.is_symlink():
                    self.skipped.append((key, "symbolic link, not followed"))
                elif item.is_dir(follow_symlinks=False):
                    yield Entry(key, is_dir=True)
                    yield from self._walk(item.path, f"{key}/")
                elif item.is_file(follow_symlinks=False):
                    stat = item.stat(follow_symlinks=False)
                    yield Entry(key, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
                else:
                    self.skipped.append((key, "not a regular file"))
            except OSError as exc:
                self.skipped.append((key, f"cannot be read: {exc.strerror or exc}"))

    def stat(self, key: str) -> Entry | None:
        try:
            stat = self.path_of(key).stat()
        except OSError:
            return None
        return Entry(key, size=stat.st_size, mtime_ns=stat.st_mtime_ns)

    # reading and writing ----------------------------------------------------
    def open_read(self, entry: Entry) -> Opened:
        return Opened(open(self.path_of(entry.key), "rb"), entry.mtime_ns)

    def write(
        self,
        key: str,
        body: BinaryIO,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        content_type: str | None = None,
    ) -> None:
        """Copy `size` bytes from `body` into place atomically (see `atomic_writer`).

        A file has no Content-Type: `content_type` is ignored.
        """
        received = 0
        with self.atomic_writer(key, mtime_ns) as handle:
            while chunk := body.read(CHUNK):
                handle.write(chunk)
                received += len(chunk)
                if on_bytes:
                    on_bytes(len(chunk))
            if received != size:
                raise OSError(f"received {received} of {size} bytes")

    @contextlib.contextmanager
    def atomic_writer(self, key: str, mtime_ns: int | None) -> Iterator[BinaryIO]:
        """Write to a temporary file beside the target; rename it into place only when whole.

        A file that replaces an existing one is flushed to disk before the
        rename, so a crash cannot swap good old content for an empty file. New
        files are not (like rsync and rclone): after a crash their size or
        mtime is wrong and the next run copies them again.
        """
        target = self.path_of(key)
        self._ensure_parent(target)
        replacing = self._existing_file(target)

        def before_rename(temporary: Path) -> None:
            self._prepare_replacement(key, temporary, mtime_ns, replacing=replacing)

        with atomic_writer(target, durable=replacing, before_rename=before_rename) as handle:
            yield handle

    def _prepare_replacement(
        self, key: str, temporary: Path, mtime_ns: int | None, *, replacing: bool
    ) -> None:
        """Give a whole temporary file its mtime and back up the file it replaces."""
        if mtime_ns is not None:
            os.utime(temporary, ns=(mtime_ns, mtime_ns))
        if self.backup_dir is not None and replacing:
            self._backup(key, self.path_of(key))

    def partial_download(self, key: str) -> PartialDownload:
        """The temporary file (and its record) a large download of `key` is written to in parts.

        Unlike `atomic_writer`'s, its name is fixed, so an interrupted download
        is found and continued by the next run (one run per destination at a
        time: the destination lock sees to it).
        """
        target = self.path_of(key)
        self._ensure_parent(target)
        self._existing_file(target)
        return PartialDownload(
            target.with_name(f".{target.name}{PARTIAL_SUFFIX}"),
            target.with_name(f".{target.name}{PARTIAL_RECORD_SUFFIX}"),
        )

    def commit_partial(self, key: str, partial: PartialDownload, mtime_ns: int | None) -> None:
        """Rename a whole partial download into place (its parts are already on disk)."""
        replacing = self._existing_file(self.path_of(key))
        self._prepare_replacement(key, partial.data_path, mtime_ns, replacing=replacing)
        replace_file(partial.data_path, self.path_of(key))
        partial.discard()

    def clean_leftovers(self) -> int:
        return self.remove_stale_partials()

    def remove_stale_partials(self) -> int:
        """Remove the kept downloads the last listing found that no run continued."""
        removed = 0
        for data_path in self.partials:
            record = data_path.with_name(
                data_path.name[: -len(PARTIAL_SUFFIX)] + PARTIAL_RECORD_SUFFIX
            )
            if data_path.exists():
                PartialDownload(data_path, record).discard()
                removed += 1
        self.partials = []
        return removed

    @staticmethod
    def _existing_file(target: Path) -> bool:
        """True when `target` is a file to replace; symbolic links and folders are refused."""
        try:
            mode = target.lstat().st_mode
        except FileNotFoundError:
            return False
        if stat_module.S_ISLNK(mode) or stat_module.S_ISDIR(mode):
            raise OSError(f"{target} is a symbolic link or a folder; not replaced")
        return True

    def _ensure_parent(self, target: Path) -> None:
        parent = target.parent
        if parent in self._checked_parents:
            return
        # A folder of the key path that is a symlink could redirect the write: refuse it.
        current = self.root
        for part in parent.relative_to(self.root).parts:
            current = current / part
            if current.is_symlink():
                raise OSError(f"{current} is a symbolic link; not written through")
        parent.mkdir(parents=True, exist_ok=True)
        self._checked_parents.add(parent)

    def make_folder(self, key: str) -> None:
        path = self.path_of(key)
        self._ensure_parent(path / "x")

    # deleting ---------------------------------------------------------------
    def delete(self, key: str) -> None:
        path = self.path_of(key)
        if self.backup_dir is not None:
            self._backup(key, path)
        else:
            path.unlink(missing_ok=True)

    def delete_many(self, keys: list[str]) -> dict[str, str]:
        failures: dict[str, str] = {}
        for key in keys:
            try:
                self.delete(key)
            except (OSError, ValueError) as exc:
                from s32s.sync.execute import describe_failure

                failures[key] = describe_failure(exc)
        return failures

    def remove_folders(self, keys: list[str]) -> int:
        """Remove the empty folders among `keys`; then pause if the ini asks (slow file shares)."""
        removed = 0
        for key in keys:
            try:
                self.path_of(key).rmdir()
            except OSError:
                continue
            removed += 1
        if removed and self.pause_after_rmdir > 0:
            time.sleep(self.pause_after_rmdir)
        return removed

    # comparing --------------------------------------------------------------
    def content_etag(self, entry: Entry, like: str) -> str | None:
        from s32s.sync.checksum import local_etag_like

        return local_etag_like(self.path_of(entry.key), entry.size, like)

    def read_metadata(self, entry: Entry) -> Entry:
        return entry  # a disk's listing already holds the real mtime

    def record_seen(self, key: str, etag: str | None, size: int, mtime_ns: int | None) -> None:
        pass  # nothing to remember: the next listing reads the disk again

    def save_seen(self) -> None:
        pass

    def _backup(self, key: str, path: Path) -> None:
        assert self.backup_dir is not None
        destination = self.backup_dir.joinpath(*key.split("/"))
        destination.parent.mkdir(parents=True, exist_ok=True)
        if destination.exists():
            destination.unlink()
        shutil.move(str(path), str(destination))
