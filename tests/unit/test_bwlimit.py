"""Bandwidth limits: rate and timetable parsing, the token bucket's arithmetic, one real measurement."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.sync.bwlimit import BandwidthLimiter, make_limiter, parse_bwlimit, parse_rate

KiB, MiB = 1024, 1024 * 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10M", 10 * MiB),
        ("10MB/s", 10 * MiB),
        ("10MiB/s", 10 * MiB),
        ("10mb", 10 * MiB),
        ("512k", 512 * KiB),
        ("1.5G", 1.5 * 1024**3),
        ("2048B", 2048),
        ("2048b/s", 2048),
        ("100", 100 * KiB),  # a bare number is KiB/s, as in rclone
        ("off", None),
        ("0", None),
        ("OFF", None),
    ],
)
def test_rates(text: str, expected: float | None) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["fast", "10X", "-1M", "10 M B/s/s", "1e3M"])
def test_bad_rates_name_the_option_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_rate(text)
    assert "--bwlimit" in caught.value.message and text in caught.value.message
    assert "10M" in (caught.value.hint or "")


def test_a_constant_rate_holds_all_week() -> None:
    schedule = parse_bwlimit("4M")
    assert schedule.rate_at(datetime(2024, 1, 1, 3, 0)) == 4 * MiB
    assert schedule.rate_at(datetime(2024, 1, 7, 23, 59)) == 4 * MiB


def test_a_daily_timetable_wraps_around_midnight() -> None:
    schedule = parse_bwlimit("08:00,2M 19:00,off")
    monday = datetime(2024, 1, 1)  # a Monday
    assert schedule.rate_at(monday.replace(hour=7, minute=59)) is None  # Sunday 19:00's entry
    assert schedule.rate_at(monday.replace(hour=8)) == 2 * MiB
    assert schedule.rate_at(monday.replace(hour=18, minute=59)) == 2 * MiB
    assert schedule.rate_at(monday.replace(hour=19)) is None
    assert schedule.rate_at(monday.replace(hour=0, minute=0)) is None


def test_day_entries_apply_on_their_day_only() -> None:
    schedule = parse_bwlimit("Mon-09:00,1M Fri-17:00,off Sat-00:00,10M")
    assert (
        schedule.rate_at(datetime(2024, 1, 1, 8, 0)) == 10 * MiB
    )  # Monday before 09:00: Saturday's
    assert schedule.rate_at(datetime(2024, 1, 3, 12, 0)) == 1 * MiB  # Wednesday
    assert schedule.rate_at(datetime(2024, 1, 5, 18, 0)) is None  # Friday evening
    assert schedule.rate_at(datetime(2024, 1, 7, 12, 0)) == 10 * MiB  # Sunday


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("08:00 2M", "HH:MM,RATE"),
        ("25:00,2M 19:00,off", "time of day"),
        ("Xyz-08:00,2M", "not a day"),
        ("08:00,fast", "not a rate"),
        ("8h,2M", "HH:MM,RATE"),
    ],
)
def test_bad_timetables_say_what_is_wrong(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_bwlimit(text)
    assert fragment in caught.value.message


def test_no_limiter_when_the_limit_is_always_off() -> None:
    assert make_limiter(None) is None
    assert make_limiter(parse_bwlimit("off")) is None
    assert make_limiter(parse_bwlimit("08:00,off 19:00,off")) is None
    assert make_limiter(parse_bwlimit("08:00,2M 19:00,off")) is not None


class FakeClock:
    """Time that passes only when the limiter sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds


def limiter_at(rate: str, clock: FakeClock, wall: datetime | None = None) -> BandwidthLimiter:
    moment = wall or datetime(2024, 1, 1, 12, 0)
    return BandwidthLimiter(parse_bwlimit(rate), clock=clock, sleep=clock.sleep, now=lambda: moment)


def test_the_bucket_starts_full_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    limiter = limiter_at("1M", clock)  # burst: a quarter second, 256 KiB
    limiter.take(256 * KiB)
    assert clock.slept == []
    limiter.take(512 * KiB)
    assert clock.slept == [pytest.approx(0.5)]
    start = clock.now
    for _ in range(40):
        limiter.take(64 * KiB)  # 2.5 MiB more
    assert clock.now - start == pytest.approx(2.5)


def test_a_large_read_is_paid_for_by_the_wait_after_it() -> None:
    clock = FakeClock()
    limiter = limiter_at("1M", clock)
    limiter.take(256 * KiB)  # the burst
    limiter.take(3 * MiB)
    assert clock.now - 1000.0 == pytest.approx(3.0)


def test_idle_time_refills_no_more_than_one_burst() -> None:
    clock = FakeClock()
    limiter = limiter_at("1M", clock)
    limiter.take(256 * KiB)
    clock.now += 60  # a minute with nothing to send
    limiter.take(256 * KiB)
    assert clock.slept == []
    limiter.take(256 * KiB)
    assert clock.slept == [pytest.approx(0.25)]


def test_the_timetable_switches_the_limit_during_a_run() -> None:
    clock = FakeClock()
    wall = [datetime(2024, 1, 1, 18, 59)]
    limiter = BandwidthLimiter(
        parse_bwlimit("08:00,1M 19:00,off"), clock=clock, sleep=clock.sleep, now=lambda: wall[0]
    )
    assert limiter.rate == MiB
    limiter.take(1 * MiB + 256 * KiB)
    assert clock.slept == [pytest.approx(1.0)]
    wall[0] = datetime(2024, 1, 1, 19, 0)
    clock.now += limiter.RECHECK_SECONDS
    limiter.take(100 * MiB)
    assert limiter.rate is None and len(clock.slept) == 1


def test_parallel_takers_share_one_rate() -> None:
    clock = FakeClock()
    limiter = limiter_at("2M", clock)  # burst 512 KiB
    threads = [
        threading.Thread(target=lambda: [limiter.take(32 * KiB) for _ in range(64)])
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 8 × 64 × 32 KiB = 16 MiB at 2 MiB/s, less the first burst: every reservation
    # is serialised, so the fake time advanced by the sleeps is the total.
    assert sum(clock.slept) == pytest.approx((16 * MiB - 512 * KiB) / (2 * MiB), rel=1e-6)


def test_a_real_transfer_is_held_to_the_limit(tmp_path: Path) -> None:
    """Bytes over wall-clock time through the engine, with a lower bound only: a loaded
    machine can make a run slower, never faster than the limit allows."""
    from s32s.sync.events import NullReporter, Report
    from s32s.sync.execute import ExecuteOptions, run_plan
    from s32s.sync.local import LocalStore
    from s32s.sync.plan import PlanOptions, make_plan

    source, dest = tmp_path / "src", tmp_path / "dst"
    source.mkdir()
    for index in range(6):
        (source / f"f{index}.bin").write_bytes(b"x" * MiB)
    limiter = make_limiter(parse_bwlimit("8M"))
    assert limiter is not None
    options = ExecuteOptions(workers=4, bandwidth=limiter)
    src, dst = LocalStore(source), LocalStore(dest)
    plan = make_plan(list(src.list()), [], PlanOptions())
    report = Report("limit", str(src), str(dst))
    started = time.monotonic()
    run_plan(src, dst, plan, report, options, NullReporter())
    elapsed = time.monotonic() - started
    assert report.copied == 6 and not report.failed
    # 6 MiB at 8 MiB/s, less the 2 MiB burst: 0.5 s at least (unlimited: a few ms).
    assert elapsed >= (6 * MiB - 2 * MiB) / (8 * MiB) * 0.95
