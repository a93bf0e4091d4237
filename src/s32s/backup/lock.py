"""One writer at a time per backup location: `create` and `prune` hold its lock.

Two locks are taken. On this machine, the engine's destination lock (an OS
file lock that dies with the process). On S3, a lock object
`LOCATION/s32s-lock.json` written with a conditional PUT (`If-None-Match: *`),
which S3 and most compatible servers refuse when the object exists: a second
machine's create gets 412 and is refused (exit 3). Whether the server honours
the condition is probed once per run by a second conditional PUT of the same
key, which must fail; a server that accepts it ignores conditions, and then
only runs on this machine are kept apart (said in the report's warnings).

A run that dies leaves the lock object behind; the next run names its holder
and is refused until `--break-lock` is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from s32s.backup.location import BackupLocation
from s32s.errors import SafeguardRefused
from s32s.sync.lock import destination_lock

LOCK_NAME = "s32s-lock.json"
_REFUSED_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _code(exc: BaseException) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _holder(location: BackupLocation, key: str) -> str:
    with contextlib.suppress(Exception):
        body = location.client.get_object(Bucket=location.url.bucket, Key=key)["Body"]
        with contextlib.closing(body):
            data = json.loads(body.read())
        return f"{data.get('command')} on {data.get('host')}, pid {data.get('pid')}, since {data.get('started')}"
    return "holder unknown"


@contextlib.contextmanager
def location_lock(
    location: BackupLocation, command: str, *, break_lock: bool = False
) -> Iterator[list[str]]:
    """Hold the location's locks; yields the warnings to report (e.g. no conditional writes)."""
    warnings: list[str] = []
    with destination_lock(location.identity, str(location)):
        key = f"{location.prefix}{LOCK_NAME}"
        bucket = location.url.bucket
        body = json.dumps(
            {
                "command": command,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started": datetime.now(UTC).isoformat(timespec="seconds"),
            }
        ).encode()
        if break_lock:
            location.client.delete_object(Bucket=bucket, Key=key)
        put: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body, "IfNoneMatch": "*"}
        try:
            location.client.put_object(**put)
        except Exception as exc:
            if _code(exc) not in _REFUSED_CODES:
                raise
            raise SafeguardRefused(
                f"Another s32s run holds the lock of {location} ({_holder(location, key)}).",
                f"Wait for it to finish. If it died, remove the lock with --break-lock "
                f"(or delete s3://{bucket}/{key}).",
            ) from None
        try:
            try:
                location.client.put_object(**put)
            except Exception as exc:
                if _code(exc) not in _REFUSED_CODES:
                    raise
            else:
                warnings.append(
                    f"{location.endpoint or 'this endpoint'} ignores conditional writes, so only runs "
                    "on this machine are kept from writing to the location at once"
                )
            yield warnings
        finally:
            with contextlib.suppress(Exception):
                location.client.delete_object(Bucket=bucket, Key=key)
