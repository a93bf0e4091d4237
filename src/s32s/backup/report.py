"""What a backup create did, as a value the CLI renders and the API returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from s32s.errors import ExitCode


@dataclass
class BackupReport:
    location: str
    snapshot: str
    source: str
    base: str | None = None  # the complete snapshot unchanged files were copied from
    dry_run: bool = False
    complete: bool = False
    uploaded: int = 0
    bytes_uploaded: int = 0
    copied: int = 0  # server-side copies from the base snapshot
    bytes_copied: int = 0
    files: int = 0
    bytes: int = 0
    ignored: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    would_upload: list[str] = field(default_factory=list)
    would_copy: list[str] = field(default_factory=list)
    manifest: str | None = None
    started_at: float = field(default_factory=time.time)
    seconds: float = 0.0

    @property
    def exit_code(self) -> ExitCode:
        if self.failed or not (self.complete or self.dry_run):
            return ExitCode.PARTIAL_FAILURE
        return ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "location": self.location,
            "snapshot": self.snapshot,
            "source": self.source,
            "base": self.base,
            "dry_run": self.dry_run,
            "complete": self.complete,
            "files": self.files,
            "bytes": self.bytes,
            "uploaded": self.uploaded,
            "bytes_uploaded": self.bytes_uploaded,
            "copied_server_side": self.copied,
            "bytes_copied_server_side": self.bytes_copied,
            "ignored": self.ignored,
            "failed": [{"path": k, "reason": v} for k, v in sorted(self.failed.items())],
            "warnings": self.warnings,
            "manifest": self.manifest,
            "seconds": round(self.seconds, 3),
            "exit_code": int(self.exit_code),
        }
        if self.dry_run:
            document["would_upload"] = self.would_upload
            document["would_copy_server_side"] = self.would_copy
        return document
