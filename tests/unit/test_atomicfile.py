"""One way to write a local file: whole or not at all, 0600 when it holds secrets."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from s32s import atomicfile
from s32s.atomicfile import TEMP_SUFFIX, atomic_writer, write_atomically


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write(b"half")
        raise RuntimeError("disk gone")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_the_temporary_is_flushed_and_synced_once_before_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(atomicfile.os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd)))

    def replace(source: Path, target: Path) -> None:
        assert Path(source).name.endswith(TEMP_SUFFIX) and Path(source).name.startswith(".")
        events.append(f"replace {Path(source).read_bytes().decode()}")  # flushed before
        real_replace(source, target)

    monkeypatch.setattr(atomicfile.os, "replace", replace)
    write_atomically(tmp_path / "f", b"whole")
    assert events == ["fsync", "replace whole"]
    events.clear()
    write_atomically(tmp_path / "g", "text", durable=False)
    assert events == ["replace text"]
    assert (tmp_path / "g").read_text() == "text"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_secrets_are_0600_from_the_start_and_others_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        (tmp_path / "keys.yaml").write_text("old, world-readable")
        (tmp_path / "keys.yaml").chmod(0o644)
        write_atomically(tmp_path / "keys.yaml", "secret", private=True)
        write_atomically(tmp_path / "plain.txt", "hello")
    finally:
        os.umask(old)
    assert (tmp_path / "keys.yaml").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "plain.txt").stat().st_mode & 0o777 == 0o644


def test_before_rename_sees_the_whole_closed_temporary(tmp_path: Path) -> None:
    seen: list[bytes] = []
    with atomic_writer(
        tmp_path / "a" / "b.bin", before_rename=lambda t: seen.append(t.read_bytes())
    ) as handle:
        handle.write(b"payload")
    assert seen == [b"payload"]
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"payload"
