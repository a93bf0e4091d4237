"""The concurrency controller, driven by invented completions and a hand-moved clock."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from s32s.sync.concurrency import (
    DEFAULT_MAXIMUM,
    DEFAULT_START,
    ConcurrencyController,
    controller_for,
    pool_size,
)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drive(
    controller: ConcurrencyController,
    clock: Clock,
    latency_at: Callable[[int], float],
    rounds: int,
) -> list[int]:
    """Feed `rounds` rounds: the current limit's worth of completions, each taking `latency_at(limit)`.

    All of a round's transfers run side by side, so the round lasts one latency.
    Returns the limit after each round.
    """
    limits = []
    for _ in range(rounds):
        limit = controller.limit
        latency = latency_at(limit)
        clock.now += latency
        for _ in range(limit):
            controller.completed(latency, 4096)
        limits.append(controller.limit)
    return limits


def test_a_long_link_with_room_grows_to_the_maximum_and_stays_there() -> None:
    clock = Clock()
    controller = ConcurrencyController(clock=clock)
    limits = drive(controller, clock, lambda limit: 0.1, rounds=10)  # 100 ms whatever the load
    assert limits[:3] == [32, 64, 128]  # doubling while throughput doubles
    assert limits[-1] == DEFAULT_MAXIMUM and controller.peak == DEFAULT_MAXIMUM


def test_an_endpoint_that_serves_a_fixed_number_at_once_is_not_flooded() -> None:
    """Past 24 requests at once, requests only queue: latency grows and throughput does not."""
    clock = Clock()
    controller = ConcurrencyController(clock=clock)

    def latency(limit: int) -> float:
        return 0.1 * max(1.0, limit / 24)

    limits = drive(controller, clock, latency, rounds=40)
    assert max(limits) < DEFAULT_MAXIMUM
    assert 16 <= limits[-1] <= 48  # near the endpoint's width, not at the cap
    assert controller.summary().to_dict() == {
        "mode": "adaptive",
        "final": limits[-1],
        "peak": controller.peak,
        "max": DEFAULT_MAXIMUM,
    }


def test_throttling_shrinks_once_per_round_and_growth_resumes_by_smaller_steps() -> None:
    clock = Clock()
    controller = ConcurrencyController(start=64, clock=clock)
    controller.throttled()
    controller.throttled()  # the same round: no second cut
    assert controller.limit == 44
    clock.now += 0.1
    for _ in range(44):
        controller.completed(0.1)
    assert controller.limit == 44  # the throttled round is not judged again
    drive(controller, clock, lambda limit: 0.1, rounds=1)
    assert controller.limit == 55  # a quarter more: no more doubling after a setback


def test_throttling_never_goes_below_the_minimum() -> None:
    clock = Clock()
    controller = ConcurrencyController(start=5, minimum=4, clock=clock)
    for _ in range(5):
        controller.throttled()
        drive(controller, clock, lambda limit: 0.1, rounds=0)
        clock.now += 1
        for _ in range(controller.limit):
            controller.completed(0.1)
    assert controller.limit == 4


def test_rounds_too_short_to_measure_are_not_judged() -> None:
    clock = Clock()
    controller = ConcurrencyController(clock=clock)
    for _ in range(DEFAULT_START * 3):
        clock.now += 0.001
        controller.completed(0.001)
    assert controller.limit == DEFAULT_START
    clock.now += 0.1
    controller.completed(0.001)
    assert controller.limit == DEFAULT_START * 2  # the round finally long enough: judged


def test_workers_pin_the_concurrency() -> None:
    clock = Clock()
    controller = controller_for(8)
    controller._clock = clock
    drive(controller, clock, lambda limit: 0.1, rounds=5)
    controller.throttled()
    assert controller.limit == 8 and not controller.adaptive
    assert controller.summary().to_dict() == {"mode": "fixed", "final": 8, "peak": 8, "max": 8}
    assert pool_size(8) == 8 and pool_size(None) == DEFAULT_MAXIMUM
    assert controller_for(None).adaptive


def test_changes_are_logged_with_their_reason(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    controller = ConcurrencyController(clock=clock)
    with caplog.at_level(logging.INFO, logger="s32s.concurrency"):
        drive(controller, clock, lambda limit: 0.1, rounds=1)
        controller.throttled()
    assert "Concurrency 16 → 32: throughput grows." in caplog.messages
    assert "Concurrency 32 → 22: the endpoint is throttling." in caplog.messages


@pytest.mark.parametrize(("start", "minimum", "maximum"), [(0, 1, 4), (8, 10, 20), (30, 4, 20)])
def test_impossible_bounds_are_refused(start: int, minimum: int, maximum: int) -> None:
    with pytest.raises(ValueError, match="minimum <= start <= maximum"):
        ConcurrencyController(start=start, minimum=minimum, maximum=maximum)
