"""`setup`: unlock, profile, configure, in that order, stopping at the first failure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s32s.errors import S32SError


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], Any]


def run_steps(
    steps: list[Step], *, on_start: Callable[[int, Step], None] | None = None
) -> dict[str, Any]:
    """Run `steps` in order; return each step's result by name.

    A failure is re-raised as the same kind of error (so the exit code is
    unchanged) with a message that names the step and what was left undone.
    """
    results: dict[str, Any] = {}
    total = len(steps)
    for number, step in enumerate(steps, start=1):
        if on_start is not None:
            on_start(number, step)
        try:
            results[step.name] = step.run()
        except S32SError as exc:
            undone = [s.name for s in steps[number:]]
            rest = f" Not run: {', '.join(undone)}." if undone else ""
            error = type(exc)(
                f"Setup step {number}/{total} ({step.name}) failed: {exc.message}{rest}", exc.hint
            )
            raise error from None
    return results
