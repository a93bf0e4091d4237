"""Schedule expressions: what DataSync accepts, and what it refuses (hourly minimum)."""

from __future__ import annotations

import pytest

from s32s.datasync.schedule import ScheduleError, validate_schedule


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(60 minutes)",
        "cron(0 12 ? * SUN,WED *)",
        "cron(0 8 * * 3#1)",
        "cron(15 * * * ? *)",
        "cron(0 0/2 * * ? *)",
        "cron(0 10 ? JAN-MAR MON-FRI 2030)",
        "  rate(2 days)  ",
    ],
)
def test_accepts_what_datasync_accepts(expression: str) -> None:
    assert validate_schedule(expression) == expression.strip()


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("rate(30 minutes)", "more often than once an hour"),
        ("rate(59 minutes)", "more often than once an hour"),
        ("cron(*/5 * * * ? *)", "minutes field must be one number"),
        ("cron(0,30 * * * ? *)", "minutes field must be one number"),
        ("rate(1 hours)", "write rate(1 hour)"),
        ("rate(2 hour)", "write rate(2 hours)"),
        ("rate(0 hours)", "at least 1"),
        ("rate(1 week)", "minutes, hours or days"),
        ("cron(0 25 * * ? *)", "hours field '25'"),
        ("cron(0 12 1 * MON *)", "both day-of-month and day-of-week"),
        ("cron(0 12 * *)", "needs 6 fields"),
        ("hourly", "neither rate(...) nor cron(...)"),
        ("rate(1 hour); rm -rf", "characters DataSync does not accept"),
        ("", "empty"),
    ],
)
def test_refuses_what_datasync_refuses(expression: str, message: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        validate_schedule(expression, what="--schedule")
    assert message in str(caught.value)
    assert str(caught.value).startswith("--schedule:")
