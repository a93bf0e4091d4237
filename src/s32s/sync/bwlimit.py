"""Bandwidth limits: a rate or rclone's timetable, and one token bucket per run.

`--bwlimit` takes what rclone's does:

- a rate: `10M` (MiB/s), `512k`, `1.5G`, `10MB/s`, `10MiB/s`, `2048B`; a bare
  number is KiB/s as in rclone; `off` (or `0`) means no limit;
- a timetable of `[DAY-]HH:MM,RATE` entries separated by spaces, such as
  `"08:00,2M 19:00,off"`. From each time on its rate applies until the next
  entry's time; before the day's first entry the previous day's last one
  holds. Entries with a day (`Mon`…`Sun`) apply on that day only; entries
  without one apply every day. Times are the machine's local time.

Sizes are binary (1M = 1,048,576 bytes), as in rclone and `aws s3`
(`max_bandwidth`). One `BandwidthLimiter` is shared by every transfer of a
run, so the limit holds for all of them together, not per worker. It counts
the bytes s32s reads and writes; server-side copies move no bytes through
s32s and are not limited.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from s32s.errors import ConfigError

if TYPE_CHECKING:
    from s32s.sync.events import Reporter
    from s32s.sync.plan import Action, Plan

_UNITS = {"": 1024, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_RATE = re.compile(
    r"^(?P<number>\d+(?:\.\d*)?|\.\d+)\s*(?P<unit>[bkmgtp]?)(?:i?b)?(?:/s)?$", re.IGNORECASE
)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ENTRY_TIME = re.compile(r"^(?:(?P<day>[A-Za-z]{3})-)?(?P<hour>\d{1,2}):(?P<minute>\d{2})$")
_HINT = (
    "Give a rate such as 10M, 512k or 10MB/s (`off` for none), or a timetable such as "
    '"08:00,2M 19:00,off" (entries [DAY-]HH:MM,RATE).'
)
MINUTES_PER_WEEK = 7 * 24 * 60


def parse_rate(text: str, where: str = "--bwlimit") -> float | None:
    """Bytes per second for `text`; None for `off` or 0 (no limit)."""
    value = text.strip()
    if value.lower() in ("off", "none", ""):
        return None
    match = _RATE.match(value)
    if match is None:
        raise ConfigError(f"{where}: {text!r} is not a rate.", _HINT)
    rate = float(match.group("number")) * _UNITS[match.group("unit").lower()]
    return rate if rate > 0 else None


@dataclass(frozen=True)
class RateSchedule:
    """A constant rate or a weekly timetable; `rate_at` answers for a moment."""

    # (minute of the week, bytes per second or None), sorted; one entry = constant.
    slots: tuple[tuple[int, float | None], ...]
    text: str = ""

    @property
    def is_unlimited(self) -> bool:
        return all(rate is None for _, rate in self.slots)

    def rate_at(self, moment: datetime) -> float | None:
        """The limit at `moment` (local time); None means no limit."""
        if len(self.slots) == 1:
            return self.slots[0][1]
        minute = moment.weekday() * 24 * 60 + moment.hour * 60 + moment.minute
        current = self.slots[-1][1]  # before the week's first entry: last week's last one
        for start, rate in self.slots:
            if start > minute:
                break
            current = rate
        return current


def parse_bwlimit(text: str, where: str = "--bwlimit") -> RateSchedule:
    """A `RateSchedule` from a rate or an rclone timetable; `ConfigError` names `where`."""
    entries = text.split()
    if len(entries) == 1 and "," not in entries[0]:
        return RateSchedule(((0, parse_rate(entries[0], where)),), text.strip())
    if not entries:
        raise ConfigError(f"{where}: the bandwidth limit is empty.", _HINT)
    slots: dict[int, float | None] = {}
    for entry in entries:
        moment, comma, rate_text = entry.partition(",")
        match = _ENTRY_TIME.match(moment)
        if not comma or match is None:
            raise ConfigError(f"{where}: timetable entry {entry!r} is not [DAY-]HH:MM,RATE.", _HINT)
        hour, minute = int(match.group("hour")), int(match.group("minute"))
        if hour > 23 or minute > 59:
            raise ConfigError(f"{where}: {moment!r} is not a time of day (00:00 to 23:59).")
        rate = parse_rate(rate_text, f"{where}: entry {entry!r}")
        day = match.group("day")
        if day is None:
            days = range(7)
        elif day.lower() in _DAYS:
            days = range(_DAYS.index(day.lower()), _DAYS.index(day.lower()) + 1)
        else:
            raise ConfigError(
                f"{where}: {day!r} in {entry!r} is not a day.", "Days: Mon Tue Wed Thu Fri Sat Sun."
            )
        for weekday in days:
            slots[weekday * 24 * 60 + hour * 60 + minute] = rate
    return RateSchedule(tuple(sorted(slots.items())), text.strip())


class BandwidthLimiter:
    """A thread-safe token bucket that every transfer of a run draws from.

    `take(n)` is called after (or before) moving n bytes; it reserves them
    under a lock and sleeps, outside it, until the bucket has caught up. The
    bucket may run into debt (one call may take more than it holds), so a
    large read is paced by the calls after it: over any stretch of time the
    bytes taken stay within rate × time + one burst. The burst is a quarter
    second's worth (at least 16 KiB). The schedule is consulted at most once
    a second; `clock`, `sleep` and `now` are injectable for tests.
    """

    BURST_SECONDS = 0.25
    MIN_BURST = 16 * 1024
    RECHECK_SECONDS = 1.0

    def __init__(
        self,
        schedule: RateSchedule,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = datetime.now,
    ) -> None:
        self.schedule = schedule
        self._clock = clock
        self._sleep = sleep
        self._now = now
        self._lock = threading.Lock()
        self._rate: float | None = None
        self._tokens = 0.0
        self._updated = clock()
        self._checked: float | None = None

    @property
    def rate(self) -> float | None:
        """The limit in force (bytes per second), None when off."""
        with self._lock:
            self._follow_schedule(self._clock())
            return self._rate

    def _burst(self, rate: float) -> float:
        return max(rate * self.BURST_SECONDS, float(self.MIN_BURST))

    def _follow_schedule(self, at: float) -> None:
        if self._checked is not None and at - self._checked < self.RECHECK_SECONDS:
            return
        self._checked = at
        rate = self.schedule.rate_at(self._now())
        if rate == self._rate:
            return
        if self._rate is None and rate is not None:
            self._tokens = self._burst(rate)  # a limit starts with a full bucket
        elif rate is not None:
            self._tokens = min(self._tokens, self._burst(rate))
        self._rate = rate
        self._updated = at

    def take(self, byte_count: int) -> None:
        """Account for `byte_count` bytes; sleep as long as the limit needs."""
        if byte_count <= 0:
            return
        with self._lock:
            at = self._clock()
            self._follow_schedule(at)
            rate = self._rate
            if rate is None:
                return
            self._tokens = min(self._burst(rate), self._tokens + (at - self._updated) * rate)
            self._updated = at
            self._tokens -= byte_count
            wait = -self._tokens / rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)


def make_limiter(schedule: RateSchedule | None) -> BandwidthLimiter | None:
    """A limiter for a run, or None when there is no limit at any time."""
    if schedule is None or schedule.is_unlimited:
        return None
    return BandwidthLimiter(schedule)


class PacedProgress:
    """A bytes callback that waits for the limiter, then passes the count on.

    `unpaced` passes on bytes that do not cross the link now (the parts of a
    large file an interrupted run already moved, counted once when a transfer
    resumes): holding those back would stall the resumed transfer for nothing.
    """

    def __init__(self, forward: Callable[[int], None], limiter: BandwidthLimiter) -> None:
        self.forward = forward
        self.limiter = limiter

    def __call__(self, byte_count: int) -> None:
        self.limiter.take(byte_count)
        self.forward(byte_count)

    def unpaced(self, byte_count: int) -> None:
        self.forward(byte_count)


def count_unmoved(on_bytes: Callable[[int], None], byte_count: int) -> None:
    """Announce bytes already in place (resumed parts): counted in the progress, never paced."""
    getattr(on_bytes, "unpaced", on_bytes)(byte_count)


class PacedReporter:
    """A reporter whose `advanced` waits for the limiter first.

    Every byte a copier reads or writes is announced through `advanced` as it
    moves, from the thread moving it (each part's thread when a large file
    moves in parallel parts): pacing the announcements paces the transfers,
    whichever store reads or writes.
    """

    def __init__(self, reporter: Reporter, limiter: BandwidthLimiter) -> None:
        self.reporter = reporter
        self.limiter = limiter
        self.advanced = PacedProgress(reporter.advanced, limiter)

    def planned(self, name: str, plan: Plan) -> None:
        self.reporter.planned(name, plan)

    def started(self, action: Action) -> None:
        self.reporter.started(action)

    def finished(self, action: Action, error: str | None) -> None:
        self.reporter.finished(action, error)


def paced(reporter: Reporter, limiter: BandwidthLimiter | None) -> Reporter:
    """`reporter`, paced by `limiter` when there is one."""
    return reporter if limiter is None else PacedReporter(reporter, limiter)
