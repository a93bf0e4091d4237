"""`s32s transfer run` against S3 servers over HTTP: buckets, endpoints, logs, resume.

Every test runs on moto's server; those marked `BOTH_SERVERS` on rclone's too.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest

from s32s.aws.clients import AwsOptions
from s32s.errors import ConfigError
from s32s.transfers.config import build_job, load_transfer_config
from tests.s3servers import BOTH_SERVERS


def dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"  # nothing listens once closed


@pytest.fixture
def buckets(server: Any) -> Any:
    import boto3

    s3_http = boto3.client("s3", region_name="us-east-1", endpoint_url=server.url)
    for name in ("src-bkt", "dst-bkt", "log-bkt"):
        s3_http.create_bucket(Bucket=name)
    for index in range(20):
        s3_http.put_object(
            Bucket="src-bkt", Key=f"data/obj{index:02d}", Body=f"object {index}".encode() * 50
        )
    return s3_http


def write_config(path: Path, url: str, **overrides: Any) -> Path:
    config = {
        "src": {
            "bucket": "src-bkt",
            "bucket_prefix": "data/",
            "region": "us-east-1",
            "endpoint_urls": [url],
        },
        "dst": {
            "bucket": "dst-bkt",
            "bucket_prefix": "copy/",
            "region": "us-east-1",
            "endpoint_urls": [url],
        },
        "log": {
            "local_directory": str(path.parent / "logs"),
            "bucket": "log-bkt",
            "bucket_prefix": "transfers",
            "endpoint_urls": [url],
        },
        "workers": 4,
    }
    for section, values in overrides.items():
        if values is None:
            config.pop(section)
        elif isinstance(values, dict):
            config[section].update(values)
        else:
            config[section] = values
    import yaml

    path.write_text(yaml.safe_dump(config))
    return path


def keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    )


@BOTH_SERVERS
def test_transfer_copies_logs_and_resumes(cli, buckets, server, tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.yaml", server.url)
    first = cli("--json", "transfer", "run", str(config))
    assert first.exit_code == 0, first.output
    assert first.json["maps"][0]["copied"] == 20 and first.json["status"] == "Completed"
    assert len(keys(buckets, "dst-bkt", "copy/")) == 20
    log_files = list((tmp_path / "logs").glob("dt_data_*.json"))
    assert len(log_files) == 1
    log = json.loads(log_files[0].read_text())
    assert log["status"] == "Completed" and log["initial_unsynced_objects"] == 20
    assert (
        log["completion_percentage"] == 100
        and log["remaining_bytes"] == 0
        and log["failed_objects"] == {}
    )
    assert {m["dst_key"] for m in log["objects_moved"]} == {f"copy/obj{i:02d}" for i in range(20)}
    assert log["src_bucket"] == "src-bkt" and "secret" not in json.dumps(log).lower()
    assert keys(buckets, "log-bkt") == [f"transfers/{log_files[0].name}"]
    buckets.put_object(Bucket="src-bkt", Key="data/obj05", Body=b"changed")
    buckets.put_object(Bucket="src-bkt", Key="data/new", Body=b"new")
    again = cli("--json", "transfer", "run", str(config))
    assert again.json["maps"][0]["copied"] == 2 and again.json["maps"][0]["unchanged"] == 19
    assert buckets.get_object(Bucket="dst-bkt", Key="copy/obj05")["Body"].read() == b"changed"


@BOTH_SERVERS
def test_dead_endpoint_is_rested_and_objects_go_elsewhere(
    cli, buckets, server, tmp_path: Path
) -> None:
    dead = dead_endpoint()
    config = write_config(
        tmp_path / "t.yaml", server.url, dst={"endpoint_urls": [dead, server.url]}
    )
    result = cli("--json", "transfer", "run", str(config))
    assert result.exit_code == 0, result.output
    assert result.json["maps"][0]["copied"] == 20
    assert len(keys(buckets, "dst-bkt", "copy/")) == 20


def test_all_endpoints_down_is_exit_2_naming_them(cli, buckets, server, tmp_path: Path) -> None:
    dead_one, dead_two = dead_endpoint(), dead_endpoint()
    config = write_config(
        tmp_path / "t.yaml", server.url, src={"endpoint_urls": [dead_one, dead_two]}
    )
    result = cli("transfer", "run", str(config))
    assert result.exit_code == 2
    assert dead_one in result.stderr and dead_two in result.stderr


def test_stream_copy_across_credentials_and_dry_run(
    cli, buckets, server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(
        tmp_path / "t.yaml",
        server.url,
        dst={"access_key": "${DST_KEY}", "secret_access_key": "${DST_SECRET}"},
    )
    missing = cli("transfer", "run", str(config))
    assert missing.exit_code == 2 and "DST_KEY is not set" in missing.stderr
    env = {"DST_KEY": "other", "DST_SECRET": "other-secret"}
    dry = cli("--json", "transfer", "run", str(config), "--dry-run", env=env)
    assert dry.exit_code == 0 and len(dry.json["maps"][0]["would_copy"]) == 20
    assert keys(buckets, "dst-bkt") == [] and not (tmp_path / "logs").exists()
    monkeypatch.setenv("DST_KEY", "other")
    monkeypatch.setenv("DST_SECRET", "other-secret")
    job = build_job(load_transfer_config(config), AwsOptions(), None)
    assert job.execute_options.server_side_copy is False
    result = cli("--json", "transfer", "run", str(config), env=env)
    assert result.exit_code == 0 and result.json["maps"][0]["copied"] == 20


def test_object_deleted_between_listing_and_copy(buckets, server, tmp_path: Path) -> None:
    from s32s.sync.events import NullReporter
    from s32s.sync.job import execute, prepare
    from s32s.transfers.config import TransferLogReporter, new_log

    config = load_transfer_config(write_config(tmp_path / "t.yaml", server.url))
    job = build_job(config, AwsOptions(), None)
    prepared = prepare(job)
    buckets.delete_object(Bucket="src-bkt", Key="data/obj03")
    log = new_log(config, 4)
    reporter = TransferLogReporter(log, config.src, config.dst)
    reporter.planned("t", prepared.plan)
    from s32s.sync.events import TeeReporter

    report = execute(prepared, TeeReporter(NullReporter(), reporter))
    assert list(report.failed) == ["obj03"]
    document = log.to_dict()
    assert list(document["failed_objects"]) == ["data/obj03"]
    assert "copy/obj03" not in {m["dst_key"] for m in document["objects_moved"]}
    assert len(document["objects_moved"]) == 19


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"src": None}, "section 'src' is missing"),
        ({"dst": {"bucket": None}}, "dst.bucket is missing"),
        ({"src": {"colour": "red"}}, "unknown key(s) colour"),
        ({"extra": 1}, "unknown section(s) extra"),
        ({"workers": 0}, "workers must be a whole number"),
        ({"src": {"endpoint_urls": ["ftp://x"]}}, "must be a list of http"),
        ({"src": {"access_key": "a"}}, "only one of access_key and secret_access_key"),
    ],
)
def test_bad_configs(cli, tmp_path: Path, overrides: dict[str, Any], fragment: str) -> None:
    config = write_config(tmp_path / "t.yaml", "http://127.0.0.1:9", **overrides)
    result = cli("transfer", "run", str(config))
    assert result.exit_code == 2
    assert fragment in result.stderr and str(config) in result.stderr


def test_malformed_yaml_and_missing_bucket(cli, buckets, server, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("src: {bucket: [\n")
    result = cli("transfer", "run", str(bad))
    assert result.exit_code == 2 and "not valid YAML at line" in result.stderr
    config = write_config(tmp_path / "t.yaml", server.url, dst={"bucket": "no-such-bucket"})
    missing = cli("transfer", "run", str(config))
    assert missing.exit_code == 2 and "no-such-bucket" in missing.stderr


def test_invalid_yaml_is_reported_without_quoting_the_file(cli, tmp_path: Path) -> None:
    config = tmp_path / "t.yaml"
    config.write_text("src:\n  bucket: b\n  secret_key: *Sup3rSecretValue\n")
    result = cli("transfer", "run", str(config))
    assert result.exit_code == 2 and "not valid YAML at line 3, column 15" in result.stderr
    assert "Sup3rSecretValue" not in result.stderr + result.stdout


def test_plaintext_keys_readable_by_others_warn(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX file modes")
    config = write_config(
        tmp_path / "t.yaml",
        "http://127.0.0.1:9",
        src={"access_key": "AKIA", "secret_access_key": "s"},
    )
    config.chmod(0o644)
    assert "readable by others" in load_transfer_config(config).warnings[0]
    config.chmod(0o600)
    assert load_transfer_config(config).warnings == ()


def test_unwritable_log_directory(cli, buckets, server, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    config = write_config(
        tmp_path / "t.yaml", server.url, log={"local_directory": str(blocker / "logs")}
    )
    result = cli("transfer", "run", str(config))
    assert result.exit_code == 2
    assert keys(buckets, "dst-bkt") == []


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_transfer_config(tmp_path / "none.yaml")


@BOTH_SERVERS
def test_interrupted_transfer_logs_what_moved_and_resumes(
    cli, buckets, server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s32s.transfers.config import TransferLogReporter

    config = write_config(tmp_path / "t.yaml", server.url, workers=1)
    real_finished = TransferLogReporter.finished
    calls = []

    def ctrl_c_after_five(self: TransferLogReporter, action: Any, error: str | None) -> None:
        real_finished(self, action, error)
        calls.append(action.key)
        if len(calls) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(TransferLogReporter, "finished", ctrl_c_after_five)
    stopped = cli("transfer", "run", str(config))
    assert stopped.exit_code == 130
    log = json.loads(next((tmp_path / "logs").glob("dt_data_*.json")).read_text())
    moved = {m["dst_key"] for m in log["objects_moved"]}
    assert log["status"] == "Failed" and 5 <= len(moved) < 20  # the one in flight may finish
    assert moved == set(keys(buckets, "dst-bkt", "copy/"))  # the log names exactly what arrived
    monkeypatch.setattr(TransferLogReporter, "finished", real_finished)
    resumed = cli("--json", "transfer", "run", str(config))
    assert resumed.exit_code == 0
    report = resumed.json["maps"][0]
    assert (report["copied"], report["unchanged"]) == (20 - len(moved), len(moved))
