"""A backup location: an S3 prefix holding one folder per snapshot, named by its UTC start time.

`backups/2024-01-15-10-30-00/` is a complete, browsable copy once its manifest
(`s32s-snapshot.json`) is there; a folder without one is unfinished (a create
that failed or is still running). A manifest that cannot be read makes the
snapshot damaged: shown, never trusted, never pruned.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from s32s.aws.clients import error_code
from s32s.backup.manifest import MANIFEST_NAME, Manifest, ManifestError
from s32s.errors import ConfigError
from s32s.paths import S3Url

SNAPSHOT_FORMAT = "%Y-%m-%d-%H-%M-%S"
_SNAPSHOT_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}$")
LATEST = "latest"


class Status(str, Enum):
    COMPLETE = "complete"
    UNFINISHED = "unfinished"
    DAMAGED = "damaged"


def snapshot_time(name: str) -> datetime | None:
    """The UTC time a snapshot folder is named by, or None when the name is not one."""
    if not _SNAPSHOT_NAME.match(name):
        return None
    try:
        return datetime.strptime(name, SNAPSHOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def snapshot_name(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(SNAPSHOT_FORMAT)


@dataclass
class Snapshot:
    name: str
    time: datetime
    status: Status
    manifest: Manifest | None = None
    problem: str | None = None  # why a damaged snapshot is damaged
    files: int = 0
    bytes: int = 0

    @property
    def complete(self) -> bool:
        return self.status is Status.COMPLETE

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "time": self.time.isoformat(),
            "status": self.status.value,
            "complete": self.complete,
            "files": self.files,
            "bytes": self.bytes,
            "source": self.manifest.source if self.manifest else None,
            "host": self.manifest.host if self.manifest else None,
            "ended": self.manifest.ended if self.manifest else None,
            "problem": self.problem,
        }


class BackupLocation:
    """Reads and removes the snapshots below `url` (one S3 client, one endpoint)."""

    def __init__(self, url: S3Url, client: Any, endpoint: str | None = None) -> None:
        self.url = url
        self.client = client
        self.endpoint = endpoint
        self.prefix = url.key_prefix()

    def __str__(self) -> str:
        return str(self.url)

    @property
    def identity(self) -> str:
        return f"backup:{self.endpoint or ''}|{self.url.bucket}|{self.url.prefix}"

    def snapshot_url(self, name: str) -> S3Url:
        return S3Url(self.url.bucket, f"{self.url.prefix}/{name}".strip("/"))

    def manifest_key(self, name: str) -> str:
        return f"{self.prefix}{name}/{MANIFEST_NAME}"

    # reading ---------------------------------------------------------------
    def top_level(self) -> tuple[list[str], list[str]]:
        """(snapshot folder names, other names) directly below the location."""
        snapshots: list[str] = []
        others: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.url.bucket, Prefix=self.prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", ()):
                name = common["Prefix"][len(self.prefix) :].rstrip("/")
                (snapshots if snapshot_time(name) else others).append(name)
            for item in page.get("Contents", ()):
                name = item["Key"][len(self.prefix) :]
                if name and not name.startswith("s32s-lock"):
                    others.append(name)
        return sorted(snapshots), sorted(others)

    def snapshots(self, *, require: bool = True) -> list[Snapshot]:
        """Every snapshot, oldest first, with its status and size.

        `require`: a location that holds other things but no snapshot is not
        a backup location (exit 2), so a mistyped path is never taken for one.
        """
        names, others = self.top_level()
        if require and not names and others:
            raise ConfigError(
                f"{self.url} is not a backup location: it holds {', '.join(others[:3])}"
                f"{' …' if len(others) > 3 else ''} but no snapshot folder (YYYY-MM-DD-HH-MM-SS/).",
                "Check the path; `s32s backup create` writes snapshots into an empty prefix.",
            )
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(self.snapshot, names))

    def snapshot(self, name: str) -> Snapshot:
        moment = snapshot_time(name)
        if moment is None:
            raise ConfigError(
                f"{name!r} is not a snapshot name: snapshots are named YYYY-MM-DD-HH-MM-SS (UTC) or `latest`."
            )
        try:
            manifest = self.read_manifest(name)
        except ManifestError as exc:
            files, size = self._count(name)
            return Snapshot(
                name, moment, Status.DAMAGED, problem=exc.message, files=files, bytes=size
            )
        if manifest is None:
            files, size = self._count(name)
            return Snapshot(name, moment, Status.UNFINISHED, files=files, bytes=size)
        return Snapshot(
            name,
            moment,
            Status.COMPLETE,
            manifest,
            files=len(manifest.files),
            bytes=manifest.total_bytes,
        )

    def read_manifest(self, name: str) -> Manifest | None:
        """The snapshot's manifest; None when it has none; ManifestError when it is unreadable."""
        key = self.manifest_key(name)
        try:
            response = self.client.get_object(Bucket=self.url.bucket, Key=key)
        except Exception as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        with contextlib.closing(response["Body"]) as body:
            text = body.read()
        return Manifest.from_json(text, f"s3://{self.url.bucket}/{key}")

    def objects(self, name: str) -> Iterator[dict[str, Any]]:
        """The raw listing items of one snapshot folder."""
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.url.bucket, Prefix=f"{self.prefix}{name}/"):
            yield from page.get("Contents", ())

    def _count(self, name: str) -> tuple[int, int]:
        files = size = 0
        for item in self.objects(name):
            if not item["Key"].endswith("/"):
                files += 1
                size += int(item.get("Size", 0))
        return files, size

    def resolve(self, wanted: str) -> Snapshot:
        """A snapshot by name, or the newest complete one for `latest`."""
        if wanted.strip().lower() == LATEST:
            snapshots = self.snapshots()
            complete = [s for s in snapshots if s.complete]
            if not complete:
                raise ConfigError(
                    f"{self.url} holds no complete snapshot"
                    + (f" ({len(snapshots)} unfinished or damaged)." if snapshots else "."),
                    "Create one with `s32s backup create SRC LOCATION`, or name a snapshot from `s32s backup list`.",
                )
            return complete[-1]
        names, others = self.top_level()
        if wanted not in names:
            shown = ", ".join(names[-5:]) if names else "none"
            if not names and others:
                self.snapshots()  # raises: not a backup location
            raise ConfigError(
                f"There is no snapshot {wanted!r} in {self.url} (newest: {shown}).",
                "Run `s32s backup list` to see them, or use `latest`.",
            )
        return self.snapshot(wanted)

    # removing --------------------------------------------------------------
    def delete_snapshot(self, name: str) -> list[str]:
        """Remove one snapshot folder, manifest first (a half-removed snapshot is never complete).

        Returns the keys that could not be deleted.
        """
        failures: list[str] = []
        manifest = self.manifest_key(name)
        try:
            self.client.delete_object(Bucket=self.url.bucket, Key=manifest)
        except Exception:
            return [manifest]  # the snapshot stays whole rather than complete with holes
        keys = [item["Key"] for item in self.objects(name) if item["Key"] != manifest]
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            response = self.client.delete_objects(
                Bucket=self.url.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            failures += [error.get("Key", "") for error in response.get("Errors", ())]
        return failures
