"""One writer at a time per backup location: `create` and `prune` hold its lock.

Two locks are taken. On this machine, the engine's destination lock (an OS
file lock that dies with the process). On S3, a lock object
`LOCATION/s32s-lock.json` written with a conditional PUT (`If-None-Match: *`),
which S3 and most compatible servers refuse when the object exists: a second
machine's create gets 412 and is refused (exit 3). Whether the server honours
the condition is probed once per run by a second conditional PUT of the same
key, which must fail; a server that accepts it ignores conditions, and then
only runs on this machine are kept apart (said in the report's warnings).

The lock object is read first, so even a server that ignores conditions
refuses a second run whose start does not race the first one's. A run that
dies leaves the lock object behind; the next run names its holder and is
refused until `--break-lock` is given.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from s32s.aws.clients import error_code
from s32s.backup.location import BackupLocation
from s32s.errors import SafeguardRefused
from s32s.sync.lock import destination_lock

LOCK_NAME = "s32s-lock.json"
_REFUSED_CODES = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _holder(location: BackupLocation, key: str) -> str | None:
    """Who holds the lock object (None when there is none)."""
    try:
        body = location.client.get_object(Bucket=location.url.bucket, Key=key)["Body"]
    except Exception as exc:
        if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise
    with contextlib.closing(body):
        text = body.read()
    try:
        data = json.loads(text)
        return f"{data['command']} on {data['host']}, pid {data['pid']}, since {data['started']}"
    except (ValueError, KeyError, TypeError):
        return "holder unknown"


def _refuse(location: BackupLocation, key: str, holder: str | None) -> SafeguardRefused:
    return SafeguardRefused(
        f"Another s32s run holds the lock of {location} ({holder or 'holder unknown'}).",
        f"Wait for it to finish. If it died, run again with --break-lock "
        f"(or delete s3://{location.url.bucket}/{key}).",
    )


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
        else:
            holder = _holder(location, key)  # servers that ignore conditions still see it here
            if holder is not None:
                raise _refuse(location, key, holder)
        put: dict[str, Any] = {"Bucket": bucket, "Key": key, "Body": body, "IfNoneMatch": "*"}
        try:
            location.client.put_object(**put)
        except Exception as exc:
            if error_code(exc) not in _REFUSED_CODES:
                raise
            raise _refuse(location, key, _holder(location, key)) from None
        try:
            try:
                location.client.put_object(**put)
            except Exception as exc:
                if error_code(exc) not in _REFUSED_CODES:
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
