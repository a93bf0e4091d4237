"""Archived objects: GLACIER, DEEP_ARCHIVE and the Intelligent-Tiering archive tiers.

S3 refuses to read such an object until it is restored. s32s does not ask
which objects are archived before it reads: a listing shows GLACIER and
DEEP_ARCHIVE but not whether a copy was restored, and the Intelligent-Tiering
archive tiers show only in a HEAD's ArchiveStatus, which would cost a request
per object on runs where nothing changed. Instead the GET (or the server-side
copy) of an object that has to move is the test: S3 answers
`InvalidObjectState` (`ObjectNotInActiveTierError` for a copy), which costs no
more than a HEAD and only for objects that must move; a restored object is
simply copied. Such an object is not a failed transfer: the run reports it
as "archived, restore first" and, with `--restore-archived DAYS`, asks S3 to
restore it (RestoreObject) so that a later run copies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s32s.aws.clients import error_code
from s32s.sync.entries import Entry

ARCHIVED_ERROR_CODES = frozenset({"InvalidObjectState", "ObjectNotInActiveTierError"})
ARCHIVED_PREFIX = "archived"
TIERED = "INTELLIGENT_TIERING"


@dataclass(frozen=True)
class ArchivedObject:
    """An object S3 keeps in an archive tier, and what was done about it."""

    storage_class: str
    restore: str = ""

    def describe(self) -> str:
        """`archived (GLACIER), restore first`, or what the restore request did."""
        text = f"{ARCHIVED_PREFIX} ({self.storage_class}), "
        return text + (self.restore if self.restore else "restore first")


def is_archived_reason(reason: str | None) -> bool:
    """True for the reason an archived object was not copied (for renderers)."""
    return bool(reason) and str(reason).startswith(f"{ARCHIVED_PREFIX} (")


def archived_object(exc: BaseException, entry: Entry) -> ArchivedObject | None:
    """The archived object `exc` says `entry` is, or None for any other error."""
    if error_code(exc) not in ARCHIVED_ERROR_CODES:
        return None
    error = getattr(exc, "response", {}).get("Error", {})  # InvalidObjectState names the class
    storage_class = str(error.get("StorageClass") or entry.storage_class or "archive tier")
    tier = error.get("AccessTier")
    if tier:
        storage_class = f"{storage_class} {tier}"
    return ArchivedObject(storage_class)


def request_restore(client: Any, bucket: str, key: str, archived: ArchivedObject, days: int) -> str:
    """Ask S3 to restore one object; returns what happened, in words for the report.

    GLACIER and DEEP_ARCHIVE keep a restored copy for `days`; an object of an
    Intelligent-Tiering archive tier moves back to its frequent tier, and S3
    refuses `Days` for it.
    """
    request: dict[str, Any] = (
        {}
        if archived.storage_class.startswith(TIERED)
        else {"Days": days, "GlacierJobParameters": {"Tier": "Standard"}}
    )
    try:
        client.restore_object(Bucket=bucket, Key=key, RestoreRequest=request)
    except Exception as exc:
        if error_code(exc) == "RestoreAlreadyInProgress":
            return "restore already in progress: run again once it is done"
        from s32s.aws.clients import describe_client_error

        detail = describe_client_error(exc) if hasattr(exc, "response") else str(exc)  # type: ignore[arg-type]
        return f"restore first (the restore request failed: {detail})"
    if archived.storage_class.startswith(TIERED):
        return "restore requested: run again once it is back in its frequent tier"
    return f"restore requested for {days} days: run again once it is restored"
