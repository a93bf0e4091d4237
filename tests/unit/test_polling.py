"""The one wait loop: ask until done, the last look at the deadline; retry while an error passes."""

from __future__ import annotations

import pytest

from s32s.polling import FakeClock, PollTimeout, poll, retry


def test_poll_looks_last_at_the_deadline_and_reports_what_it_saw() -> None:
    clock = FakeClock()
    answers = iter(["a", "b", "c", "d", "e"])
    with pytest.raises(PollTimeout) as caught:
        poll(
            lambda: next(answers), lambda value: value == "z", interval=10, timeout=25, clock=clock
        )
    assert clock.slept == [10, 10, 5]  # looks at 0, 10, 20 and 25
    assert caught.value.last == "d"


def test_poll_returns_the_first_value_that_is_done() -> None:
    clock = FakeClock()
    answers = iter([1, 2, 3])
    seen: list[int] = []
    value = poll(
        lambda: next(answers),
        lambda v: v >= 2,
        interval=1,
        timeout=None,
        clock=clock,
        on_update=seen.append,
    )
    assert (value, seen, clock.slept) == (2, [1, 2], [1])


def test_retry_waits_out_passing_errors_and_gives_up_on_others() -> None:
    clock = FakeClock()
    attempts: list[int] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise LookupError("not yet")
        return "made"

    assert (
        retry(
            flaky, passing=lambda e: isinstance(e, LookupError), interval=5, timeout=30, clock=clock
        )
        == "made"
    )
    assert clock.slept == [5, 5]
    with pytest.raises(ValueError):
        retry(
            lambda: int("x"),
            passing=lambda e: isinstance(e, LookupError),
            interval=5,
            timeout=30,
            clock=clock,
        )
    attempts.clear()
    with pytest.raises(LookupError):  # the time runs out before the third attempt
        retry(flaky, passing=lambda e: True, interval=5, timeout=7, clock=FakeClock())
    assert len(attempts) == 2
