"""The messages: the `s32s.run` message a finished run sends, and reading what a queue holds.

A run message has exactly the fields of DESIGN §3::

    {"event": "s32s.run", "version": 1, "command": "push", "name": "site",
     "source": "/srv/site", "destination": "s3://bucket/site", "status": "ok",
     "copied": 3, "deleted": 0, "failed": 0, "bytes": 5120,
     "started": "2024-01-15T10:30:00Z", "ended": "2024-01-15T10:30:02Z", "log": null}

A queue may also hold S3 Event Notifications (`{"Records": [...]}` with
`ObjectCreated:*` / `ObjectRemoved:*` events, and the `s3:TestEvent` S3 sends
when notifications are set up), and either kind wrapped in an SNS envelope
(`{"Type": "Notification", "Message": "<the JSON above>"}`) when it came
through a topic without raw message delivery. `read_message` turns any of
them into the S3 locations that changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from s32s.errors import ConfigError
from s32s.paths import S3Url, is_s3_url, parse_s3_url

if TYPE_CHECKING:
    from s32s.sync.events import Report

RUN_EVENT = "s32s.run"
VERSION = 1
OK, PARTIAL, FAILED, REFUSED = "ok", "partial", "failed", "refused"
RUN_FIELDS = (
    "event",
    "version",
    "command",
    "name",
    "source",
    "destination",
    "status",
    "copied",
    "deleted",
    "failed",
    "bytes",
    "started",
    "ended",
    "log",
)
S3_CHANGE_EVENTS = ("ObjectCreated:", "ObjectRemoved:")
S3_TEST_EVENT = "s3:TestEvent"
_MAX_ENVELOPES = 3  # S3 → SNS → SQS is two; more is not a message of ours


# --------------------------------------------------------------------------- writing
def iso_utc(epoch: float) -> str:
    """`2024-01-15T10:30:00Z` (whole seconds, UTC)."""
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_status(report: Report) -> str:
    """ok, refused (a safeguard stopped it), failed (nothing done), partial (some items failed)."""
    if report.refused:
        return REFUSED
    if report.failed:
        return PARTIAL if report.copied or report.deleted else FAILED
    return OK


def run_message(
    command: str, report: Report, *, log: str | None = None, status: str | None = None
) -> dict[str, Any]:
    """The `s32s.run` message for a finished run (`status` overrides the one read from `report`)."""
    return {
        "event": RUN_EVENT,
        "version": VERSION,
        "command": command,
        "name": report.name,
        "source": report.source,
        "destination": report.destination,
        "status": status or run_status(report),
        "copied": report.copied,
        "deleted": report.deleted,
        "failed": len(report.failed),
        "bytes": report.bytes_copied,
        "started": iso_utc(report.started_at),
        "ended": iso_utc(report.started_at + report.seconds),
        "log": log,
    }


# --------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Change:
    """Something changed in `bucket`: under `prefix` (a run) or at the object `key` (an S3 event)."""

    bucket: str
    key: str
    whole_prefix: bool

    def concerns(self, location: S3Url) -> bool:
        """True when the change lies in `location` (or, for a run, `location` lies in it)."""
        if self.whole_prefix:
            return location.overlaps(S3Url(self.bucket, self.key))
        return self.bucket == location.bucket and self.key.startswith(location.key_prefix())


@dataclass
class Incoming:
    """What one queue message says.

    `kind` is `run` (an s32s run message), `s3-event` (S3 Event Notification
    records), `s3-test` (S3's test event) or `unknown`. `changes` are the S3
    locations where something changed: they call for a pull. `about` are the
    locations the message concerns, `changes` included: a run that copied and
    deleted nothing, or a test event, is about a place without changing it.
    """

    kind: str
    changes: list[Change] = field(default_factory=list)
    about: list[Change] = field(default_factory=list)
    summary: str = ""

    def changed(self, location: S3Url) -> bool:
        return any(change.concerns(location) for change in self.changes)

    def is_about(self, location: S3Url) -> bool:
        return any(place.concerns(location) for place in self.about)


def read_message(body: str) -> Incoming:
    """Classify a message body; anything that is not ours is `unknown`, never an error."""
    document = _json(body)
    for _ in range(_MAX_ENVELOPES):
        inner = _unwrap_sns(document)
        if inner is None:
            break
        document = inner
    if not isinstance(document, dict):
        return Incoming("unknown", summary="not a JSON object")
    if document.get("event") == RUN_EVENT:
        return _read_run(document)
    if document.get("Event") == S3_TEST_EVENT:
        bucket = document.get("Bucket")
        about = [Change(bucket, "", whole_prefix=True)] if isinstance(bucket, str) else []
        return Incoming("s3-test", about=about, summary=f"S3 test event for bucket {bucket}")
    if isinstance(document.get("Records"), list):
        return _read_s3_records(document["Records"])
    return Incoming("unknown", summary="neither an s32s run message nor an S3 event")


def _json(body: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, TypeError):
        return None


def _unwrap_sns(document: Any) -> Any:
    """The inner message of an SNS envelope, or None when `document` is not one."""
    if (
        isinstance(document, dict)
        and document.get("Type") == "Notification"
        and isinstance(document.get("Message"), str)
    ):
        return _json(document["Message"])
    return None


def _read_run(document: dict[str, Any]) -> Incoming:
    destination = document.get("destination")
    summary = (
        f"{document.get('command', 'run')} {document.get('name', '')!s} → {destination} "
        f"({document.get('status', '?')}, {document.get('copied', '?')} copied, "
        f"{document.get('deleted', '?')} deleted)"
    )
    if not isinstance(destination, str) or not is_s3_url(destination):
        return Incoming("run", summary=summary)  # a pull into a local folder: nothing for us
    try:
        url = parse_s3_url(destination)
    except ConfigError:
        return Incoming("unknown", summary=f"run message with a bad destination {destination!r}")
    place = Change(url.bucket, url.prefix, whole_prefix=True)
    incoming = Incoming("run", about=[place], summary=summary)
    if _count(document.get("copied")) or _count(document.get("deleted")):
        incoming.changes.append(place)
    return incoming


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _read_s3_records(records: list[Any]) -> Incoming:
    incoming = Incoming("s3-event")
    names: list[str] = []
    for record in records:
        if not isinstance(record, dict):
            continue
        event_name = str(record.get("eventName", ""))
        s3 = record.get("s3") if isinstance(record.get("s3"), dict) else {}
        bucket = (s3.get("bucket") or {}).get("name")
        key = (s3.get("object") or {}).get("key")
        if not isinstance(bucket, str) or not isinstance(key, str):
            continue
        # Keys in S3 events are URL-encoded, with `+` for a space.
        change = Change(bucket, unquote_plus(key), whole_prefix=False)
        incoming.about.append(change)
        if event_name.startswith(S3_CHANGE_EVENTS):
            incoming.changes.append(change)
            names.append(event_name)
    if not incoming.changes:
        incoming.summary = "S3 event records without object changes"
    else:
        first = incoming.changes[0]
        more = f" and {len(incoming.changes) - 1} more" if len(incoming.changes) > 1 else ""
        incoming.summary = f"S3 {names[0]} s3://{first.bucket}/{first.key}{more}"
    return incoming
