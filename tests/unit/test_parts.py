"""Part arithmetic, the size settings, and the records kept to resume large transfers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.sync.parts import (
    MiB,
    PartialDownload,
    UploadJournal,
    UploadRecord,
    part_count,
    part_size_for,
    part_span,
)
from s32s.sync.s3 import multipart_threshold, preferred_part_size, range_size_for


def test_parts_cover_the_object_exactly() -> None:
    size = 21 * MiB + 3
    assert part_count(size, 5 * MiB) == 5
    spans = [part_span(n, 5 * MiB, size) for n in range(1, 6)]
    assert spans[0] == (0, 5 * MiB) and spans[-1] == (20 * MiB, MiB + 3)
    assert sum(length for _, length in spans) == size
    assert part_size_for(100 * 1024 * MiB, 8 * MiB) == 11 * MiB  # 10,000 parts at most


@pytest.mark.parametrize(
    ("text", "expected"), [("16MB", 16 * MiB), ("6MiB", 6 * MiB), ("5242880", 5 * MiB)]
)
def test_part_size_setting(monkeypatch: pytest.MonkeyPatch, text: str, expected: int) -> None:
    monkeypatch.setenv("S32S_MULTIPART_CHUNKSIZE", text)
    assert preferred_part_size() == expected


@pytest.mark.parametrize("text", ["4MB", "lots", "-8MB", "8XB"])
def test_bad_size_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("S32S_MULTIPART_CHUNKSIZE", text)
    with pytest.raises(ConfigError, match="S32S_MULTIPART_CHUNKSIZE"):
        preferred_part_size()


def test_threshold_defaults_to_8_mib(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S32S_MULTIPART_THRESHOLD", raising=False)
    assert multipart_threshold() == 8 * MiB


@pytest.mark.parametrize(
    ("size", "expected"),
    [(100 * MiB, 8 * MiB), (128 * MiB, 8 * MiB), (200 * MiB, 13 * MiB), (1024 * MiB, 64 * MiB)],
)
def test_downloads_take_at_most_sixteen_ranges(
    monkeypatch: pytest.MonkeyPatch, size: int, expected: int
) -> None:
    monkeypatch.delenv("S32S_MULTIPART_CHUNKSIZE", raising=False)
    assert range_size_for(size) == expected
    assert part_count(size, expected) <= 16


def _record(key: str = "data/a.bin", **changes: object) -> UploadRecord:
    fields: dict[str, object] = {
        "endpoint": "http://e",
        "bucket": "b",
        "key": key,
        "upload_id": "u1",
        "part_size": 5 * MiB,
        "size": 11 * MiB,
        "mtime_ns": 1,
    }
    return UploadRecord(**{**fields, **changes})  # type: ignore[arg-type]


def test_journal_keeps_records_per_endpoint_bucket_and_key(tmp_path: Path) -> None:
    journal = UploadJournal(tmp_path, "http://e")
    journal.save(_record())
    journal.save(_record("other/b.bin", upload_id="u2"))
    assert journal.load("b", "data/a.bin") == _record()
    assert UploadJournal(tmp_path, "http://elsewhere").load("b", "data/a.bin") is None
    assert [r.upload_id for r in journal.under("b", "data/")] == ["u1"]
    journal.forget("b", "data/a.bin")
    assert journal.load("b", "data/a.bin") is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: "{not json",
        lambda d: json.dumps({**d, "part_size": "big"}),
        lambda d: json.dumps({**d, "version": 99}),
        lambda d: json.dumps({k: v for k, v in d.items() if k != "upload_id"}),
        lambda d: json.dumps([d]),
    ],
)
def test_a_damaged_upload_record_is_dropped(tmp_path: Path, damage: object) -> None:
    journal = UploadJournal(tmp_path, "http://e")
    journal.save(_record())
    (path,) = tmp_path.glob("*.json")
    path.write_text(damage(json.loads(path.read_text())))  # type: ignore[operator]
    assert journal.load("b", "data/a.bin") is None
    assert list(journal.under("b", "")) == []


def test_partial_download_starts_over_unless_everything_matches(tmp_path: Path) -> None:
    partial = PartialDownload(tmp_path / "d", tmp_path / "r")
    assert partial.resume("etag1", 11 * MiB, 5 * MiB) == set()
    assert os.path.getsize(tmp_path / "d") == 11 * MiB
    partial.write_part(3, [b"x" * MiB], lambda n: None)
    again = PartialDownload(tmp_path / "d", tmp_path / "r")
    assert again.resume("etag1", 11 * MiB, 5 * MiB) == {3}
    assert (
        PartialDownload(tmp_path / "d", tmp_path / "r").resume("etag2", 11 * MiB, 5 * MiB) == set()
    )


def test_a_part_of_the_wrong_length_is_not_recorded(tmp_path: Path) -> None:
    partial = PartialDownload(tmp_path / "d", tmp_path / "r")
    partial.resume("e", 11 * MiB, 5 * MiB)
    with pytest.raises(OSError, match="received"):
        partial.write_part(1, [b"x" * 10], lambda n: None)
    assert json.loads((tmp_path / "r").read_text())["done"] == []
