from __future__ import annotations

import os
from pathlib import Path

import pytest

from s32s.sync.local import LocalStore, UnsafeKeyError, check_relative_key


@pytest.mark.parametrize(
    "key",
    [
        "../evil",
        "a/../../evil",
        "/etc/passwd",
        "C:/Windows/x",
        "c:evil",
        "a\\..\\b",
        "a//b",
        "./a",
        "a/./b",
        "",
        "a\0b",
    ],
)
def test_hostile_keys_are_refused(key: str) -> None:
    with pytest.raises(UnsafeKeyError):
        check_relative_key(key)


@pytest.mark.parametrize("key", ["a", "a/b/c.txt", "..a", "a..b/c", "é/ü.txt", "with space/x"])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_relative_key(key) == key


def test_listing_skips_symlinks_and_temporaries(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.txt").write_text("a")
    (tmp_path / ".a.txt.1234.s32s-tmp").write_text("partial")
    if os.name == "posix":
        (tmp_path / "link").symlink_to(tmp_path / "dir")
    store = LocalStore(tmp_path)
    entries = {e.key: e for e in store.list()}
    assert set(entries) == {"dir", "dir/a.txt"}
    assert entries["dir"].is_dir and entries["dir/a.txt"].size == 1
    if os.name == "posix":
        assert store.skipped == [("link", "symbolic link, not followed")]


def test_atomic_writer_leaves_nothing_on_failure(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    (tmp_path / "f.txt").write_text("original")
    with pytest.raises(RuntimeError), store.atomic_writer("f.txt", None) as handle:
        handle.write(b"half")
        raise RuntimeError("network gone")
    assert (tmp_path / "f.txt").read_text() == "original"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_atomic_writer_sets_mtime_and_backs_up(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    store = LocalStore(tmp_path / "root", backup_dir=backup)
    (tmp_path / "root" / "sub").mkdir(parents=True)
    (tmp_path / "root" / "sub" / "f.txt").write_text("old")
    with store.atomic_writer("sub/f.txt", 1_600_000_000_123456789) as handle:
        handle.write(b"new")
    assert (tmp_path / "root" / "sub" / "f.txt").read_text() == "new"
    assert os.stat(tmp_path / "root" / "sub" / "f.txt").st_mtime_ns == 1_600_000_000_123456789
    assert (backup / "sub" / "f.txt").read_text() == "old"
    store.delete("sub/f.txt")
    assert not (tmp_path / "root" / "sub" / "f.txt").exists()
    assert (backup / "sub" / "f.txt").read_text() == "new"


def test_only_replaced_files_are_flushed_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old content must survive a crash; a new file lost in one is simply copied again."""
    flushed = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: flushed.append(fd) or real_fsync(fd))
    store = LocalStore(tmp_path)
    with store.atomic_writer("new.txt", None) as handle:
        handle.write(b"first")
    assert flushed == []
    with store.atomic_writer("new.txt", None) as handle:
        handle.write(b"second")
    assert len(flushed) == 1 and (tmp_path / "new.txt").read_bytes() == b"second"


@pytest.mark.skipif(os.name != "posix", reason="symlinks need privileges on Windows")
def test_writer_refuses_to_write_through_a_symlinked_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "sub").symlink_to(outside)
    store = LocalStore(root)
    with (
        pytest.raises(OSError, match="symbolic link"),
        store.atomic_writer("sub/x.txt", None) as handle,
    ):
        handle.write(b"x")
    assert list(outside.iterdir()) == []
