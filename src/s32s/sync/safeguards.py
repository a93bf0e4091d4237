"""Data-safety rules checked before anything moves (DESIGN §5)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from s32s.errors import SafeguardRefused
from s32s.sync.plan import Plan


@dataclass(frozen=True)
class Safeguards:
    allow_empty_source: bool = False
    max_delete: int | None = None  # None: at most half of the destination's files; -1: no cap

    @classmethod
    def parse_max_delete(cls, text: str | None) -> int | None:
        if text is None:
            return None
        if text.strip().lower() == "all":
            return -1
        try:
            value = int(text)
        except ValueError:
            value = -2
        if value < 0:
            raise ValueError("--max-delete takes a whole number of files (0 or more) or `all`")
        return value


def refusals(plan: Plan, guards: Safeguards, *, source_exists: bool) -> list[str]:
    """The reasons this plan must not run; empty when it may."""
    reasons = []
    if (
        plan.dest_files
        and (not source_exists or plan.source_files == 0)
        and not guards.allow_empty_source
    ):
        state = "does not exist" if not source_exists else "is empty"
        reasons.append(
            f"the source {state} but the destination holds {plan.dest_files} file(s): "
            "mirroring it would delete them all (pass --allow-empty-source if that is what you want)"
        )
        return reasons
    deletes = len(plan.deletes)
    if guards.max_delete is None:
        if deletes and deletes * 2 > plan.dest_files:
            reasons.append(
                f"{deletes} of the destination's {plan.dest_files} file(s) would be deleted, more than half "
                "(pass --max-delete N or --max-delete all to allow it)"
            )
    elif guards.max_delete >= 0 and deletes > guards.max_delete:
        reasons.append(
            f"{deletes} file(s) would be deleted, more than --max-delete {guards.max_delete}"
        )
    return reasons


def check_local_destination(
    folder: str,
    role: str = "a slave folder",
    hint: str = "Point the map's `slave` key at a dedicated folder.",
) -> None:
    """Refuse `/`, a drive root or the home folder as a destination that may be mirrored into."""
    normalized = folder.replace("\\", "/").rstrip("/") or "/"
    home = str(Path.home()).replace("\\", "/").rstrip("/")
    resolved = os.path.realpath(folder).replace("\\", "/").rstrip("/") or "/"
    dangerous = (
        normalized == "/"
        or resolved == "/"
        or bool(re.fullmatch(r"[A-Za-z]:", normalized))
        or (normalized.startswith("//") and normalized.count("/") <= 3)
        or normalized == home
        or resolved == home
    )
    if dangerous:
        raise SafeguardRefused(
            f"Refusing to use {folder} as {role}: it is the root, a drive root or your home folder.",
            hint,
        )
