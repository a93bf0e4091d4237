"""The source listing of a transfer read from an S3 Inventory report instead of LIST.

A bucket of hundreds of millions of objects takes hours of ListObjectsV2
requests to list; S3 Inventory writes the same listing once a day (or week)
as gzip CSV files named by a `manifest.json`::

    {"sourceBucket": "b1", "destinationBucket": "arn:aws:s3:::inventory",
     "creationTimestamp": "1700000000000", "fileFormat": "CSV",
     "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
     "files": [{"key": "b1/daily/data/0f3c....csv.gz", "size": 1234, "MD5checksum": "..."}]}

`InventoryStore` is an `S3Store` whose `list()` streams the rows of those
files (one gzip stream at a time, row by row: memory does not grow with the
report) instead of calling LIST; everything else (reading and copying the
objects) is the plain S3 store, so both transfer engines use it unchanged.

What a report cannot know: objects written after it was made are not seen
(the next report, or a run without `--from-inventory`, copies them), and
objects deleted since are still listed (their copy fails as "does not exist").
`InventoryManifest.age_seconds` says how old the report is.

Only the CSV format is read. ORC and Parquet reports would need a columnar
reader (pyarrow, tens of MiB) for a listing the CSV format gives as well;
a report in those formats is refused with the way to get a CSV one.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO
from urllib.parse import unquote_plus

from s32s.errors import AwsError, ConfigError
from s32s.paths import S3Url, parse_s3_url
from s32s.sync.entries import Entry
from s32s.sync.s3 import S3Store

CSV_FORMAT = "CSV"
REQUIRED_COLUMNS = ("Key", "Size")
READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class InventoryFile:
    """One data file the manifest names."""

    key: str
    size: int
    md5: str | None


@dataclass(frozen=True)
class InventoryManifest:
    """A parsed `manifest.json`: where the report's files are and what their columns mean."""

    location: str
    source_bucket: str
    report_bucket: str
    file_format: str
    columns: tuple[str, ...]
    files: tuple[InventoryFile, ...]
    created: float  # epoch seconds

    def age_seconds(self, now: float | None = None) -> float:
        return max((time.time() if now is None else now) - self.created, 0.0)

    def describe_age(self, now: float | None = None) -> str:
        """`made 2024-01-15 10:30:00 UTC, 5 h 12 min ago`."""
        from s32s.transfers.log import format_epoch

        minutes = int(self.age_seconds(now) // 60)
        days, rest = divmod(minutes, 24 * 60)
        hours, minutes = divmod(rest, 60)
        parts = [f"{days} d"] if days else []
        parts += [f"{hours} h"] if hours or days else []
        parts.append(f"{minutes} min")
        return f"made {format_epoch(self.created)}, {' '.join(parts)} ago"


def split_manifest_url(text: str) -> tuple[str, str]:
    """(bucket, key) of `s3://bucket/.../manifest.json`."""
    url = parse_s3_url(text, what="--from-inventory")
    if not url.prefix.endswith("manifest.json"):
        raise ConfigError(
            f"--from-inventory {text!r} does not point at an inventory manifest.json.",
            "Give s3://BUCKET/PREFIX/SOURCE-BUCKET/CONFIG-ID/YYYY-MM-DDTHH-MMZ/manifest.json.",
        )
    return url.bucket, url.prefix


def parse_manifest(raw: bytes, location: str, report_bucket: str) -> InventoryManifest:
    """Validate a `manifest.json` (its data files lie in `report_bucket`, beside it).

    Every problem names the file and the field.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"The inventory manifest {location} is not valid JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise ConfigError(f"The inventory manifest {location} is not a JSON object.")

    def field(name: str) -> Any:
        if name not in data:
            raise ConfigError(
                f"The inventory manifest {location} has no {name!r}.",
                "Point --from-inventory at the manifest.json S3 Inventory wrote.",
            )
        return data[name]

    file_format = str(field("fileFormat"))
    if file_format.upper() != CSV_FORMAT:
        raise ConfigError(
            f"The inventory report {location} is in {file_format} format; s32s reads CSV reports.",
            "Set the inventory configuration's output format to CSV (the next report will be CSV), "
            "or run without --from-inventory.",
        )
    columns = tuple(column.strip() for column in str(field("fileSchema")).split(","))
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        raise ConfigError(
            f"The inventory report {location} lacks the column(s) {', '.join(missing)}.",
            "Add Size (and ETag) to the inventory configuration's optional fields.",
        )
    files = field("files")
    if not isinstance(files, list) or not all(
        isinstance(item, dict) and isinstance(item.get("key"), str) for item in files
    ):
        raise ConfigError(f"The inventory manifest {location}: 'files' must list {{key, ...}}.")
    try:
        created = int(str(field("creationTimestamp"))) / 1000
    except ValueError:
        raise ConfigError(
            f"The inventory manifest {location}: creationTimestamp "
            f"{data['creationTimestamp']!r} is not milliseconds since 1970."
        ) from None
    return InventoryManifest(
        location=location,
        source_bucket=str(field("sourceBucket")),
        report_bucket=report_bucket,
        file_format=file_format,
        columns=columns,
        files=tuple(
            InventoryFile(item["key"], int(item.get("size") or 0), item.get("MD5checksum") or None)
            for item in files
        ),
        created=created,
    )


def read_manifest(client: Any, manifest_url: str) -> InventoryManifest:
    """Fetch and parse the manifest at `s3://bucket/key/manifest.json`."""
    from s32s.aws.clients import aws_errors

    bucket, key = split_manifest_url(manifest_url)
    location = f"s3://{bucket}/{key}"
    with aws_errors(bucket=bucket):
        raw = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    return parse_manifest(raw, location, bucket)


class _CheckedStream:
    """A readable stream that hashes what passes through it (to check a file's MD5)."""

    def __init__(self, body: BinaryIO) -> None:
        self.body = body
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, amount: int = -1) -> bytes:
        data = self.body.read(amount)
        self.md5.update(data)
        return data

    def readable(self) -> bool:
        return True


@dataclass(frozen=True)
class InventoryRow:
    """One object of the report."""

    key: str
    size: int
    etag: str | None
    last_modified: datetime | None


def iter_rows(client: Any, manifest: InventoryManifest, prefix: str = "") -> Iterator[InventoryRow]:
    """Stream every current object under `prefix`, file by file, row by row.

    Keys are URL-encoded in CSV reports (a space may be `+`); they are decoded
    here. Rows of noncurrent versions and delete markers (reports that include
    all versions) are skipped. A file whose MD5 differs from the manifest's is
    an error: the listing would be incomplete.
    """
    from s32s.aws.clients import aws_errors

    index = {name: position for position, name in enumerate(manifest.columns)}
    key_at, size_at = index["Key"], index["Size"]
    etag_at, modified_at = index.get("ETag"), index.get("LastModifiedDate")
    latest_at, marker_at = index.get("IsLatest"), index.get("IsDeleteMarker")
    width = len(manifest.columns)
    for item in manifest.files:
        where = f"s3://{manifest.report_bucket}/{item.key}"
        with aws_errors(bucket=manifest.report_bucket):
            body = client.get_object(Bucket=manifest.report_bucket, Key=item.key)["Body"]
        checked = _CheckedStream(body)
        try:
            with gzip.GzipFile(fileobj=checked, mode="rb") as unzipped:
                for number, row in enumerate(_csv_rows(unzipped), start=1):
                    if len(row) < width:
                        raise ConfigError(
                            f"The inventory file {where}, row {number}, has {len(row)} "
                            f"column(s); the manifest's fileSchema names {width}."
                        )
                    if latest_at is not None and row[latest_at].lower() == "false":
                        continue
                    if marker_at is not None and row[marker_at].lower() == "true":
                        continue
                    key = _decode_key(row[key_at])
                    if not key.startswith(prefix):
                        continue
                    yield InventoryRow(
                        key=key,
                        size=int(row[size_at] or 0),
                        etag=(row[etag_at].strip('"') or None) if etag_at is not None else None,
                        last_modified=_timestamp(row[modified_at])
                        if modified_at is not None
                        else None,
                    )
                checked.read()  # the rest of the body (gzip trailer padding) for the checksum
        except (OSError, EOFError, ValueError, csv.Error) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise AwsError(
                f"The inventory file {where} could not be read ({exc}).",
                "It may be damaged or still being written; use another report or run without "
                "--from-inventory.",
            ) from None
        if item.md5 and checked.md5.hexdigest() != item.md5:
            raise AwsError(
                f"The inventory file {where} does not match the MD5 in its manifest.",
                "It may be damaged or replaced; use another report or run without --from-inventory.",
            )


def _csv_rows(binary: Any) -> Iterator[list[str]]:
    """CSV rows of a UTF-8 byte stream, decoded a chunk at a time."""
    decoder = codecs.getincrementaldecoder("utf-8")()

    def lines() -> Iterator[str]:
        pending = ""
        while True:
            chunk = binary.read(READ_CHUNK)
            text = pending + decoder.decode(chunk, final=not chunk)
            if not chunk:
                if text:
                    yield text
                return
            cut = text.rfind("\n") + 1
            pending = text[cut:]
            if cut:
                yield from text[:cut].splitlines(keepends=True)

    return csv.reader(lines())


def _decode_key(text: str) -> str:
    if "%" in text or "+" in text:
        return unquote_plus(text)
    return text


def _timestamp(text: str) -> datetime | None:
    if not text:
        return None
    from s32s.aws.clients import parse_timestamp

    return parse_timestamp(text)


class InventoryStore(S3Store):
    """The source side of a transfer, listed from an inventory report instead of LIST."""

    def __init__(
        self, manifest: InventoryManifest, report_client: Any, *args: Any, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        if manifest.source_bucket != self.url.bucket:
            raise ConfigError(
                f"The inventory report {manifest.location} lists bucket "
                f"{manifest.source_bucket!r}, not the transfer's source {self.url.bucket!r}.",
                "Give the manifest.json of an inventory of the source bucket.",
            )
        self.manifest = manifest
        self.report_client = report_client

    def __str__(self) -> str:
        return f"{self.url} (inventory)"

    def list(self) -> Iterator[Entry]:
        prefix = self.url.key_prefix()
        for row in iter_rows(self.report_client, self.manifest, prefix):
            item = {"Key": row.key, "Size": row.size, "ETag": row.etag or ""}
            if row.last_modified is not None:
                item["LastModified"] = row.last_modified
            entry = self._entry(item)
            if entry is not None:
                yield entry


def inventory_source(manifest_url: str, source: S3Store, report_client: Any) -> InventoryStore:
    """`source` (an S3 store) listed from the inventory report at `manifest_url`."""
    manifest = read_manifest(report_client, manifest_url)
    return InventoryStore(
        manifest,
        report_client,
        S3Url(source.url.bucket, source.url.prefix),
        source.client,
        cache=source.cache,
        part_pool=source.part_pool,
        endpoint=source.endpoint,
        settings=source.settings,
    )
