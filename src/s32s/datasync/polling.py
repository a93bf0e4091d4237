"""A poll loop with an injectable clock and sleep.

DataSync agents, executions and new IAM roles take seconds to hours to settle;
every wait in this package goes through `poll` so that tests pass a fake clock
and a sleep that only advances it.
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
    """Call `fetch` every `interval` seconds until `done(value)`; `timeout` None waits forever."""
    clock = clock or Clock()
    deadline = None if timeout is None else clock.now() + timeout
    while True:
        value = fetch()
        if on_update is not None:
            on_update(value)
        if done(value):
            return value
        if deadline is not None and clock.now() + interval > deadline:
            raise PollTimeout(value)
        clock.sleep(interval)
