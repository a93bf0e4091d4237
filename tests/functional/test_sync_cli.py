"""master push, slave pull and sync as a user (or cron) runs them, against S3 servers over HTTP.

Every test runs on moto's server; those marked `BOTH_SERVERS` on rclone's too.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_executable
from tests.s3servers import BOTH_SERVERS

BUCKET = "cli-bkt"


@pytest.fixture
def setup(server: Any, tmp_path: Path) -> dict[str, Any]:
    import boto3

    s3_http = boto3.client("s3", region_name="us-east-1", endpoint_url=server.url)
    s3_http.create_bucket(Bucket=BUCKET)
    master, slave = tmp_path / "master", tmp_path / "slave"
    (master / "sub").mkdir(parents=True)
    for index in range(6):
        (master / f"f{index}.txt").write_text(f"file {index}")
    (master / "sub" / "deep.txt").write_text("deep")
    (master / "skip.tmp").write_text("ignored")
    maps = [
        {
            "name": "site",
            "s3": f"{BUCKET}/site",
            "master": str(master),
            "slave": str(slave),
            "ignore": ["*.tmp"],
        },
        {
            "name": "conf",
            "s3": f"s3://{BUCKET}/conf",
            "master": str(master),
            "slave": str(tmp_path / "conf"),
            "files": ["f0.txt", "sub/deep.txt"],
        },
    ]
    s3_http.put_object(Bucket=BUCKET, Key="maps/maps.json", Body=json.dumps(maps))
    ini = tmp_path / "s32s.ini"
    ini.write_text(
        f"[MAIN]\nismaster = True\ntime_sleep_after_rm = 0\n[MASTER]\nmaps_s3_path = {BUCKET}/maps\n"
        f"[SLAVE]\nmaps_s3_path = {BUCKET}/maps\n"
    )
    return {
        "url": server.url,
        "master": master,
        "slave": slave,
        "ini": ini,
        "tmp": tmp_path,
        "s3": s3_http,
    }


def base(setup: dict[str, Any]) -> list[str]:
    return ["--config", str(setup["ini"]), "--endpoint-url", setup["url"]]


def site_keys(setup: dict[str, Any]) -> list[str]:
    listed = setup["s3"].list_objects_v2(Bucket=BUCKET, Prefix="site/")
    return [item["Key"] for item in listed.get("Contents", [])]


@BOTH_SERVERS
def test_push_pull_round_trip_with_json_report(cli, setup) -> None:
    pushed = cli(*base(setup), "--json", "master", "push", "site")
    assert pushed.exit_code == 0, pushed.output
    report = pushed.json["maps"][0]
    assert (report["copied"], report["ignored"], report["failed"]) == (7, 1, [])
    pulled = cli(*base(setup), "--json", "slave", "pull", "site")
    assert pulled.exit_code == 0, pulled.output
    assert (setup["slave"] / "sub" / "deep.txt").read_text() == "deep"
    assert not (setup["slave"] / "skip.tmp").exists()
    again = cli(*base(setup), "--json", "slave", "pull", "site")
    assert again.json["maps"][0]["copied"] == 0 and again.json["maps"][0]["unchanged"] == 7


def test_all_maps_in_name_order_and_file_list_needs_existing_folder(cli, setup) -> None:
    pushed = cli(*base(setup), "--json", "master", "push")
    assert [m["name"] for m in pushed.json["maps"]] == ["conf", "site"]
    missing = cli(*base(setup), "slave", "pull", "conf")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    (setup["tmp"] / "conf").mkdir()
    pulled = cli(*base(setup), "--json", "slave", "pull", "conf")
    assert pulled.exit_code == 0
    assert sorted(
        p.relative_to(setup["tmp"] / "conf").as_posix()
        for p in (setup["tmp"] / "conf").rglob("*.txt")
    ) == ["f0.txt", "sub/deep.txt"]


@BOTH_SERVERS
def test_deletes_need_confirmation_without_terminal(cli, setup) -> None:
    cli(*base(setup), "master", "push", "site")
    (setup["master"] / "f1.txt").unlink()
    refused = cli(*base(setup), "master", "push", "site")
    assert refused.exit_code == 3
    assert "no terminal to confirm" in refused.stderr and "f1.txt" in refused.stderr
    assert "site/f1.txt" in site_keys(setup)
    done = cli(*base(setup), "master", "push", "site", "--yes")
    assert done.exit_code == 0
    assert "site/f1.txt" not in site_keys(setup)


def test_skip_delete_alert_in_ini_confirms(cli, setup) -> None:
    cli(*base(setup), "master", "push", "site")
    (setup["master"] / "f1.txt").unlink()
    assert "site/f1.txt" in site_keys(setup)
    setup["ini"].write_text(
        setup["ini"].read_text().replace("[MAIN]\n", "[MAIN]\nskip_delete_alert = True\n")
    )
    pushed = cli(*base(setup), "--json", "master", "push", "site")  # no --yes, no terminal
    assert pushed.exit_code == 0, pushed.output
    assert pushed.json["maps"][0]["deleted"] == 1
    assert "site/f1.txt" not in site_keys(setup)
    assert "site/f2.txt" in site_keys(setup)


def test_mass_delete_and_empty_source_refused(cli, setup) -> None:
    cli(*base(setup), "master", "push", "site")
    cli(*base(setup), "slave", "pull", "site")
    for path in list(setup["master"].glob("f*.txt"))[:5]:
        path.unlink()
    pushed = cli(*base(setup), "master", "push", "site", "--yes")
    assert pushed.exit_code == 3 and "more than half" in pushed.stderr
    assert cli(*base(setup), "master", "push", "site", "--yes", "--max-delete", "5").exit_code == 0
    for path in setup["master"].rglob("*"):
        if path.is_file():
            path.unlink()
    empty = cli(*base(setup), "--json", "master", "push", "site", "--yes", "--max-delete", "all")
    assert empty.exit_code == 3 and "source is empty" in empty.json["maps"][0]["refused"][0]


def test_dry_run_changes_nothing(cli, setup) -> None:
    result = cli(*base(setup), "--json", "master", "push", "site", "--dry-run")
    assert result.exit_code == 0
    assert sorted(result.json["maps"][0]["would_copy"])[:2] == ["f0.txt", "f1.txt"]
    assert "Contents" not in setup["s3"].list_objects_v2(Bucket=BUCKET, Prefix="site/")


@BOTH_SERVERS
def test_backup_dir_keeps_replaced_and_deleted_files(cli, setup) -> None:
    cli(*base(setup), "master", "push", "site")
    cli(*base(setup), "slave", "pull", "site")
    (setup["master"] / "f1.txt").unlink()
    (setup["master"] / "f2.txt").write_text("changed!")
    cli(*base(setup), "master", "push", "site", "--yes")
    backup = setup["tmp"] / "backup"
    result = cli(*base(setup), "slave", "pull", "site", "--yes", "--backup-dir", str(backup))
    assert result.exit_code == 0
    assert (backup / "f1.txt").read_text() == "file 1" and (
        backup / "f2.txt"
    ).read_text() == "file 2"
    assert (setup["slave"] / "f2.txt").read_text() == "changed!"


@BOTH_SERVERS
def test_removed_folder_honours_sleep(cli, setup) -> None:
    cli(*base(setup), "master", "push", "site")
    cli(*base(setup), "slave", "pull", "site")
    (setup["master"] / "sub" / "deep.txt").unlink()
    (setup["master"] / "sub").rmdir()
    cli(*base(setup), "master", "push", "site", "--yes")
    setup["ini"].write_text(
        setup["ini"].read_text().replace("time_sleep_after_rm = 0", "time_sleep_after_rm = 0.5")
    )
    started = time.monotonic()
    result = cli(*base(setup), "--json", "slave", "pull", "site", "--yes")
    assert result.exit_code == 0 and result.json["maps"][0]["folders_removed"] == 1
    assert not (setup["slave"] / "sub").exists()
    assert time.monotonic() - started >= 0.5


def test_shared_s3_path_between_master_and_slave_maps(cli, setup) -> None:
    slave_maps = [
        {"name": "mirror", "s3": f"{BUCKET}/site/sub", "slave": str(setup["tmp"] / "mirror")}
    ]
    setup["s3"].put_object(Bucket=BUCKET, Key="slavemaps/m.json", Body=json.dumps(slave_maps))
    setup["ini"].write_text(
        setup["ini"]
        .read_text()
        .replace(
            f"[SLAVE]\nmaps_s3_path = {BUCKET}/maps", f"[SLAVE]\nmaps_s3_path = {BUCKET}/slavemaps"
        )
    )
    result = cli(*base(setup), "master", "push", "site")
    assert result.exit_code == 3 and "share an S3 path" in result.stderr


def test_dangerous_slave_folder(cli, setup) -> None:
    maps = [{"name": "root", "s3": f"{BUCKET}/x", "slave": "/"}]
    path = setup["tmp"] / "root.json"
    path.write_text(json.dumps(maps))
    result = cli(*base(setup), "slave", "pull", "--maps", str(path))
    assert result.exit_code == 3 and "Refusing to use / as a slave folder" in result.stderr


@BOTH_SERVERS
def test_sync_command_local_and_s3(cli, setup, tmp_path: Path) -> None:
    url = f"s3://{BUCKET}/adhoc"
    up = cli(
        "--endpoint-url",
        setup["url"],
        "--json",
        "sync",
        str(setup["master"]),
        url,
        "--ignore",
        "sub/*",
    )
    assert up.exit_code == 0 and up.json["maps"][0]["copied"] == 7  # six files and skip.tmp
    down = tmp_path / "down"
    result = cli("--endpoint-url", setup["url"], "sync", url, str(down))
    assert result.exit_code == 0 and (down / "f0.txt").read_text() == "file 0"
    (down / "extra.txt").write_text("x")
    keep = cli("--endpoint-url", setup["url"], "sync", url, str(down))
    assert keep.exit_code == 0 and (down / "extra.txt").exists()  # no --delete: nothing removed
    mirror = cli("--endpoint-url", setup["url"], "sync", url, str(down), "--delete", "--yes")
    assert mirror.exit_code == 0 and not (down / "extra.txt").exists()
    copied = cli("--endpoint-url", setup["url"], "--json", "sync", url, f"s3://{BUCKET}/copy")
    assert copied.json["maps"][0]["copied"] == 7


def test_bad_usage(cli, setup) -> None:
    assert cli(*base(setup), "master", "push", "nope").exit_code == 2
    bad = cli(*base(setup), "master", "push", "--max-delete", "lots")
    assert bad.exit_code == 2 and "--max-delete" in bad.stderr
    missing = cli(
        "--endpoint-url", setup["url"], "sync", str(setup["tmp"] / "none"), f"s3://{BUCKET}/x"
    )
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    nobucket = cli(
        "--endpoint-url", setup["url"], "sync", str(setup["master"]), "s3://no-such-bucket/x"
    )
    assert nobucket.exit_code == 2 and "does not exist" in nobucket.stderr


def test_cron_run_through_the_installed_executable(setup) -> None:
    env = {"AWS_ENDPOINT_URL": setup["url"], "S32S_CONFIG": str(setup["ini"])}
    pushed = run_executable(["master", "push"], env=env)
    assert pushed.exit_code == 0, pushed.stderr
    assert (
        "copy: " in pushed.stderr and "Summary" in pushed.stdout
    )  # plain lines without a terminal
    (setup["master"] / "f3.txt").unlink()
    refused = run_executable(["master", "push"], env=env, input="y\n")
    assert refused.exit_code == 3  # no terminal: never waits for an answer
    quiet = run_executable(["-q", "master", "push", "--yes"], env=env)
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""


def test_second_run_on_same_destination_is_refused(setup, monkeypatch: pytest.MonkeyPatch) -> None:
    from s32s.sync.local import LocalStore
    from s32s.sync.lock import destination_lock

    state = setup["tmp"] / "state"
    monkeypatch.setenv("S32S_STATE_DIR", str(state))
    env = {
        "AWS_ENDPOINT_URL": setup["url"],
        "S32S_CONFIG": str(setup["ini"]),
        "S32S_STATE_DIR": str(state),
    }
    setup["slave"].mkdir()
    with destination_lock(LocalStore(setup["slave"]).identity, "held"):
        result = run_executable(["slave", "pull", "site"], env=env)
    assert result.exit_code == 3 and "already writing" in result.stderr
    assert os.listdir(setup["slave"]) == []


def test_summary_table_hidden_by_skip_tranfer_detail(cli, setup) -> None:
    shown = cli(*base(setup), "master", "push", "site")
    assert "Summary" in shown.stdout and "site" in shown.stdout
    setup["ini"].write_text(
        setup["ini"].read_text().replace("[MAIN]\n", "[MAIN]\nskip_tranfer_detail = True\n")
    )
    hidden = cli(*base(setup), "master", "push", "site")
    assert hidden.exit_code == 0 and "Summary" not in hidden.stdout


def test_push_pull_cycles_copy_nothing_once_in_sync(
    cli, s3_server, s3_client, tmp_path: Path
) -> None:
    """push → pull → push → pull with nothing changed: only the first cycle copies (both servers)."""
    s3_client.create_bucket(Bucket=BUCKET)
    master, slave = tmp_path / "master", tmp_path / "slave"
    files = {
        "plain.txt": b"plain",
        "empty.bin": b"",
        "with space/é 日本 +%#?=.txt": b"odd name",
        "parts.bin": os.urandom(20 * 1024 * 1024 + 1),  # 8 + 8 + 4 MiB and 1 byte, in parts
    }
    for index, (name, data) in enumerate(files.items()):
        path = master / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(1_600_000_000_123_456_789 + index, 1_600_000_000_123_456_789 + index))
    url = f"s3://{BUCKET}/cycle"
    copied = []
    for _ in range(2):
        for source, dest in ((master, url), (url, slave)):
            result = cli("--endpoint-url", s3_server.url, "--json", "sync", str(source), str(dest))
            assert result.exit_code == 0, result.output
            report = result.json["maps"][0]
            assert report["failed"] == []
            copied.append(report["copied"])
    assert copied == [len(files), len(files), 0, 0]
    for name, data in files.items():
        assert (slave / name).read_bytes() == data
        assert (slave / name).stat().st_mtime_ns == (master / name).stat().st_mtime_ns
