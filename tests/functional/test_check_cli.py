"""`s32s check`, `master check` and `slave check` as a user types them, on both S3 servers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

BUCKET = "chk"


@pytest.fixture
def pushed(cli: Any, s3_server: Any, s3_client: Any, tmp_path: Path) -> dict[str, Any]:
    s3_client.create_bucket(Bucket=BUCKET)
    folder = tmp_path / "local"
    (folder / "sub").mkdir(parents=True)
    for name in ("same.txt", "changed.txt", "gone.txt", "sub/deep.txt"):
        (folder / name).write_text(f"content of {name}")
    (folder / "skip.tmp").write_text("ignored")
    url = f"s3://{BUCKET}/data"
    synced = cli("--endpoint-url", s3_server.url, "sync", str(folder), url, "--yes")
    assert synced.exit_code == 0, synced.output
    return {"folder": folder, "url": url, "server": s3_server, "s3": s3_client}


def check(cli: Any, pushed: dict[str, Any], *extra: str, reverse: bool = False) -> Any:
    sides = (
        [pushed["url"], str(pushed["folder"])]
        if reverse
        else [str(pushed["folder"]), pushed["url"]]
    )
    return cli("--endpoint-url", pushed["server"].url, "--json", "check", *sides, *extra)


def test_identical_sides_exit_0(cli, pushed) -> None:
    result = check(cli, pushed, "--ignore", "*.tmp")
    assert result.exit_code == 0, result.output
    document = result.json["checks"][0]
    assert document["same"] and document["identical"] == 4 and document["ignored"] == 1


def test_differences_listed_and_exit_1(cli, pushed) -> None:
    folder = pushed["folder"]
    (folder / "changed.txt").write_text("different length now")
    (folder / "gone.txt").unlink()
    (folder / "new.txt").write_text("only here")
    result = check(cli, pushed)
    assert result.exit_code == 1
    document = result.json["checks"][0]
    assert document["only_in_source"] == ["new.txt"]
    assert document["only_in_destination"] == ["gone.txt"]
    assert document["differ"] == [{"path": "changed.txt", "reason": "size differs"}]
    reverse = check(cli, pushed, "--ignore", "*.tmp", reverse=True).json["checks"][0]
    assert reverse["only_in_source"] == ["gone.txt"] and reverse["only_in_destination"] == [
        "new.txt"
    ]
    plain = cli("--endpoint-url", pushed["server"].url, "check", str(folder), pushed["url"])
    assert plain.exit_code == 1 and "differ: changed.txt (size differs)" in plain.stdout


def test_same_size_change_seen_by_mtime_and_by_checksum(cli, pushed) -> None:
    path = pushed["folder"] / "same.txt"
    stat = path.stat()
    path.write_text("CONTENT of same.txt")  # same size
    os.utime(
        path, ns=(stat.st_atime_ns, stat.st_mtime_ns)
    )  # and the same mtime: only content differs
    by_mtime = check(cli, pushed, "--ignore", "*.tmp")
    by_content = check(cli, pushed, "--ignore", "*.tmp", "--checksum")
    assert by_content.exit_code == 1
    assert by_content.json["checks"][0]["differ"] == [
        {"path": "same.txt", "reason": "content differs"}
    ]
    assert by_mtime.exit_code == 0  # size and mtime agree: a sync would skip it too
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    assert check(cli, pushed, "--ignore", "*.tmp").json["checks"][0]["differ"] == [
        {"path": "same.txt", "reason": "modification time changed"}
    ]


def test_master_and_slave_check_compare_each_map(cli, pushed, tmp_path) -> None:
    slave = tmp_path / "slave"
    maps = [
        {
            "name": "site",
            "s3": f"{BUCKET}/data",
            "master": str(pushed["folder"]),
            "slave": str(slave),
            "ignore": ["*.tmp"],
        }
    ]
    maps_file = tmp_path / "maps.json"
    maps_file.write_text(json.dumps(maps))
    base = ("--endpoint-url", pushed["server"].url, "--json")
    master = cli(*base, "master", "check", "--maps", str(maps_file))
    assert master.exit_code == 0, master.output
    slave_check = cli(*base, "slave", "check", "site", "--maps", str(maps_file))
    assert slave_check.exit_code == 1
    assert len(slave_check.json["checks"][0]["only_in_source"]) == 4
    pulled = cli(
        "--endpoint-url", pushed["server"].url, "slave", "pull", "--maps", str(maps_file), "--yes"
    )
    assert pulled.exit_code == 0, pulled.output
    assert cli(*base, "slave", "check", "--maps", str(maps_file)).exit_code == 0


def test_check_changes_nothing_and_reports_a_missing_bucket(cli, pushed) -> None:
    before = sorted(p.name for p in pushed["folder"].rglob("*"))
    missing = cli(
        "--endpoint-url",
        pushed["server"].url,
        "check",
        str(pushed["folder"]),
        "s3://nosuchbucket/x",
    )
    assert missing.exit_code in (1, 2)
    assert sorted(p.name for p in pushed["folder"].rglob("*")) == before
