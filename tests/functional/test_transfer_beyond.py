"""`transfer run --from-inventory`, `--snowball-batch`, `--engine batch --dry-run` and
`sync --snowball-batch`, called as a user types them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.functional.test_transfer import keys, write_config
from tests.s3servers import BOTH_SERVERS
from tests.unit.test_inventory import inventory_row, write_report


@pytest.fixture
def source(server: Any) -> Any:
    import boto3

    s3_http = boto3.client("s3", region_name="us-east-1", endpoint_url=server.url)
    for name in ("src-bkt", "dst-bkt", "log-bkt"):
        s3_http.create_bucket(Bucket=name)
    for index in range(6):
        s3_http.put_object(Bucket="src-bkt", Key=f"data/obj{index}", Body=b"o" * (index + 1))
    return s3_http


@BOTH_SERVERS
def test_inventory_is_the_source_listing(cli, source, server, tmp_path: Path) -> None:
    s3 = source
    listed = []
    for index in range(5):  # obj5 was written after the report: not seen
        head = s3.head_object(Bucket="src-bkt", Key=f"data/obj{index}")
        listed.append(inventory_row(f"data/obj{index}", index + 1, head["ETag"].strip('"')))
    url = write_report(s3, [listed[:2], listed[2:]])
    config = write_config(tmp_path / "t.yaml", server.url)
    result = cli("transfer", "run", str(config), "--from-inventory", url)
    assert result.exit_code == 0, result.output
    assert "inventory report" in result.stderr and "min ago" in result.stderr
    assert keys(s3, "dst-bkt") == [f"copy/obj{index}" for index in range(5)]
    log = json.loads(next((tmp_path / "logs").glob("dt_data_*.json")).read_text())
    assert log["inventory"]["manifest"] == url.replace("s3://", "s3://", 1)
    assert len(log["objects_moved"]) == 5 and log["status"] == "Completed"


def test_inventory_of_another_bucket_is_refused(cli, source, server, tmp_path: Path) -> None:
    url = write_report(source, [[inventory_row("data/obj0", 1, "e")]])
    config = write_config(tmp_path / "t.yaml", server.url, src={"bucket": "dst-bkt"})
    result = cli("transfer", "run", str(config), "--from-inventory", url)
    assert result.exit_code == 2
    assert "lists bucket 'src-bkt'" in result.stderr
    assert keys(source, "src-bkt", "copy/") == []


def test_snowball_batch_transfer_logs_each_files_archive(
    cli, source, server, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "t.yaml", server.url, dst={"region": "snow"})
    result = cli("transfer", "run", str(config), "--snowball-batch")
    assert result.exit_code == 0, result.output
    tars = [key for key in keys(source, "dst-bkt") if key.endswith(".tar")]
    assert len(tars) == 1
    log = json.loads(next((tmp_path / "logs").glob("dt_data_*.json")).read_text())
    assert {entry["archive"] for entry in log["objects_moved"]} == {tars[0]}
    assert len(log["objects_moved"]) == 6


def test_snowball_batch_needs_a_snow_destination(cli, source, server, tmp_path: Path) -> None:
    config = write_config(tmp_path / "t.yaml", server.url)
    result = cli("transfer", "run", str(config), "--snowball-batch")
    assert result.exit_code == 2 and "region: snow" in result.output


def test_sync_snowball_batch(cli, s3_http, moto_server, tmp_path: Path) -> None:
    s3_http.create_bucket(Bucket="snow-bkt")
    folder = tmp_path / "site"
    (folder / "d").mkdir(parents=True)
    for name in ("a.txt", "d/b.txt"):
        (folder / name).write_text(f"content of {name}")
    args = ("--json", "--region", "snow", "--endpoint-url", moto_server.url, "sync")
    result = cli(*args, str(folder), "s3://snow-bkt/site", "--snowball-batch")
    assert result.exit_code == 0, result.output
    ((archive, files),) = result.json["archives"].items()
    assert archive.startswith("site/.s32s-snowball/") and files == ["a.txt", "d/b.txt"]
    again = cli(*args, str(folder), "s3://snow-bkt/site", "--snowball-batch")
    assert again.json["maps"][0]["copied"] == 0
    refused = cli("sync", str(folder), "s3://snow-bkt/site", "--snowball-batch")
    assert refused.exit_code == 2 and "--region snow" in refused.output


def test_batch_options_belong_to_the_batch_engine(cli, tmp_path: Path) -> None:
    result = cli("transfer", "run", str(tmp_path / "none.yaml"), "--wait")
    assert result.exit_code == 2 and "--engine batch" in result.output


def aws_config(path: Path, **src: Any) -> Path:
    import yaml

    config = {
        "src": {"bucket": "src-bkt", "bucket_prefix": "data/", **src},
        "dst": {"bucket": "dst-bkt", "bucket_prefix": "data/"},
        "log": {"local_directory": str(path.parent / "logs"), "bucket": "log-bkt"},
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def aws() -> Any:
    """moto in-process: S3 and STS answer without an endpoint, as AWS would."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for name in ("src-bkt", "dst-bkt", "log-bkt"):
            s3.create_bucket(Bucket=name)
        for key in ("data/a.txt", "data/b c.txt", "data/d,e.txt"):
            s3.put_object(Bucket="src-bkt", Key=key, Body=key.encode())
        s3.put_object(Bucket="dst-bkt", Key="data/a.txt", Body=b"data/a.txt")
        yield s3


