"""s32s: move folders between machines through Amazon S3."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# The Python API, imported on first use so `s32s --help` does not pay for it.
_API = {
    "backup_create": "s32s.backup.api",
    "backup_list": "s32s.backup.api",
    "backup_restore": "s32s.backup.api",
    "backup_prune": "s32s.backup.api",
    "backup_check": "s32s.backup.api",
    "bucket_setup": "s32s.backup.api",
    "check": "s32s.backup.api",
    "sync": "s32s.sync",  # the package is callable: s32s.sync(src, dst, ...)
    "run_maps": "s32s.runs",
    "transfer": "s32s.runs",
    "check_maps": "s32s.runs",
    "batch_transfer": "s32s.transfers.batch_run",  # transfer run --engine batch
    "BatchOptions": "s32s.transfers.batch_run",
    "RunOptions": "s32s.maps.runner",
    "RunHooks": "s32s.sync.session",
}


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 's32s' has no attribute {name!r}")
    import importlib

    imported = importlib.import_module(module)
    return imported if module == f"{__name__}.{name}" else getattr(imported, name)
