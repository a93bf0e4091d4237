"""Backups as a user types them, on both S3 servers of the suite (moto's and rclone's)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

BUCKET = "bkp"
LOCATION = f"s3://{BUCKET}/backups"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    (folder / "sub").mkdir(parents=True)
    for index in range(5):
        (folder / f"f{index}.txt").write_text(f"file {index}")
    (folder / "sub" / "deep.txt").write_text("deep")
    (folder / "skip.tmp").write_text("ignored")
    return folder


@pytest.fixture
def s3(s3_server: Any, s3_client: Any) -> Any:
    s3_client.create_bucket(Bucket=BUCKET)
    return s3_client


def run(cli: Any, server: Any, *args: str) -> Any:
    return cli("--endpoint-url", server.url, *args)


def keys(s3: Any, prefix: str = "backups/") -> list[str]:
    paginator = s3.get_paginator("list_objects_v2")
    return [
        o["Key"]
        for page in paginator.paginate(Bucket=BUCKET, Prefix=prefix)
        for o in page.get("Contents", ())
    ]


def create(cli: Any, server: Any, folder: Path, *extra: str) -> Any:
    result = run(
        cli,
        server,
        "--json",
        "backup",
        "create",
        str(folder),
        LOCATION,
        "--ignore",
        "*.tmp",
        *extra,
    )
    return result


def test_create_list_restore_round_trip(cli, s3_server, s3, source, tmp_path) -> None:
    first = create(cli, s3_server, source)
    assert first.exit_code == 0, first.output
    report = first.json
    assert report["complete"] and report["files"] == 6 and report["uploaded"] == 6
    assert report["ignored"] == 1 and report["base"] is None
    manifest_key = f"backups/{report['snapshot']}/s32s-snapshot.json"
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=manifest_key)["Body"].read())
    assert set(manifest["files"]) == {
        "f0.txt",
        "f1.txt",
        "f2.txt",
        "f3.txt",
        "f4.txt",
        "sub/deep.txt",
    }
    assert manifest["files"]["sub/deep.txt"]["size"] == 4

    (source / "f1.txt").write_text("changed content")
    (source / "new.txt").write_text("new")
    second = create(cli, s3_server, source)
    assert second.exit_code == 0, second.output
    report2 = second.json
    assert report2["base"] == report["snapshot"]
    assert (report2["uploaded"], report2["copied_server_side"], report2["files"]) == (2, 5, 7)

    listed = run(cli, s3_server, "--json", "backup", "list", LOCATION)
    assert listed.exit_code == 0, listed.output
    snapshots = listed.json["snapshots"]
    assert [s["name"] for s in snapshots] == [report["snapshot"], report2["snapshot"]]
    assert all(s["complete"] for s in snapshots) and snapshots[1]["files"] == 7

    target = tmp_path / "restored"
    restored = run(
        cli, s3_server, "--json", "backup", "restore", LOCATION, report["snapshot"], str(target)
    )
    assert restored.exit_code == 0, restored.output
    assert (target / "f1.txt").read_text() == "file 1"
    assert not (target / "new.txt").exists() and not (target / "s32s-snapshot.json").exists()
    assert (target / "sub" / "deep.txt").stat().st_mtime_ns == (
        source / "sub" / "deep.txt"
    ).stat().st_mtime_ns

    latest = run(
        cli, s3_server, "backup", "restore", LOCATION, "latest", str(target), "--include", "f1*"
    )
    assert latest.exit_code == 0, latest.output
    assert (target / "f1.txt").read_text() == "changed content"
    assert not (target / "new.txt").exists()  # not included

    checked = run(cli, s3_server, "--json", "backup", "check", LOCATION, "--all", "--read-data")
    assert checked.exit_code == 0, checked.output
    assert [s["ok"] for s in checked.json["snapshots"]] == [True, True]


def test_second_backup_uploads_only_the_changed_files(moto_server, s3_http, tmp_path) -> None:
    """A second backup of N files with a few changed uploads only those: requests counted.

    On moto's server only: rclone's server keeps objects as files and slows
    down sharply with hundreds of files written at once into a new folder.
    """
    s3_http.create_bucket(Bucket=BUCKET)
    from s32s.aws.clients import AwsOptions, ClientFactory
    from s32s.backup.create import create_backup
    from s32s.maps.runner import StoreFactory

    folder = tmp_path / "many"
    folder.mkdir()
    for index in range(200):
        (folder / f"file{index:04d}.bin").write_bytes(os.urandom(4096))
    factory = ClientFactory(AwsOptions(endpoint_url=moto_server.url, max_pool_connections=20))
    calls: dict[str, int] = {}

    def count(event_name: str, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        calls[operation] = calls.get(operation, 0) + 1

    factory.s3().meta.events.register("before-call.s3", count)
    with StoreFactory(factory, 8) as stores:
        assert create_backup(str(folder), LOCATION, stores).complete
        for index in range(0, 200, 20):
            (folder / f"file{index:04d}.bin").write_bytes(os.urandom(4096))
        calls.clear()
        report = create_backup(str(folder), LOCATION, stores)
    assert report.complete and report.uploaded == 10 and report.copied == 190
    assert calls.get("CopyObject") == 190
    assert (
        calls.get("PutObject") == 10 + 1 + 2
    )  # changed files, the manifest, the lock and its probe
    assert "GetObject" in calls and calls.get("HeadObject", 0) == 0


def _library(server: Any) -> tuple[Any, Any]:
    from s32s.aws.clients import AwsOptions, ClientFactory
    from s32s.maps.runner import StoreFactory

    factory = ClientFactory(AwsOptions(endpoint_url=server.url))
    return factory, StoreFactory(factory, 4)


def _fail_upload_of(factory: Any, name: str, error: BaseException) -> None:
    """Make the PUT of one file fail, as a denied key or a Ctrl-C in the middle of a run would."""

    def hook(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key", "").endswith(f"/{name}"):
            raise error

    factory.s3().meta.events.register("provide-client-params.s3.PutObject", hook)


@pytest.mark.parametrize("failure", ["denied", "interrupted"])
def test_failed_or_interrupted_create_leaves_an_unfinished_snapshot_and_the_next_stays_incremental(
    cli, s3_server, s3, source, failure
) -> None:
    from botocore.exceptions import ClientError

    from s32s.backup.create import CreateOptions, create_backup

    first = create(cli, s3_server, source).json
    (source / "f2.txt").write_text("changed")
    factory, stores = _library(s3_server)
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutObject")
    _fail_upload_of(factory, "f2.txt", denied if failure == "denied" else KeyboardInterrupt())
    with stores:
        if failure == "denied":
            report = create_backup(str(source), LOCATION, stores, CreateOptions(ignore=("*.tmp",)))
            assert not report.complete and list(report.failed) == ["f2.txt"]
            assert report.exit_code == 1
        else:
            with pytest.raises(KeyboardInterrupt):
                create_backup(str(source), LOCATION, stores, CreateOptions(ignore=("*.tmp",)))
    listed = run(cli, s3_server, "--json", "backup", "list", LOCATION).json["snapshots"]
    assert [s["status"] for s in listed] == ["complete", "unfinished"]
    unfinished = listed[1]["name"]
    assert f"backups/{unfinished}/s32s-snapshot.json" not in keys(s3)
    assert "backups/s32s-lock.json" not in keys(s3)  # the lock went with the run
    third = create(cli, s3_server, source).json
    assert third["complete"] and third["base"] == first["snapshot"] and third["uploaded"] == 1
    latest = run(cli, s3_server, "--json", "backup", "check", LOCATION)
    assert latest.exit_code == 0 and latest.json["snapshots"][0]["snapshot"] == third["snapshot"]
    named = run(cli, s3_server, "backup", "check", LOCATION, unfinished)
    assert named.exit_code == 1 and "unfinished" in named.stderr


def test_prune_keeps_by_rules_and_removes_stale_unfinished(cli, s3_server, s3) -> None:
    names = [
        "2024-01-01-10-00-00",
        "2024-01-02-10-00-00",
        "2024-01-03-10-00-00",
        "2024-01-03-12-00-00",
    ]
    for name in names:
        s3.put_object(Bucket=BUCKET, Key=f"backups/{name}/a.txt", Body=b"a")
        if name != "2024-01-02-10-00-00":
            manifest = {
                "version": 1,
                "source": "/d",
                "host": "h",
                "started": name,
                "ended": name,
                "files": {"a.txt": {"size": 1, "mtime": None, "etag": None}},
            }
            s3.put_object(
                Bucket=BUCKET, Key=f"backups/{name}/s32s-snapshot.json", Body=json.dumps(manifest)
            )
    refused = run(cli, s3_server, "backup", "prune", LOCATION, "--keep-daily", "2")
    assert refused.exit_code == 3 and "--yes" in refused.stderr
    assert len(keys(s3)) == 7
    dry = run(
        cli, s3_server, "--json", "backup", "prune", LOCATION, "--keep-daily", "2", "--dry-run"
    )
    assert dry.exit_code == 0
    # the newest of each of the two most recent days with a complete snapshot is kept;
    # the unfinished one older than the newest complete snapshot goes
    assert [(r["snapshot"], r["reason"]) for r in dry.json["remove"]] == [
        ("2024-01-03-10-00-00", "kept by no rule"),
        ("2024-01-02-10-00-00", "unfinished, older than the newest complete snapshot"),
    ]
    assert len(keys(s3)) == 7
    done = run(cli, s3_server, "--json", "backup", "prune", LOCATION, "--keep-daily", "2", "--yes")
    assert done.exit_code == 0, done.output
    remaining = {key.split("/")[1] for key in keys(s3)}
    assert remaining == {"2024-01-01-10-00-00", "2024-01-03-12-00-00"}
    no_rule = run(cli, s3_server, "backup", "prune", LOCATION, "--yes")
    assert no_rule.exit_code == 2 and "--keep" in no_rule.stderr


def test_bad_input_is_refused_clearly_and_changes_nothing(
    cli, s3_server, s3, source, tmp_path
) -> None:
    s3.put_object(Bucket=BUCKET, Key="photos/cat.jpg", Body=b"x")
    not_backups = run(cli, s3_server, "backup", "list", f"s3://{BUCKET}/photos")
    assert not_backups.exit_code == 2 and "not a backup location" in not_backups.stderr
    create_there = run(cli, s3_server, "backup", "create", str(source), f"s3://{BUCKET}/photos")
    assert create_there.exit_code == 2 and keys(s3, "photos/") == ["photos/cat.jpg"]

    first = create(cli, s3_server, source).json
    missing = run(
        cli, s3_server, "backup", "restore", LOCATION, "2020-01-01-00-00-00", str(tmp_path / "r")
    )
    assert missing.exit_code == 2 and "no snapshot" in missing.stderr
    assert not (tmp_path / "r").exists()
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    into_file = run(cli, s3_server, "backup", "restore", LOCATION, "latest", str(a_file))
    assert into_file.exit_code == 2 and "is a file" in into_file.stderr
    assert a_file.read_text() == "keep me"
    home = run(cli, s3_server, "backup", "restore", LOCATION, "latest", str(Path.home()))
    assert home.exit_code == 3

    # a manifest naming an object that is gone: check and restore say so (exit 1)
    s3.delete_object(Bucket=BUCKET, Key=f"backups/{first['snapshot']}/f3.txt")
    checked = run(cli, s3_server, "--json", "backup", "check", LOCATION)
    assert checked.exit_code == 1
    assert checked.json["snapshots"][0]["problems"] == [
        {"path": "f3.txt", "reason": "missing from the snapshot"}
    ]
    restored = run(
        cli, s3_server, "--json", "backup", "restore", LOCATION, "latest", str(tmp_path / "r2")
    )
    assert restored.exit_code == 1 and (tmp_path / "r2" / "f1.txt").exists()

    # a malformed manifest: the snapshot is damaged; restore refuses it (exit 2), create skips it
    s3.put_object(
        Bucket=BUCKET, Key=f"backups/{first['snapshot']}/s32s-snapshot.json", Body=b"{not json"
    )
    damaged = run(
        cli, s3_server, "backup", "restore", LOCATION, first["snapshot"], str(tmp_path / "r3")
    )
    assert damaged.exit_code == 2 and "damaged" in damaged.stderr
    listed = run(cli, s3_server, "--json", "backup", "list", LOCATION).json["snapshots"]
    assert listed[0]["status"] == "damaged"
    again = create(cli, s3_server, source)
    assert again.exit_code == 0 and again.json["base"] is None
    assert any("damaged" in warning for warning in again.json["warnings"])
    assert (source / "f3.txt").read_text() == "file 3"  # the source is never touched


def test_restore_with_delete_needs_confirmation_without_a_terminal(
    cli, s3_server, s3, source, tmp_path
) -> None:
    create(cli, s3_server, source)
    target = tmp_path / "target"
    assert run(cli, s3_server, "backup", "restore", LOCATION, "latest", str(target)).exit_code == 0
    (target / "extra.txt").write_text("local only")
    refused = run(cli, s3_server, "backup", "restore", LOCATION, "latest", str(target), "--delete")
    assert refused.exit_code == 3 and (target / "extra.txt").exists()
    dry = run(
        cli,
        s3_server,
        "--json",
        "backup",
        "restore",
        LOCATION,
        "latest",
        str(target),
        "--delete",
        "--dry-run",
    )
    assert dry.exit_code == 0 and dry.json["maps"][0]["would_delete"] == ["extra.txt"]
    done = run(
        cli, s3_server, "backup", "restore", LOCATION, "latest", str(target), "--delete", "--yes"
    )
    assert done.exit_code == 0 and not (target / "extra.txt").exists()


def test_a_lock_held_elsewhere_refuses_a_create_until_broken(cli, s3_server, s3, source) -> None:
    holder = {
        "command": "backup create",
        "host": "other-host",
        "pid": 7,
        "started": "2024-01-01T00:00:00+00:00",
    }
    s3.put_object(Bucket=BUCKET, Key="backups/s32s-lock.json", Body=json.dumps(holder))
    blocked = create(cli, s3_server, source)
    assert blocked.exit_code == 3 and "lock" in blocked.stderr and "other-host" in blocked.stderr
    assert keys(s3) == ["backups/s32s-lock.json"]
    pruned = run(cli, s3_server, "backup", "prune", LOCATION, "--keep-last", "1", "--yes")
    assert pruned.exit_code == 3
    broken = create(cli, s3_server, source, "--break-lock")
    assert broken.exit_code == 0, broken.output
    assert "backups/s32s-lock.json" not in keys(s3)


def test_a_create_holding_the_lock_on_this_machine_refuses_another(
    cli, s3_server, s3, source
) -> None:
    from s32s.backup.location import BackupLocation
    from s32s.backup.lock import location_lock
    from s32s.paths import parse_s3_url

    location = BackupLocation(parse_s3_url(LOCATION), s3, s3_server.url)
    with location_lock(location, "test") as warnings:
        blocked = create(cli, s3_server, source)
        assert blocked.exit_code == 3 and "already writing" in blocked.stderr
    assert keys(s3) == []
    if s3_server.name == "moto":
        assert warnings == []  # moto refuses a second conditional PUT: no warning
    else:
        assert "conditional writes" in warnings[0]


def test_snapshots_take_the_object_options_and_archived_files_are_restored_first(
    cli, s3_server, s3, source, tmp_path
) -> None:
    made = create(cli, s3_server, source, "--storage-class", "glacier")
    assert made.exit_code == 0, made.output
    snapshot = made.json["snapshot"]
    head = s3.head_object(Bucket=BUCKET, Key=f"backups/{snapshot}/f0.txt")
    assert head["ContentType"] == "text/plain"
    target = tmp_path / "restored"

    def restore(*extra: str) -> Any:
        return run(
            cli, s3_server, "--json", "backup", "restore", LOCATION, "latest", str(target), *extra
        )

    if s3_server.name != "moto":  # rclone's server keeps no storage class: nothing is archived
        assert restore().exit_code == 0 and (target / "f0.txt").read_text() == "file 0"
        return
    assert head["StorageClass"] == "GLACIER"
    first = restore("--restore-archived", "2")
    assert first.exit_code == 1
    archived = {item["path"]: item["reason"] for item in first.json["maps"][0]["archived"]}
    assert set(archived) == {"f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt", "sub/deep.txt"}
    assert all("restore requested for 2 days" in reason for reason in archived.values())
    assert not (target / "f0.txt").exists()
    again = restore()  # moto restores at once
    assert again.exit_code == 0, again.output
    assert (target / "sub" / "deep.txt").read_text() == "deep"


def test_backup_create_refuses_skip_archived(cli, s3_server, s3, source) -> None:
    result = create(cli, s3_server, source, "--skip-archived")
    assert result.exit_code == 2 and "a snapshot holds every file" in result.output
    assert keys(s3) == []
