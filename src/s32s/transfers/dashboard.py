"""What the transfers dashboard shows, computed from the transfer logs.

`summary()` lists the runs (newest first) with the columns of the page;
`run_detail()` adds one run's throughput over time and its failures. Both are
plain JSON documents served by the logs API (`/summary`, `/summary/{epoch}`),
so any other client can draw the same figures.

Throughput: each moved object's bytes are spread evenly over the seconds it
was in flight (`epoch_time_start` to `epoch_time_end`), then summed in equal
time buckets. A large object that took a minute therefore raises a minute of
the curve a little rather than one second a lot, which is what the link saw.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from s32s.transfers.log import RUNNING, LogListing, StoredLog, format_epoch

MAX_POINTS = 120  # buckets of the throughput curve: enough for a smooth line, small to send


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _side(data: dict[str, Any], side: str) -> str:
    bucket = data.get(f"{side}_bucket") or ""
    prefix = str(data.get(f"{side}_bucket_prefix") or "").strip("/")
    return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"


def duration(stored: StoredLog, now: float) -> float:
    """Seconds the run took, or has been running for."""
    data = stored.data
    recorded = _number(data.get("total_duration_seconds"))
    if recorded is not None:
        return recorded
    end = _number(data.get("end_time_epoch"))
    if end is None and data.get("status") == RUNNING:
        end = now
    return max((end or stored.epoch) - stored.epoch, 0.0)


def run_row(stored: StoredLog, now: float) -> dict[str, Any]:
    """One line of the runs table."""
    data = stored.data
    failed = data.get("failed_objects")
    unsynced = _number(data.get("initial_unsynced_objects"))
    return {
        "epoch": stored.epoch,
        "start_time": format_epoch(stored.epoch),
        "status": data.get("status") or "Unknown",
        "source": _side(data, "src"),
        "destination": _side(data, "dst"),
        "duration_seconds": round(duration(stored, now), 3),
        "objects_moved": len(stored.objects_moved),
        "objects_to_move": int(unsynced) if unsynced is not None else None,
        "bytes_transferred": int(_number(data.get("bytes_transferred")) or 0),
        "total_bytes_to_move": int(_number(data.get("total_bytes_to_move")) or 0),
        "failures": len(failed) if isinstance(failed, dict) else 0,
        "completion_percentage": _number(data.get("completion_percentage")),
    }


def throughput(
    objects: Iterable[dict[str, Any]], start: float, end: float, max_points: int = MAX_POINTS
) -> dict[str, Any]:
    """Bytes per second over the run: `{"bucket_seconds": w, "points": [{"t", "bytes_per_second"}]}`.

    `t` is the start of each bucket in seconds since the run began; there are
    at most `max_points` buckets of a whole number of seconds each.
    """
    span = max(end - start, 1.0)
    width = max(1, math.ceil(span / max_points))
    count = max(1, math.ceil(span / width))
    totals = [0.0] * count
    for item in objects:
        size = _number(item.get("bytes"))
        finished = _number(item.get("epoch_time_end"))
        if not size or finished is None:
            continue
        began = _number(item.get("epoch_time_start"))
        _spread(
            totals,
            size,
            (began if began is not None else finished) - start,
            finished - start,
            width,
        )
    return {
        "bucket_seconds": width,
        "points": [
            {"t": index * width, "bytes_per_second": round(total / width, 3)}
            for index, total in enumerate(totals)
        ],
    }


def _spread(totals: list[float], size: float, began: float, finished: float, width: int) -> None:
    """Add `size` bytes to the buckets covering [began, finished] (clamped to the run)."""
    last = len(totals) - 1
    horizon = (last + 1) * width
    began = min(max(began, 0.0), horizon)
    finished = min(max(finished, began), horizon)
    if finished - began <= 0:
        totals[min(int(finished // width), last)] += size
        return
    rate = size / (finished - began)
    first_bucket, last_bucket = int(began // width), min(int(finished // width), last)
    for index in range(first_bucket, last_bucket + 1):
        low, high = max(began, index * width), min(finished, (index + 1) * width)
        if high > low:
            totals[index] += rate * (high - low)


def run_detail(stored: StoredLog, now: float | None = None) -> dict[str, Any]:
    """The runs-table line of one run, its throughput curve and its failures."""
    now = time.time() if now is None else now
    row = run_row(stored, now)
    end = stored.epoch + row["duration_seconds"]
    failed = stored.data.get("failed_objects")
    failures = (
        [{"key": str(key), "reason": str(reason)} for key, reason in sorted(failed.items())]
        if isinstance(failed, dict)
        else []
    )
    return {
        **row,
        "throughput": throughput(stored.objects_moved, stored.epoch, end),
        "failed_objects": failures,
    }


def summary(listing: LogListing, now: float | None = None) -> dict[str, Any]:
    """Every run of `listing`, newest first, and the files that could not be read."""
    now = time.time() if now is None else now
    rows = [run_row(stored, now) for stored in listing]
    rows.sort(key=lambda row: row["epoch"], reverse=True)
    return {
        "generated_epoch": round(now, 3),
        "running": sum(1 for row in rows if row["status"] == RUNNING),
        "runs": rows,
        "problems": list(listing.problems),
    }