def test_batch_dry_run_shows_manifest_and_job(cli, aws, tmp_path: Path) -> None:
    config = aws_config(tmp_path / "t.yaml")
    result = cli("transfer", "run", str(config), "--engine", "batch", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "src-bkt,data/b%20c.txt" in result.stdout and "src-bkt,data/d%2Ce.txt" in result.stdout
    assert "data/a.txt" not in result.stdout.split("Role")[0]  # already in place
    assert '"S3PutObjectCopy"' in result.stdout and '"ClientRequestToken"' in result.stdout
    assert "arn:aws:iam::123456789012:role/s32s-batch-" in result.stdout
    assert aws.list_objects_v2(Bucket="log-bkt").get("KeyCount", 0) == 0
    as_json = cli("--json", "transfer", "run", str(config), "--engine", "batch", "--dry-run")
    document = as_json.json
    assert document["tasks"] == 2 and document["job_id"] is None
    assert document["job_request"]["Manifest"]["Spec"]["Format"] == "S3BatchOperations_CSV_20180820"


def test_batch_refuses_an_s3_compatible_endpoint_before_anything(cli, aws, tmp_path: Path) -> None:
    config = aws_config(tmp_path / "t.yaml", endpoint_urls=["http://10.0.0.1:8080"])
    result = cli("transfer", "run", str(config), "--engine", "batch")
    assert result.exit_code == 2
    assert "S3-compatible endpoint" in result.stderr and "local engine" in result.stderr
    assert aws.list_objects_v2(Bucket="log-bkt").get("KeyCount", 0) == 0
    assert not (tmp_path / "logs").exists()


def test_batch_wait_reads_the_report_and_exits_like_a_transfer(
    cli, aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from s32s.transfers.batch import role_name
    from s32s.transfers.batch_run import BatchClients, batch_sides
    from s32s.transfers.config import load_transfer_config
    from tests.unit.test_batch import (
        JOB_ID,
        Stubs,
        identity,
        job_answer,
        manifest_text,
        role_answer,
        write_completion_report,
    )

    config = aws_config(tmp_path / "t.yaml")
    text = manifest_text(["data/b c.txt", "data/d,e.txt"])
    prefix = f"batch/{hashlib.md5(text.encode()).hexdigest()[:16]}"
    write_completion_report(aws, prefix, succeeded=["data/b c.txt"], failed=["data/d,e.txt"])
    role = role_name(batch_sides(load_transfer_config(config)))
    stubs = Stubs()
    stubs["sts"].add_response("get_caller_identity", identity())
    stubs["iam"].add_client_error("get_role", "NoSuchEntity", "not found", 404)
    stubs["iam"].add_response("create_role", role_answer(role))
    stubs["iam"].add_response("put_role_policy", {})
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    stubs["s3control"].add_response("describe_job", job_answer("Complete", 1, 1, total=2))
    monkeypatch.setattr(
        BatchClients, "for_config", classmethod(lambda cls, c, b: stubs.clients(aws))
    )

    result = cli("--json", "transfer", "run", str(config), "--engine", "batch", "--wait")
    stubs.done()
    assert result.exit_code == 1, result.output
    document = result.json
    assert document["job_id"] == JOB_ID and document["job_status"] == "Complete"
    assert document["role_created"] and document["role_arn"].endswith(role)
    failed = document["report"]["failed"]
    assert failed == [{"path": "d,e.txt", "reason": "AccessDenied: Access Denied"}]
    log = json.loads(Path(document["log"]).read_text())
    assert log["status"] == "Failed" and log["failed_objects"] == {
        "data/d,e.txt": "AccessDenied: Access Denied"
    }
    assert [entry["engine"] for entry in log["objects_moved"]] == ["batch"]
    manifest = aws.get_object(Bucket="log-bkt", Key=f"{prefix}/manifest.csv")["Body"].read()
    assert manifest.decode() == text


def test_batch_job_writes_the_storage_class_and_keeps_content_types(
    cli, aws, tmp_path: Path
) -> None:
    config = aws_config(tmp_path / "t.yaml")
    result = cli(
        "--json",
        "transfer",
        "run",
        str(config),
        "--engine",
        "batch",
        "--dry-run",
        "--storage-class",
        "standard_ia",
    )
    assert result.exit_code == 0, result.output
    copy = result.json["job_request"]["Operation"]["S3PutObjectCopy"]
    assert copy["StorageClass"] == "STANDARD_IA"
    assert copy["MetadataDirective"] == "COPY"  # the source's Content-Type and mtime come along


@pytest.mark.parametrize(
    ("options", "reason"),
    [(["--sse", "aws:kms"], "server-side encryption"), (["--sse-c-key-file", "KEY"], "SSE-C")],
)
def test_batch_refuses_encryption_it_cannot_give_a_job(
    cli, aws, tmp_path: Path, options: list[str], reason: str
) -> None:
    key = tmp_path / "key.bin"
    key.write_bytes(bytes(32))
    key.chmod(0o600)
    config = aws_config(tmp_path / "t.yaml")
    arguments = [str(key) if option == "KEY" else option for option in options]
    result = cli("transfer", "run", str(config), "--engine", "batch", *arguments)
    assert result.exit_code == 2
    assert reason in result.stderr and "local engine" in result.stderr
    assert aws.list_objects_v2(Bucket="log-bkt").get("KeyCount", 0) == 0
