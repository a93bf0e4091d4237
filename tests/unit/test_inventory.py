"""S3 Inventory reports as a source listing: a report in the documented layout
(manifest.json + gzip CSV files) written to a moto bucket, then read back."""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import json
import time
from typing import Any
from urllib.parse import quote_plus

import pytest

from s32s.errors import AwsError, ConfigError
from s32s.paths import S3Url
from s32s.sync.s3 import S3Store
from s32s.transfers.inventory import (
    InventoryStore,
    inventory_source,
    iter_rows,
    parse_manifest,
    read_manifest,
)

SCHEMA = "Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size, LastModifiedDate, ETag"
REPORT = "inventory/src-bkt/daily/2024-01-15T01-00Z"
HOSTILE = ['data/a,b "quoted".txt', "data/100% sure+more.txt", "data/é space/file.txt"]


def inventory_row(key: str, size: int, etag: str, *, latest: str = "true", marker: str = "false"):
    return [
        "src-bkt",
        quote_plus(key, safe="/"),  # CSV reports URL-encode keys; a space becomes '+'
        "",
        latest,
        marker,
        str(size),
        "2024-01-14T10:00:00.000Z",
        etag,
    ]


def gzip_csv(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    return gzip.compress(text.getvalue().encode("utf-8"))


def write_report(
    s3: Any,
    files: list[list[list[str]]],
    *,
    created_ms: int | None = None,
    schema: str = SCHEMA,
    fmt: str = "CSV",
    corrupt_md5: bool = False,
) -> str:
    """A report as S3 Inventory writes it; returns the manifest's s3:// URL."""
    s3.create_bucket(Bucket="inv-bkt")
    entries = []
    for number, rows in enumerate(files):
        body = gzip_csv(rows)
        key = f"inventory/src-bkt/daily/data/{number:04d}.csv.gz"
        s3.put_object(Bucket="inv-bkt", Key=key, Body=body)
        md5 = hashlib.md5(body).hexdigest()
        entries.append(
            {"key": key, "size": len(body), "MD5checksum": "0" * 32 if corrupt_md5 else md5}
        )
    manifest = {
        "sourceBucket": "src-bkt",
        "destinationBucket": "arn:aws:s3:::inv-bkt",
        "version": "2016-11-30",
        "creationTimestamp": str(created_ms if created_ms is not None else int(time.time() * 1000)),
        "fileFormat": fmt,
        "fileSchema": schema,
        "files": entries,
    }
    s3.put_object(Bucket="inv-bkt", Key=f"{REPORT}/manifest.json", Body=json.dumps(manifest))
    return f"s3://inv-bkt/{REPORT}/manifest.json"


@pytest.fixture
def report(mock_s3: Any) -> str:
    rows = [inventory_row(key, 10 + n, f"etag{n}") for n, key in enumerate(HOSTILE)]
    rows.append(inventory_row("data/old-version", 5, "old", latest="false"))
    rows.append(inventory_row("data/deleted", 0, "", marker="true"))
    rows.append(inventory_row("other/outside-prefix", 7, "x"))
    rows.append(inventory_row("data/folder/", 0, "d41d8cd98f00b204e9800998ecf8427e"))
    second = [inventory_row(f"data/bulk/{n:03d}", n, f"e{n}") for n in range(50)]
    return write_report(mock_s3, [rows, second], created_ms=1_705_280_400_000)


def test_rows_decode_hostile_keys_and_skip_old_versions(mock_s3: Any, report: str) -> None:
    manifest = read_manifest(mock_s3, report)
    rows = list(iter_rows(mock_s3, manifest, "data/"))
    keys = [row.key for row in rows]
    assert keys[:3] == HOSTILE
    assert "data/old-version" not in keys and "data/deleted" not in keys
    assert "other/outside-prefix" not in keys
    assert len([k for k in keys if k.startswith("data/bulk/")]) == 50
    first = rows[0]
    assert (first.size, first.etag) == (10, "etag0")
    assert first.last_modified is not None and first.last_modified.year == 2024


def test_store_lists_entries_relative_to_the_prefix(mock_s3: Any, report: str) -> None:
    source = S3Store(S3Url("src-bkt", "data"), mock_s3)
    store = inventory_source(report, source, mock_s3)
    listings: list[str] = []
    mock_s3.meta.events.register(
        "before-call.s3.ListObjectsV2", lambda **_: listings.append("LIST")
    )
    entries = {entry.key: entry for entry in store.list()}
    assert entries['a,b "quoted".txt'].size == 10
    assert entries["100% sure+more.txt"].etag == "etag1"
    assert entries["é space/file.txt"].size == 12
    assert entries["folder"].is_dir
    assert len(entries) == 3 + 1 + 50
    assert listings == []  # the inventory, not a LIST, gave the entries
    with contextlib.suppress(mock_s3.exceptions.NoSuchBucket):
        mock_s3.list_objects_v2(Bucket="src-bkt")
    assert listings == ["LIST"]  # (the counter does see a LIST)


def test_age_is_reported(mock_s3: Any, report: str) -> None:
    manifest = read_manifest(mock_s3, report)
    age = manifest.describe_age(now=1_705_280_400 + 26 * 3600 + 5 * 60)
    assert age == "made 2024-01-15 01:00:00 UTC, 1 d 2 h 5 min ago"


def test_damaged_file_is_an_error_not_a_short_listing(mock_s3: Any) -> None:
    url = write_report(mock_s3, [[inventory_row("data/x", 1, "e")]], corrupt_md5=True)
    manifest = read_manifest(mock_s3, url)
    with pytest.raises(AwsError, match="does not match the MD5"):
        list(iter_rows(mock_s3, manifest))


def test_not_gzip_is_a_clear_error(mock_s3: Any) -> None:
    url = write_report(mock_s3, [[inventory_row("data/x", 1, "e")]])
    manifest = read_manifest(mock_s3, url)
    mock_s3.put_object(Bucket="inv-bkt", Key=manifest.files[0].key, Body=b"not gzip at all")
    with pytest.raises(AwsError, match="could not be read"):
        list(iter_rows(mock_s3, manifest))


def test_short_rows_name_the_file_and_row(mock_s3: Any) -> None:
    url = write_report(mock_s3, [[["src-bkt", "data/x"]]])
    with pytest.raises(ConfigError, match="row 1, has 2 column"):
        list(iter_rows(mock_s3, read_manifest(mock_s3, url)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"fileFormat": "Parquet"}, "Parquet format; s32s reads CSV"),
        ({"fileSchema": "Bucket, Key, ETag"}, "lacks the column"),
        ({"creationTimestamp": "yesterday"}, "not milliseconds"),
        ({"files": "none"}, "'files' must list"),
    ],
)
def test_bad_manifests_are_refused(change: dict[str, Any], message: str) -> None:
    manifest = {
        "sourceBucket": "src-bkt",
        "creationTimestamp": "1700000000000",
        "fileFormat": "CSV",
        "fileSchema": SCHEMA,
        "files": [],
        **change,
    }
    with pytest.raises(ConfigError, match=message):
        parse_manifest(json.dumps(manifest).encode(), "s3://inv/manifest.json", "inv")


def test_missing_field_and_bad_json() -> None:
    with pytest.raises(ConfigError, match="no 'files'"):
        parse_manifest(b'{"fileFormat": "CSV", "fileSchema": "Key, Size"}', "m", "b")
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse_manifest(b"{", "m", "b")


def test_report_of_another_bucket_is_refused(mock_s3: Any, report: str) -> None:
    manifest = read_manifest(mock_s3, report)
    with pytest.raises(ConfigError, match="lists bucket 'src-bkt'"):
        InventoryStore(manifest, mock_s3, S3Url("other-bkt"), mock_s3)


def test_url_must_name_a_manifest(mock_s3: Any) -> None:
    with pytest.raises(ConfigError, match=r"manifest\.json"):
        read_manifest(mock_s3, "s3://inv-bkt/inventory/")
