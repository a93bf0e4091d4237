"""How many transfers run at once: fixed by `--workers N`, otherwise adapted to the link.

On a long link each small request spends most of its time waiting for the
round trip, so the number in flight decides the throughput; on loopback the
endpoint is the limit and more requests in flight only make each one slower.
`ConcurrencyController` finds the right number while a run goes on, much as
TCP finds a window: it is fed one event per finished transfer (its latency and
size) and one per throttling answer, and judges the link once per *round*
(as many completions as the current limit):

- throttled during the round (SlowDown, 503): shrink to 70 %;
- throughput up by at least 10 % on the best round so far: grow (doubling
  until the first setback, then by a quarter);
- throughput not up, and latency over twice the lowest seen: shrink to 80 %
  (the requests only queue somewhere);
- otherwise: hold.

The limit stays between `minimum` and `maximum`; the maximum bounds the
threads, sockets, open files and in-memory bodies a run can hold at once.
The controller does no I/O and reads time only from the clock it is given,
so tests drive it with invented events.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_START = 16
DEFAULT_MAXIMUM = 128
DEFAULT_MINIMUM = 4
GROWTH_MARGIN = 1.10  # a round must beat the best by this factor to count as growth
LATENCY_LIMIT = 2.0  # latency over this multiple of the lowest seen, without growth, shrinks
THROTTLE_FACTOR = 0.7
CONGESTION_FACTOR = 0.8
UNIT_BYTES = 1024 * 1024  # a transfer counts as one unit plus one per MiB it moved
MIN_ROUND_SECONDS = 0.05  # shorter rounds are too noisy to judge

log = logging.getLogger("s32s.concurrency")


@dataclass(frozen=True)
class ConcurrencySummary:
    """What the Report says about concurrency."""

    mode: str  # "adaptive" or "fixed"
    final: int
    peak: int
    maximum: int

    def to_dict(self) -> dict[str, int | str]:
        return {"mode": self.mode, "final": self.final, "peak": self.peak, "max": self.maximum}


class ConcurrencyController:
    """Decides how many transfers may be in flight. Thread-safe."""

    def __init__(
        self,
        *,
        start: int = DEFAULT_START,
        minimum: int = DEFAULT_MINIMUM,
        maximum: int = DEFAULT_MAXIMUM,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 1 <= minimum <= start <= maximum:
            raise ValueError(
                f"need 1 <= minimum <= start <= maximum, got {minimum}, {start}, {maximum}"
            )
        self.minimum = minimum
        self.maximum = maximum
        self._clock = clock
        self._lock = threading.Lock()
        self._limit = start
        self.peak = start
        self._slow_start = True
        self._best_rate = 0.0
        self._lowest_latency: float | None = None
        self._reset_round()

    @classmethod
    def fixed(cls, workers: int) -> ConcurrencyController:
        """A controller that never moves (`--workers N`)."""
        return cls(start=workers, minimum=workers, maximum=workers)

    @property
    def adaptive(self) -> bool:
        return self.minimum != self.maximum

    @property
    def limit(self) -> int:
        return self._limit

    def summary(self) -> ConcurrencySummary:
        return ConcurrencySummary(
            "adaptive" if self.adaptive else "fixed", self._limit, self.peak, self.maximum
        )

    # events -------------------------------------------------------------------
    def completed(self, latency: float, size: int = 0) -> None:
        """One transfer finished (successfully or not) after `latency` seconds."""
        if not self.adaptive:
            return
        with self._lock:
            self._count += 1
            self._units += 1 + size / UNIT_BYTES
            self._latency_sum += latency
            if self._count >= self._limit and self._clock() - self._started >= MIN_ROUND_SECONDS:
                self._judge_round()

    def throttled(self) -> None:
        """The endpoint asked to slow down (SlowDown, 503); acted on once per round."""
        if not self.adaptive:
            return
        with self._lock:
            if not self._throttled:
                self._throttled = True
                self._set(int(self._limit * THROTTLE_FACTOR), "the endpoint is throttling")
                self._slow_start = False
                self._best_rate = 0.0

    # the decision -------------------------------------------------------------------
    def _reset_round(self) -> None:
        self._started = self._clock()
        self._count = 0
        self._units = 0.0
        self._latency_sum = 0.0
        self._throttled = False

    def _judge_round(self) -> None:
        elapsed = self._clock() - self._started
        rate = self._units / elapsed
        latency = self._latency_sum / self._count
        throttled = self._throttled
        self._reset_round()
        if throttled:
            return  # already shrunk when the throttling arrived
        lowest = self._lowest_latency
        self._lowest_latency = latency if lowest is None else min(lowest, latency)
        if rate >= self._best_rate * GROWTH_MARGIN:
            gain = "" if not self._best_rate else f" (+{rate / self._best_rate - 1:.0%})"
            self._best_rate = rate
            step = self._limit if self._slow_start else max(1, self._limit // 4)
            self._set(self._limit + step, f"throughput grows{gain}")
        elif lowest is not None and latency > lowest * LATENCY_LIMIT:
            self._slow_start = False
            self._best_rate = rate  # judge the next rounds against what this limit gives
            self._set(
                int(self._limit * CONGESTION_FACTOR),
                f"latency {latency * 1000:.0f} ms, over {LATENCY_LIMIT:g}× the lowest "
                f"({lowest * 1000:.0f} ms), without more throughput",
            )
        else:
            self._best_rate = max(self._best_rate, rate)

    def _set(self, limit: int, reason: str) -> None:
        limit = max(self.minimum, min(self.maximum, limit))
        if limit == self._limit:
            return
        log.info("Concurrency %d → %d: %s.", self._limit, limit, reason)
        self._limit = limit
        self.peak = max(self.peak, limit)


def controller_for(workers: int | None) -> ConcurrencyController:
    """`--workers N` pins the concurrency; without it, it adapts."""
    if workers is None:
        return ConcurrencyController()
    return ConcurrencyController.fixed(workers)


def pool_size(workers: int | None) -> int:
    """The most requests a run with this `--workers` setting can have in flight."""
    return DEFAULT_MAXIMUM if workers is None else workers
