"""The dashboard's figures: throughput buckets and the runs-table line of a log."""

from __future__ import annotations

from s32s.transfers.dashboard import run_row, throughput
from s32s.transfers.log import StoredLog


def moved(size: int, start: float, end: float) -> dict[str, float]:
    return {"bytes": size, "epoch_time_start": start, "epoch_time_end": end}


def test_an_object_is_spread_over_the_seconds_it_was_in_flight() -> None:
    curve = throughput([moved(900, 100.5, 103.5)], start=100, end=104)
    assert curve["bucket_seconds"] == 1
    assert [point["bytes_per_second"] for point in curve["points"]] == [150, 300, 300, 150]


def test_long_runs_use_wider_buckets_and_keep_every_byte() -> None:
    objects = [moved(1000, 10 * index, 10 * index + 7) for index in range(100)]
    curve = throughput(objects, start=0, end=1000, max_points=50)
    assert curve["bucket_seconds"] == 20 and len(curve["points"]) == 50
    total = sum(point["bytes_per_second"] * curve["bucket_seconds"] for point in curve["points"])
    assert round(total) == 100 * 1000


def test_times_outside_the_run_and_missing_fields_are_tolerated() -> None:
    objects = [
        moved(100, 90, 95),  # before the start (clock skew): counted at the start
        {"bytes": 50, "epoch_time_end": 101.2},  # no start time: counted when it ended
        {"bytes": 70},  # no times at all: cannot be placed
        moved(40, 103, 120),  # past the end: clamped to the last second
    ]
    rates = [point["bytes_per_second"] for point in throughput(objects, 100, 104)["points"]]
    assert rates == [100, 50, 0, 40]


def test_a_running_log_lasts_until_now_and_a_broken_one_shows_what_it_can() -> None:
    running = StoredLog(1000, "x", {"status": "Running", "objects_moved": [moved(5, 1000, 1001)]})
    row = run_row(running, now=1030)
    assert (row["status"], row["duration_seconds"], row["objects_moved"]) == ("Running", 30, 1)
    broken = run_row(
        StoredLog(2000, "y", {"failed_objects": "??", "bytes_transferred": "lots"}), 2100
    )
    assert (broken["status"], broken["failures"], broken["bytes_transferred"]) == ("Unknown", 0, 0)
    assert broken["objects_to_move"] is None
