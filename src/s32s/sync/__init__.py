"""The sync engine: Store listings → plan → execute → Report.

One engine serves local → S3 (push), S3 → local (pull), S3 → S3 (transfer)
and local → local. It never prints and never prompts: callers render plans,
ask for confirmation and draw progress from the events it sends.

`s32s.sync(source, destination, ...)` is also a call: this package is
callable, so the documented API (`s32s.runs.sync`) and the engine's modules
(`s32s.sync.job`, …) share the one name.
"""

from __future__ import annotations

import sys
import types
from typing import Any


class _CallablePackage(types.ModuleType):
    def __call__(self, source: str, destination: str, **options: Any) -> Any:
        """Sync `source` to `destination`: see `s32s.runs.sync` for the options."""
        from s32s.runs import sync

        return sync(source, destination, **options)


sys.modules[__name__].__class__ = _CallablePackage
