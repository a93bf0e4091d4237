"""Waiting for something remote to settle, with an injectable clock and sleep.

DataSync agents and executions, S3 Batch Operations jobs, Snowball Edge
devices and new IAM roles take seconds to hours to settle. Every such wait
goes through `poll` (ask until a condition holds) or `retry` (call until a
passing error stops), so that tests pass a fake clock whose sleep only
advances it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Clock:
    """Time source and sleep; the defaults are the real ones."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


@dataclass
class FakeClock(Clock):
    """A clock for tests: `sleep` advances `now` instead of waiting."""

    current: float = 0.0
    slept: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.now = lambda: self.current
        self.sleep = self._sleep

    def _sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += seconds


class PollTimeout(Exception, Generic[T]):
    """The condition did not hold before the deadline; `last` is the last value seen."""

    def __init__(self, last: T) -> None:
        super().__init__("timed out")
        self.last = last


def poll(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    interval: float,
    timeout: float | None,
    clock: Clock | None = None,
    on_update: Callable[[T], None] | None = None,
) -> T:
    """Call `fetch` every `interval` seconds until `done(value)`; `timeout` None waits forever.

    The last sleep is cut short so that the last look is at the deadline
    itself; PollTimeout carries what that look saw. `on_update` sees every
    value (and may raise to stop the wait early).
    """
    clock = clock or Clock()
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        value = fetch()
        if on_update is not None:
            on_update(value)
        if done(value):
            return value
        if deadline is None:
            clock.sleep(interval)
            continue
        remaining = deadline - clock.now()
        if remaining <= 0:
            raise PollTimeout(value)
        clock.sleep(min(interval, remaining))


def retry(
    action: Callable[[], T],
    *,
    passing: Callable[[Exception], bool],
    interval: float,
    timeout: float,
    clock: Clock | None = None,
) -> T:
    """`action()`, called again every `interval` seconds while it fails with a `passing` error.

    Used where AWS needs time before a change is seen everywhere (a role just
    made). Gives up, raising the last error, when another wait would pass `timeout`.
    """
    clock = clock or Clock()
    deadline = clock.now() + timeout
    while True:
        try:
            return action()
        except Exception as exc:
            if not passing(exc) or clock.now() + interval > deadline:
                raise
            clock.sleep(interval)
