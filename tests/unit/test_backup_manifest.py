"""The snapshot manifest: written, read back, and every malformed form named."""

from __future__ import annotations

import json

import pytest

from s32s.backup.manifest import FileRecord, Manifest, ManifestError
from s32s.sync.checksum import StreamEtag, multipart_etag


def test_round_trip_keeps_sizes_mtimes_and_etags() -> None:
    manifest = Manifest(
        "/data",
        "host",
        "2024-01-01T00:00:00+00:00",
        "2024-01-01T00:01:00+00:00",
        {
            "a/b.txt": FileRecord(3, 1_354_040_105_123_456_789, "abc"),
            "c": FileRecord(0, None, None),
        },
    )
    again = Manifest.from_json(manifest.to_json(), "here")
    assert again == manifest
    assert json.loads(manifest.to_json())["files"]["a/b.txt"]["mtime"] == "1354040105.123456789"


VALID = {
    "version": 1,
    "source": "/d",
    "host": "h",
    "started": "s",
    "ended": "e",
    "files": {"a": {"size": 1, "mtime": None, "etag": "x"}},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version"),
        ({"host": None}, "`host`"),
        ({"files": []}, "`files`"),
        ({"files": {"a": {"size": "1"}}}, "size"),
        ({"files": {"a": {"size": 1, "mtime": "yesterday"}}}, "mtime"),
        ({"files": {"/abs": {"size": 1}}}, "relative"),
    ],
)
def test_malformed_manifests_name_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ManifestError, match=message) as caught:
        Manifest.from_json(json.dumps({**VALID, **change}), "s3://b/snap/s32s-snapshot.json")
    assert "s3://b/snap/s32s-snapshot.json" in caught.value.message


def test_not_json_at_all() -> None:
    with pytest.raises(ManifestError, match="not valid JSON"):
        Manifest.from_json(b"\xff{", "m")


@pytest.mark.parametrize("part_size", [5 * 1024 * 1024, 8 * 1024 * 1024])
def test_stream_etag_matches_multipart_etags_without_knowing_the_part_size(
    tmp_path, part_size
) -> None:
    path = tmp_path / "big"
    data = bytes(range(256)) * (4096 * 17)  # 17 MiB
    path.write_bytes(data)
    etag = multipart_etag(path, part_size)
    hasher = StreamEtag(len(data), etag)
    for start in range(0, len(data), 1_000_003):  # chunks that cross part boundaries
        hasher.update(data[start : start + 1_000_003])
    assert hasher.matches()
    damaged = StreamEtag(len(data), etag)
    damaged.update(data[:-1] + b"!")
    assert not damaged.matches()
