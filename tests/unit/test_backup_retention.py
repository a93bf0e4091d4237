"""restic's keep rules as a pure function over snapshot times, and prune's plan over snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s32s.backup.location import Snapshot, Status
from s32s.backup.prune import plan_prune
from s32s.backup.retention import Duration, KeepPolicy, apply_policy
from s32s.errors import ConfigError


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def kept(times: list[datetime], policy: KeepPolicy) -> set[datetime]:
    return {moment for moment, reasons in apply_policy(times, policy).items() if reasons}


TIMES = [
    at(t)
    for t in [
        "2024-01-01 10:00",
        "2024-01-01 22:00",
        "2024-01-02 09:00",
        "2024-01-08 09:00",
        "2024-02-01 09:00",
        "2024-02-15 09:00",
        "2024-02-15 11:00",
    ]
]


def test_keep_last_keeps_the_newest() -> None:
    assert kept(TIMES, KeepPolicy(last=2)) == {at("2024-02-15 11:00"), at("2024-02-15 09:00")}


def test_keep_daily_keeps_the_newest_of_each_recent_day() -> None:
    assert kept(TIMES, KeepPolicy(daily=3)) == {
        at("2024-02-15 11:00"),
        at("2024-02-01 09:00"),
        at("2024-01-08 09:00"),
    }


def test_keep_weekly_and_monthly_use_iso_weeks_and_months() -> None:
    assert kept(TIMES, KeepPolicy(monthly=2)) == {at("2024-02-15 11:00"), at("2024-01-08 09:00")}
    # 1 and 2 January 2024 share ISO week 1; the 8th starts week 2
    assert kept(TIMES, KeepPolicy(weekly=-1)) == {
        at("2024-02-15 11:00"),
        at("2024-02-01 09:00"),
        at("2024-01-08 09:00"),
        at("2024-01-02 09:00"),
    }


def test_keep_within_counts_back_from_the_newest_snapshot_not_from_now() -> None:
    assert kept(TIMES, KeepPolicy(within=Duration.parse("14d3h"))) == {
        at("2024-02-15 11:00"),
        at("2024-02-15 09:00"),
        at("2024-02-01 09:00"),
    }


def test_rules_keep_the_union_of_what_each_keeps() -> None:
    union = kept(TIMES, KeepPolicy(last=1, monthly=2))
    assert union == kept(TIMES, KeepPolicy(last=1)) | kept(TIMES, KeepPolicy(monthly=2))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30d", Duration(days=30)), ("1y6m", Duration(1, 6)), ("2d12h", Duration(days=2, hours=12))],
)
def test_durations(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["", "30", "d", "3w", "1d 2h", "-1d"])
def test_bad_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        Duration.parse(text)


def test_a_month_back_from_the_31st_overflows_as_go_does() -> None:
    assert Duration(months=1).before(at("2024-03-31 00:00")) == at("2024-03-02 00:00")


moments = st.lists(
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2026, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0, tzinfo=UTC)
    ),
    max_size=40,
)
counts = st.one_of(st.none(), st.integers(min_value=-1, max_value=6))
policies = st.builds(
    KeepPolicy,
    last=counts,
    hourly=counts,
    daily=counts,
    weekly=counts,
    monthly=counts,
    yearly=counts,
    within=st.one_of(
        st.none(), st.builds(Duration, days=st.integers(0, 400), hours=st.integers(0, 48))
    ),
)


@settings(max_examples=200, deadline=None)
@given(moments, policies)
def test_every_snapshot_gets_a_verdict_and_keep_last_keeps_exactly_the_newest(
    times, policy
) -> None:
    verdicts = apply_policy(times, policy)
    assert set(verdicts) == set(times)
    newest_first = sorted(set(times), reverse=True)
    if policy.last is not None and policy.last >= 0:
        by_last = {m for m, reasons in verdicts.items() if "last" in reasons}
        assert by_last == set(newest_first[: policy.last])
    if policy.daily and policy.daily > 0:
        days = {(m.year, m.month, m.day) for m, reasons in verdicts.items() if "daily" in reasons}
        assert len(days) == min(policy.daily, len({(m.year, m.month, m.day) for m in times}))


@settings(max_examples=200, deadline=None)
@given(moments, policies, st.integers(min_value=1, max_value=5))
def test_a_larger_count_never_keeps_fewer(times, policy, more) -> None:
    bigger = KeepPolicy(
        last=None if policy.last is None or policy.last < 0 else policy.last + more,
        hourly=policy.hourly,
        daily=(policy.daily or 0) + more if (policy.daily or 0) >= 0 else -1,
        weekly=policy.weekly,
        monthly=policy.monthly,
        yearly=policy.yearly,
        within=policy.within,
    )
    if policy.last is not None and policy.last < 0:
        bigger = KeepPolicy(**{**bigger.__dict__, "last": -1})
    assert kept(times, policy) <= kept(times, bigger)


@settings(max_examples=200, deadline=None)
@given(moments, policies)
def test_pruning_what_a_policy_kept_keeps_it_all(times, policy) -> None:
    first = kept(times, policy)
    assert kept(list(first), policy) == first


def snapshot(text: str, status: Status = Status.COMPLETE) -> Snapshot:
    return Snapshot(text, at(text), status)


def test_plan_keeps_the_newest_complete_unless_keep_last_zero() -> None:
    snapshots = [snapshot("2024-01-01 10:00"), snapshot("2024-01-02 10:00")]
    plan = plan_prune(snapshots, KeepPolicy(within=Duration(hours=1), daily=0))
    assert [s.name for s, _ in plan.keep] == ["2024-01-02 10:00"]
    plan = plan_prune(snapshots, KeepPolicy(last=0, daily=0))
    assert [s.name for s, _ in plan.remove] == ["2024-01-02 10:00", "2024-01-01 10:00"]


def test_plan_removes_stale_unfinished_keeps_running_and_damaged_ones() -> None:
    snapshots = [
        snapshot("2024-01-01 10:00", Status.DAMAGED),
        snapshot("2024-01-02 10:00", Status.UNFINISHED),
        snapshot("2024-01-03 10:00"),
        snapshot("2024-01-04 10:00", Status.UNFINISHED),
    ]
    plan = plan_prune(snapshots, KeepPolicy(last=1))
    assert [s.name for s, _ in plan.remove] == ["2024-01-02 10:00"]
    assert {s.name for s, _ in plan.keep} == {
        "2024-01-01 10:00",
        "2024-01-03 10:00",
        "2024-01-04 10:00",
    }


def test_plan_without_any_rule_is_refused() -> None:
    with pytest.raises(ConfigError, match="keep"):
        plan_prune([snapshot("2024-01-01 10:00")], KeepPolicy())


def test_keep_within_zero_keeps_only_the_newest() -> None:
    times = [at("2024-01-01 10:00") + timedelta(hours=i) for i in range(3)]
    assert kept(times, KeepPolicy(within=Duration.parse("0h"))) == set()
