"""`s32s logs list|show` as a user types them, over a folder and a moto S3 prefix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s32s.transfers.log import LogSide, LogWriter, TransferLog
from tests.helpers import run_executable


def write_run(directory: Path, epoch: int, *, moved: int, failed: int = 0) -> Path:
    """A finished run written by the real writer."""
    log = TransferLog(
        src=LogSide("src", "data/"),
        dst=LogSide("dst", "copy/"),
        max_workers=4,
        start_time_epoch=epoch,
        clock=lambda: epoch + 30.0,  # only finish() reads it
    )
    writer = LogWriter(log, directory, background=False)
    with writer:
        log.set_initial(synced_objects=0, unsynced_objects=moved + failed, total_bytes_to_move=0)
        for number in range(moved):
            log.record_moved(f"data/f{number}", f"copy/f{number}", 1024, epoch, epoch + 1)
        for number in range(failed):
            log.record_failed(f"data/bad{number}", "Access denied.")
    assert writer.path is not None
    return writer.path


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    write_run(directory, 1_700_000_000, moved=3)
    write_run(directory, 1_700_000_100, moved=1, failed=1)
    write_run(directory, 1_700_000_200, moved=2)
    return directory


def test_list_table(cli, log_dir: Path) -> None:
    result = cli("logs", "list", "--dir", str(log_dir))
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "1700000" in line]
    assert [line.split("│")[1].strip() for line in lines] == [
        "1700000000",
        "1700000100",
        "1700000200",
    ]
    assert "2023-11-14 22:13:20 UTC" in lines[0]
    assert "Failed" in lines[1] and "Completed" in lines[0]
    assert "3.0 KiB" in lines[0]


def test_list_json_with_range(cli, log_dir: Path) -> None:
    result = cli("--json", "logs", "list", "--dir", str(log_dir), "--start", "1700000050")
    assert result.exit_code == 0, result.output
    logs = result.json["logs"]
    assert [item["epoch"] for item in logs] == [1_700_000_100, 1_700_000_200]
    assert logs[0] == {
        "epoch": 1_700_000_100,
        "start_time": "2023-11-14 22:15:00 UTC",
        "status": "Failed",
        "objects_moved": 1,
        "failed_objects": 1,
        "bytes_transferred": 1024,
        "completion_percentage": 50.0,
        "total_duration_seconds": 30.0,
    }
    ended = cli("--json", "logs", "list", "--dir", str(log_dir), "--end", "1700000000")
    assert [item["epoch"] for item in ended.json["logs"]] == [1_700_000_000]


def test_list_rejects_reversed_range(cli, log_dir: Path) -> None:
    result = cli("logs", "list", "--dir", str(log_dir), "--start", "5", "--end", "4")
    assert result.exit_code == 2
    assert "--start (5) is after --end (4)" in result.stderr


def test_list_skips_a_broken_file_with_a_warning(cli, log_dir: Path) -> None:
    (log_dir / "dt_data_1700000300.json").write_text("{broken")
    result = cli("--json", "logs", "list", "--dir", str(log_dir))
    assert result.exit_code == 0
    assert len(result.json["logs"]) == 3
    assert "dt_data_1700000300.json is not valid JSON" in result.stderr


def test_list_missing_folder(cli, tmp_path: Path) -> None:
    result = cli("logs", "list", "--dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "The log folder" in result.stderr and "does not exist" in result.stderr


def test_list_defaults_to_logs_folder(log_dir: Path) -> None:
    result = run_executable(["--json", "logs", "list"], cwd=str(log_dir.parent))
    assert result.exit_code == 0, result.output
    assert len(result.json["logs"]) == 3


def test_dir_and_s3_are_exclusive(cli, log_dir: Path) -> None:
    result = cli("logs", "list", "--dir", str(log_dir), "--s3", "bkt/x")
    assert result.exit_code == 2
    assert "--dir or --s3, not both" in result.stderr


def test_show_latest_and_objects(cli, log_dir: Path) -> None:
    result = cli("logs", "show", "latest", "--dir", str(log_dir), "--objects")
    assert result.exit_code == 0, result.output
    assert "1700000200 (2023-11-14 22:16:40 UTC)" in result.stdout
    assert "copy/f1" in result.stdout
    assert "2048 (2.0 KiB)" in result.stdout
    plain = cli("logs", "show", "1700000100", "--dir", str(log_dir))
    assert "data/bad0" in plain.stdout and "Access denied." in plain.stdout
    assert "copy/f0" not in plain.stdout


def test_show_json(cli, log_dir: Path) -> None:
    short = cli("--json", "logs", "show", "1700000000", "--dir", str(log_dir)).json
    assert "objects_moved" not in short and short["objects_moved_count"] == 3
    full = cli("--json", "logs", "show", "1700000000", "--dir", str(log_dir), "--objects").json
    assert [item["src_key"] for item in full["objects_moved"]] == ["data/f0", "data/f1", "data/f2"]
    assert full == json.loads((log_dir / "dt_data_1700000000.json").read_text())


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("1699999999", "There is no transfer log dt_data_1699999999.json"),
        ("yesterday", "is not a whole number of seconds"),
    ],
)
def test_show_errors(cli, log_dir: Path, which: str, message: str) -> None:
    result = cli("logs", "show", which, "--dir", str(log_dir))
    assert result.exit_code == 2
    assert message in result.stderr


def test_show_malformed_file(cli, tmp_path: Path) -> None:
    (tmp_path / "dt_data_7.json").write_text("not json")
    result = cli("logs", "show", "7", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "dt_data_7.json is not valid JSON" in result.stderr


def test_latest_in_empty_folder(cli, tmp_path: Path) -> None:
    result = cli("logs", "show", "latest", "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert "There is no transfer log in" in result.stderr


def test_logs_from_s3_prefix(cli, s3_http, moto_server, log_dir: Path) -> None:
    s3_http.create_bucket(Bucket="logbucket")
    for path in log_dir.iterdir():
        s3_http.put_object(Bucket="logbucket", Key=f"runs/{path.name}", Body=path.read_bytes())
    base = ["--json", "--endpoint-url", moto_server.url, "logs"]
    listed = cli(*base, "list", "--s3", "s3://logbucket/runs", "--end", "1700000100")
    assert listed.exit_code == 0, listed.output
    assert [item["epoch"] for item in listed.json["logs"]] == [1_700_000_000, 1_700_000_100]
    shown = cli(*base, "show", "latest", "--s3", "logbucket/runs")
    assert shown.json["start_time_epoch"] == 1_700_000_200
    missing = cli(*base, "list", "--s3", "nobucket/runs")
    assert missing.exit_code == 2
    assert "'nobucket' does not exist" in missing.stderr
