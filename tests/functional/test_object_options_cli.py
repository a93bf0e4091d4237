"""The object options as a user types them: sync, push/pull with path maps, transfer configs, s32s.ini."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

BUCKET = "opts-bkt"


@pytest.fixture
def site(moto_server: Any, s3_http: Any, tmp_path: Path) -> dict[str, Any]:
    s3_http.create_bucket(Bucket=BUCKET)
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "index.html").write_text("<html></html>")
    (folder / "app.js").write_text("let a = 1;")
    return {"url": moto_server.url, "s3": s3_http, "folder": folder, "tmp": tmp_path}


def push_site(cli, site: dict[str, Any], *options: str, config: list[str] | None = None) -> Any:
    """`s32s sync SITE s3://opts-bkt/site OPTIONS...` against the moto server."""
    return cli(
        *(config or []),
        "--endpoint-url",
        site["url"],
        "sync",
        str(site["folder"]),
        f"s3://{BUCKET}/site",
        *options,
    )


def test_sync_writes_with_the_options_given(cli, site) -> None:
    result = push_site(
        cli,
        site,
        "--storage-class",
        "standard_ia",
        "--sse",
        "AES256",
        "--bwlimit",
        "100M",
    )
    assert result.exit_code == 0, result.output
    page = site["s3"].head_object(Bucket=BUCKET, Key="site/index.html")
    script = site["s3"].head_object(Bucket=BUCKET, Key="site/app.js")
    assert (page["ContentType"], script["ContentType"]) == ("text/html", "text/javascript")
    assert page["StorageClass"] == "STANDARD_IA" and page["ServerSideEncryption"] == "AES256"


def test_no_guess_mime_type_leaves_content_type_unset(cli, site) -> None:
    result = push_site(cli, site, "--no-guess-mime-type")
    assert result.exit_code == 0, result.output
    assert (
        site["s3"].head_object(Bucket=BUCKET, Key="site/index.html")["ContentType"] != "text/html"
    )


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--storage-class", "COLD"], "not an S3 storage class"),
        (["--sse", "rot13"], "not a server-side encryption"),
        (["--sse-kms-key-id", "alias/k"], "needs --sse aws:kms"),
        (["--bwlimit", "fast"], "is not a rate"),
        (["--bwlimit", "08:00,2M 7pm,off"], "is not [DAY-]HH:MM,RATE"),
        (["--sse-c-key-file", "/nonexistent/key"], "cannot be read"),
        (["--restore-archived", "0"], "--restore-archived"),
    ],
)
def test_bad_options_exit_2_before_anything_moves(
    cli, site, arguments: list[str], fragment: str
) -> None:
    result = push_site(cli, site, *arguments)
    assert result.exit_code == 2, result.output
    assert fragment in result.output
    assert "Contents" not in site["s3"].list_objects_v2(Bucket=BUCKET)


def test_a_bad_key_file_is_never_quoted(cli, site) -> None:
    key_file = site["tmp"] / "key"
    secret = base64.b64encode(b"s" * 20).decode()
    key_file.write_text(secret)
    result = push_site(cli, site, "--sse-c-key-file", str(key_file))
    assert result.exit_code == 2 and "256-bit key" in result.output
    assert secret not in result.output


def test_pull_lists_archived_objects_and_exits_1_unless_skipped(cli, site) -> None:
    s3 = site["s3"]
    s3.put_object(Bucket=BUCKET, Key="data/live.txt", Body=b"live")
    s3.put_object(Bucket=BUCKET, Key="data/cold.txt", Body=b"cold", StorageClass="GLACIER")
    target = site["tmp"] / "pulled"
    args = ["--endpoint-url", site["url"], "sync", f"s3://{BUCKET}/data", str(target)]
    first = cli(*args)
    assert first.exit_code == 1, first.output
    assert "cold.txt: archived (GLACIER), restore first" in first.stderr
    assert "--skip-archived" in first.stderr
    assert (target / "live.txt").read_bytes() == b"live" and not (target / "cold.txt").exists()
    skipped = cli("--json", *args, "--skip-archived")
    assert skipped.exit_code == 0, skipped.output
    document = skipped.json["maps"][0]
    assert document["archived"] == [
        {"path": "cold.txt", "reason": "archived (GLACIER), restore first"}
    ]
    assert document["failed"] == []
    restored = cli(*args, "--restore-archived", "2")
    assert restored.exit_code == 1 and "restore requested for 2 days" in restored.stderr
    assert cli(*args).exit_code == 0
    assert (target / "cold.txt").read_bytes() == b"cold"


def test_path_map_keys_set_each_maps_objects(cli, site) -> None:
    maps = [
        {
            "name": "archive",
            "s3": f"{BUCKET}/archive",
            "master": str(site["folder"]),
            "storage_class": "deep_archive",
            "sse": "aws:kms",
            "sse_kms_key_id": "alias/archive",
        },
        {"name": "web", "s3": f"{BUCKET}/web", "master": str(site["folder"])},
    ]
    maps_file = site["tmp"] / "maps.json"
    maps_file.write_text(json.dumps(maps))
    base = ["--endpoint-url", site["url"], "master", "push", "--maps", str(maps_file), "--yes"]
    result = cli(*base)
    assert result.exit_code == 0, result.output
    archived = site["s3"].head_object(Bucket=BUCKET, Key="archive/index.html")
    web = site["s3"].head_object(Bucket=BUCKET, Key="web/index.html")
    assert archived["StorageClass"] == "DEEP_ARCHIVE"
    assert archived["SSEKMSKeyId"] == "alias/archive"
    assert web.get("StorageClass", "STANDARD") == "STANDARD" and "SSEKMSKeyId" not in web
    (site["folder"] / "new.css").write_text("p {}")
    flagged = cli(*base, "--storage-class", "STANDARD_IA", "web")
    assert flagged.exit_code == 0, flagged.output
    assert site["s3"].head_object(Bucket=BUCKET, Key="web/new.css")["StorageClass"] == "STANDARD_IA"


def test_a_bad_map_setting_names_the_map_and_key(cli, site) -> None:
    maps_file = site["tmp"] / "maps.json"
    maps_file.write_text(
        json.dumps(
            [{"name": "web", "s3": f"{BUCKET}/web", "master": str(site["folder"]), "sse": "none"}]
        )
    )
    result = cli("--endpoint-url", site["url"], "maps", "validate", "--maps", str(maps_file))
    assert result.exit_code == 2, result.output
    assert "map #0 'web': key 'sse'" in result.output


def test_transfer_dst_keys_and_flags(cli, site) -> None:
    s3 = site["s3"]
    s3.create_bucket(Bucket="opts-dst")
    s3.put_object(Bucket=BUCKET, Key="src/page.html", Body=b"<p>", ContentType="text/html")
    config = {
        "src": {"bucket": BUCKET, "bucket_prefix": "src/", "endpoint_urls": [site["url"]]},
        "dst": {
            "bucket": "opts-dst",
            "bucket_prefix": "copy/",
            "endpoint_urls": [site["url"]],
            "storage_class": "GLACIER_IR",
            "sse": "AES256",
        },
        "log": {"local_directory": str(site["tmp"] / "logs")},
    }
    path = site["tmp"] / "transfer.yaml"
    path.write_text(yaml.safe_dump(config))
    result = cli("transfer", "run", str(path), "--bwlimit", "50M")
    assert result.exit_code == 0, result.output
    copied = s3.head_object(Bucket="opts-dst", Key="copy/page.html")
    assert copied["StorageClass"] == "GLACIER_IR" and copied["ServerSideEncryption"] == "AES256"
    assert copied["ContentType"] == "text/html"
    config["dst"]["sse"] = "XOR"
    path.write_text(yaml.safe_dump(config))
    bad = cli("transfer", "run", str(path))
    assert bad.exit_code == 2 and "dst: key 'sse'" in bad.output


def test_ini_bwlimit_is_read_and_checked(cli, site) -> None:
    from s32s.maps.ini import load_config

    ini = site["tmp"] / "s32s.ini"
    ini.write_text("[MAIN]\nismaster = True\nbwlimit = 08:00,2M 19:00,off\n")
    assert load_config(ini).bwlimit is not None
    ini.write_text("[MAIN]\nismaster = True\nbwlimit = 2 megabytes\n")
    result = push_site(cli, site, config=["--config", str(ini)])
    assert result.exit_code == 2
    assert "[MAIN] bwlimit" in result.output and str(ini) in result.output.replace("\n", "")


def test_a_transfer_lists_archived_sources_in_its_log(cli, site) -> None:
    s3 = site["s3"]
    s3.create_bucket(Bucket="opts-dst")
    s3.put_object(Bucket=BUCKET, Key="src/cold.bin", Body=b"c", StorageClass="DEEP_ARCHIVE")
    s3.put_object(Bucket=BUCKET, Key="src/warm.bin", Body=b"w")
    logs = site["tmp"] / "logs"
    config = {
        "src": {"bucket": BUCKET, "bucket_prefix": "src/", "endpoint_urls": [site["url"]]},
        "dst": {"bucket": "opts-dst", "endpoint_urls": [site["url"]]},
        "log": {"local_directory": str(logs)},
    }
    path = site["tmp"] / "transfer.yaml"
    path.write_text(yaml.safe_dump(config))
    result = cli("transfer", "run", str(path))
    assert result.exit_code == 1, result.output
    log = json.loads(next(logs.glob("dt_data_*.json")).read_text())
    assert log["failed_objects"] == {"src/cold.bin": "archived (DEEP_ARCHIVE), restore first"}
    assert [moved["src_key"] for moved in log["objects_moved"]] == ["src/warm.bin"]
    assert cli("transfer", "run", str(path), "--skip-archived").exit_code == 0
