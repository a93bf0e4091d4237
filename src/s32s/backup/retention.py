"""Which snapshots a prune keeps: restic's `--keep-*` rules, as a pure function of their times.

Snapshots are walked newest first. `last N` keeps the N newest. `hourly`,
`daily`, `weekly`, `monthly` and `yearly N` each keep the newest snapshot of
each of the N most recent hours (days, ISO weeks, months, years) that have
one. A count of -1 means no limit. `within D` keeps every snapshot taken
within D of the newest snapshot (not of now, so a backup that stopped running
is never pruned away by time alone). A snapshot kept by any rule is kept.
Times are UTC, as snapshot names are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_DURATION_PART = re.compile(r"(\d+)([ymdh])")


@dataclass(frozen=True)
class Duration:
    """restic's `--keep-within` durations: `30d`, `1y6m`, `2d12h` (m = months)."""

    years: int = 0
    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: str) -> Duration:
        cleaned = text.strip().lower()
        parts = _DURATION_PART.findall(cleaned)
        if not cleaned or "".join(n + u for n, u in parts) != cleaned:
            raise ValueError(
                f"{text!r} is not a duration: write numbers with y (years), m (months), d (days), "
                "h (hours), e.g. 30d or 1y6m"
            )
        amounts = {"y": 0, "m": 0, "d": 0, "h": 0}
        for number, unit in parts:
            amounts[unit] += int(number)
        return cls(amounts["y"], amounts["m"], amounts["d"], amounts["h"])

    def before(self, moment: datetime) -> datetime:
        """`moment` minus this duration, calendar-wise (a month back from 31 March overflows as Go does)."""
        month_index = moment.year * 12 + (moment.month - 1) - self.years * 12 - self.months
        year, month = divmod(month_index, 12)
        first = date(year, month + 1, 1)
        day = first + timedelta(days=moment.day - 1)  # 31 February → 3 March, as Go's AddDate
        shifted = moment.replace(year=day.year, month=day.month, day=day.day)
        return shifted - timedelta(days=self.days, hours=self.hours)

    def __str__(self) -> str:
        text = "".join(
            f"{n}{u}"
            for n, u in zip((self.years, self.months, self.days, self.hours), "ymdh", strict=True)
            if n
        )
        return text or "0h"


@dataclass(frozen=True)
class KeepPolicy:
    """The `--keep-*` options; None means the option was not given."""

    last: int | None = None
    hourly: int | None = None
    daily: int | None = None
    weekly: int | None = None
    monthly: int | None = None
    yearly: int | None = None
    within: Duration | None = None

    @classmethod
    def from_options(
        cls,
        last: int | None = None,
        hourly: int | None = None,
        daily: int | None = None,
        weekly: int | None = None,
        monthly: int | None = None,
        yearly: int | None = None,
        within: str | None = None,
    ) -> KeepPolicy:
        """The policy of the `--keep-*` options (`within` as text, e.g. `30d`; ValueError if not)."""
        duration = Duration.parse(within) if within else None
        return cls(last, hourly, daily, weekly, monthly, yearly, duration)

    @property
    def is_empty(self) -> bool:
        counts = (self.last, self.hourly, self.daily, self.weekly, self.monthly, self.yearly)
        return self.within is None and all(count is None for count in counts)


def _buckets(policy: KeepPolicy) -> list[tuple[str, int, Callable[[datetime, int], object]]]:
    rules: list[tuple[str, int | None, Callable[[datetime, int], object]]] = [
        ("last", policy.last, lambda moment, index: index),
        ("hourly", policy.hourly, lambda m, _: (m.year, m.month, m.day, m.hour)),
        ("daily", policy.daily, lambda m, _: (m.year, m.month, m.day)),
        ("weekly", policy.weekly, lambda m, _: m.isocalendar()[:2]),
        ("monthly", policy.monthly, lambda m, _: (m.year, m.month)),
        ("yearly", policy.yearly, lambda m, _: m.year),
    ]
    return [(name, count, key) for name, count, key in rules if count]


def apply_policy(times: Iterable[datetime], policy: KeepPolicy) -> dict[datetime, list[str]]:
    """{time: reasons} for every snapshot time given; an empty reason list means remove it."""
    ordered = sorted(set(times), reverse=True)
    result: dict[datetime, list[str]] = {moment: [] for moment in ordered}
    if not ordered:
        return result
    remaining = {name: count for name, count, _ in _buckets(policy)}
    last_bucket: dict[str, object] = {}
    oldest_within = policy.within.before(ordered[0]) if policy.within is not None else None
    for index, moment in enumerate(ordered):
        reasons = result[moment]
        if oldest_within is not None and moment > oldest_within:
            reasons.append(f"within {policy.within}")
        for name, _, bucket_of in _buckets(policy):
            if remaining[name] == 0:
                continue
            bucket = bucket_of(moment, index)
            if name in last_bucket and last_bucket[name] == bucket:
                continue
            last_bucket[name] = bucket
            remaining[name] -= 1 if remaining[name] > 0 else 0
            reasons.append(name)
    return result
