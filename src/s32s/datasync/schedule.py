"""Checking schedule expressions the way DataSync does, before sending them.

DataSync takes EventBridge `rate(...)` and `cron(...)` expressions and refuses
any schedule that runs more often than once an hour. Its documentation shows
cron with six fields (`cron(0 12 ? * SUN,WED *)`) and with five, the year left
out (`cron(0 8 * * 3#1)`); both are accepted here.

Rules checked:
- `rate(N unit)`: N a positive whole number; unit `minute(s)`, `hour(s)` or
  `day(s)`, singular exactly when N is 1; at least 60 minutes.
- `cron(min hour day-of-month month day-of-week [year])`: each field in its
  range with the EventBridge wildcards; the minutes field must be one number,
  since anything else (`*`, `0/15`, `0,30`, `0-5`) runs more than once an hour;
  day-of-month and day-of-week cannot both name specific days.
"""

from __future__ import annotations

import re

from s32s.errors import ConfigError

MAX_LENGTH = 256
_ALLOWED = re.compile(r"^[a-zA-Z0-9\ \_\*\?\,\|\^\-\/\#\s\(\)\+]*$")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_RATE_MINUTES = {"minute": 1, "minutes": 1, "hour": 60, "hours": 60, "day": 1440, "days": 1440}
_MONTHS = "JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC"
_DAYS = "SUN|MON|TUE|WED|THU|FRI|SAT"

HINT = "Use rate(1 hour), rate(12 hours), rate(1 day) or cron(MIN HOUR DAY MONTH WEEKDAY YEAR), e.g. cron(0 12 ? * SUN,WED *)."


class ScheduleError(ConfigError):
    """A schedule expression DataSync would refuse."""


def validate_schedule(expression: str, *, what: str = "schedule") -> str:
    """The expression, trimmed, or a `ScheduleError` saying what DataSync would refuse."""
    text = (expression or "").strip()
    if not text:
        raise ScheduleError(f"{what}: the schedule expression is empty.", HINT)
    if len(text) > MAX_LENGTH or not _ALLOWED.match(text):
        raise ScheduleError(
            f"{what}: {text!r} has characters DataSync does not accept in a schedule.", HINT
        )
    if text.startswith("rate("):
        _check_rate(text, what)
    elif text.startswith("cron("):
        _check_cron(text, what)
    else:
        raise ScheduleError(f"{what}: {text!r} is neither rate(...) nor cron(...).", HINT)
    return text


def _check_rate(text: str, what: str) -> None:
    match = _RATE.match(text)
    if match is None:
        raise ScheduleError(f"{what}: {text!r} is not a rate expression like rate(1 hour).", HINT)
    value, unit = int(match.group(1)), match.group(2)
    if unit not in _RATE_MINUTES:
        raise ScheduleError(f"{what}: {text!r}: the unit must be minutes, hours or days.", HINT)
    if value < 1:
        raise ScheduleError(f"{what}: {text!r}: the rate must be at least 1.", HINT)
    singular = not unit.endswith("s")
    if singular != (value == 1):
        right = unit.rstrip("s") if value == 1 else unit + ("" if unit.endswith("s") else "s")
        raise ScheduleError(f"{what}: {text!r}: write rate({value} {right}).", HINT)
    if value * _RATE_MINUTES[unit] < 60:
        raise ScheduleError(
            f"{what}: {text!r} runs more often than once an hour, which DataSync does not allow.",
            "Use rate(1 hour) or longer.",
        )


def _check_cron(text: str, what: str) -> None:
    match = _CRON.match(text)
    fields = match.group(1).split() if match else []
    if len(fields) not in (5, 6):
        raise ScheduleError(
            f"{what}: {text!r} needs 6 fields (minutes hours day-of-month month day-of-week year).",
            HINT,
        )
    minutes, hours, day_of_month, month, day_of_week = fields[:5]
    if not re.fullmatch(r"\d{1,2}", minutes) or int(minutes) > 59:
        raise ScheduleError(
            f"{what}: {text!r}: the minutes field must be one number from 0 to 59; "
            "anything else runs more often than once an hour, which DataSync does not allow.",
            "For hourly at minute 0 use cron(0 * * * ? *) or rate(1 hour).",
        )
    checks = [
        ("hours", hours, _field_re(r"\d{1,2}", 0, 23), (0, 23)),
        (
            "day-of-month",
            day_of_month,
            _field_re(r"\d{1,2}", 1, 31, extra=r"|\?|L|LW|\d{1,2}W"),
            (1, 31),
        ),
        ("month", month, _field_re(rf"(\d{{1,2}}|{_MONTHS})", 1, 12), (1, 12)),
        (
            "day-of-week",
            day_of_week,
            _field_re(rf"(\d|{_DAYS})", 1, 7, extra=r"|\?|\dL|\d#[1-5]|(" + _DAYS + r")#[1-5]"),
            (1, 7),
        ),
    ]
    if len(fields) == 6:
        checks.append(("year", fields[5], _field_re(r"\d{4}", 1970, 2199), (1970, 2199)))
    for name, value, pattern, bounds in checks:
        if not pattern.fullmatch(value.upper()) or not _numbers_in(value, *bounds):
            raise ScheduleError(f"{what}: {text!r}: the {name} field {value!r} is not valid.", HINT)
    if day_of_month not in ("*", "?") and day_of_week not in ("*", "?"):
        raise ScheduleError(
            f"{what}: {text!r} sets both day-of-month and day-of-week.",
            "Put ? in one of them, e.g. cron(0 12 ? * MON *).",
        )


def _field_re(atom: str, low: int, high: int, extra: str = "") -> re.Pattern[str]:
    """A cron field: `*`, or a comma list of atoms, ranges and `/step`s (plus `extra`)."""
    item = rf"(\*|{atom}(-{atom})?)(/\d{{1,4}})?"
    return re.compile(rf"({item}(,{item})*{extra})")


def _numbers_in(value: str, low: int, high: int) -> bool:
    """Every number in a field, except steps and `#n`, lies in [low, high]."""
    plain = re.sub(r"/\d+|#\d", "", value)
    return all(low <= int(number) <= high for number in re.findall(r"\d+", plain))
