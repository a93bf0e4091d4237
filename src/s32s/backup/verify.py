"""`backup check`: prove snapshots whole against their manifests.

Each file the manifest names must be in the snapshot folder with the size and
ETag recorded (one LIST per snapshot); `read_data` also downloads every file
and hashes it the way its ETag was made. Objects in the folder that the
manifest does not name are warnings: the snapshot still holds what it promised.
"""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from s32s.backup.create import open_location
from s32s.backup.location import BackupLocation, Snapshot, Status
from s32s.backup.manifest import MANIFEST_NAME, Manifest
from s32s.errors import ConfigError, ExitCode
from s32s.maps.runner import StoreFactory
from s32s.sync.checksum import StreamEtag
from s32s.sync.concurrency import DEFAULT_START
from s32s.sync.execute import describe_failure


@dataclass
class SnapshotCheck:
    name: str
    status: str
    files: int = 0
    bytes_read: int = 0
    problems: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshot": self.name,
            "status": self.status,
            "files": self.files,
            "bytes_read": self.bytes_read,
            "ok": not self.problems,
            "problems": [{"path": k, "reason": v} for k, v in sorted(self.problems.items())],
            "warnings": self.warnings,
        }


@dataclass
class CheckReport:
    location: str
    read_data: bool
    snapshots: list[SnapshotCheck] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.PARTIAL_FAILURE if any(s.problems for s in self.snapshots) else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "location": self.location,
            "read_data": self.read_data,
            "snapshots": [s.to_dict() for s in self.snapshots],
            "exit_code": int(self.exit_code),
        }


def check_backup(
    location_text: str,
    stores: StoreFactory,
    snapshot: str | None = None,
    *,
    all_snapshots: bool = False,
    read_data: bool = False,
    workers: int | None = None,
) -> CheckReport:
    """Check one snapshot (default: the newest complete one) or all of them."""
    location = open_location(location_text, stores)
    if all_snapshots:
        chosen = location.snapshots()
        if not chosen:
            raise ConfigError(f"{location.url} holds no snapshot to check.")
    else:
        chosen = [location.resolve(snapshot or "latest")]
    report = CheckReport(str(location), read_data)
    for item in chosen:
        report.snapshots.append(
            _check_one(location, item, read_data, workers, named=not all_snapshots)
        )
    return report


def _check_one(
    location: BackupLocation,
    snapshot: Snapshot,
    read_data: bool,
    workers: int | None,
    *,
    named: bool,
) -> SnapshotCheck:
    result = SnapshotCheck(snapshot.name, snapshot.status.value)
    if snapshot.status is Status.DAMAGED:
        result.problems[MANIFEST_NAME] = snapshot.problem or "the manifest cannot be read"
        return result
    if snapshot.manifest is None:
        message = "unfinished: the snapshot has no manifest, so nothing proves it whole"
        if named:
            result.problems[MANIFEST_NAME] = message
        else:
            result.warnings.append(message)
        return result
    manifest: Manifest = snapshot.manifest
    prefix = f"{location.prefix}{snapshot.name}/"
    listed = {
        item["Key"][len(prefix) :]: item
        for item in location.objects(snapshot.name)
        if not item["Key"].endswith("/")
    }
    result.files = len(manifest.files)
    for key, record in sorted(manifest.files.items()):
        item = listed.get(key)
        if item is None:
            result.problems[key] = "missing from the snapshot"
            continue
        size, etag = int(item.get("Size", 0)), str(item.get("ETag", "")).strip('"')
        if size != record.size:
            result.problems[key] = f"size is {size}, the manifest says {record.size}"
        elif record.etag and etag and etag != record.etag:
            result.problems[key] = f"ETag is {etag}, the manifest says {record.etag}"
    extra = sorted(set(listed) - set(manifest.files) - {MANIFEST_NAME})
    if extra:
        result.warnings.append(
            f"{len(extra)} object(s) not named by the manifest: {', '.join(extra[:5])}"
        )
    if read_data:
        candidates = [k for k in sorted(manifest.files) if k not in result.problems]
        with ThreadPoolExecutor(max_workers=workers or DEFAULT_START) as pool:
            for key, (problem, read) in zip(
                candidates,
                pool.map(
                    lambda k: _read_and_hash(
                        location, prefix + k, manifest.files[k].size, manifest.files[k].etag
                    ),
                    candidates,
                ),
                strict=True,
            ):
                result.bytes_read += read
                if problem:
                    result.problems[key] = problem
    return result


def _read_and_hash(
    location: BackupLocation, key: str, size: int, etag: str | None
) -> tuple[str | None, int]:
    """(problem or None, bytes read) for one object's content against its recorded ETag."""
    hasher = StreamEtag(size, etag)
    read = 0
    try:
        body = location.client.get_object(Bucket=location.url.bucket, Key=key)["Body"]
        with contextlib.closing(body):
            for chunk in body.iter_chunks(1024 * 1024):
                hasher.update(chunk)
                read += len(chunk)
    except Exception as exc:
        return f"cannot be read: {describe_failure(exc)}", read
    if read != size:
        return f"{read} bytes read, the manifest says {size}", read
    if etag and not hasher.matches():
        return "content does not match the recorded ETag", read
    return None, read
