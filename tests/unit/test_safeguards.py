from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from s32s.errors import SafeguardRefused
from s32s.sync.entries import Entry
from s32s.sync.lock import destination_lock
from s32s.sync.plan import PlanOptions, make_plan
from s32s.sync.safeguards import Safeguards, check_local_destination, refusals


def files(*keys: str) -> list[Entry]:
    return [Entry(k, size=1, mtime_ns=1) for k in keys]


def test_empty_or_missing_source_refused() -> None:
    plan = make_plan([], files("a", "b"), PlanOptions())
    assert "the source is empty" in refusals(plan, Safeguards(), source_exists=True)[0]
    assert "does not exist" in refusals(plan, Safeguards(), source_exists=False)[0]
    assert (
        refusals(plan, Safeguards(allow_empty_source=True, max_delete=-1), source_exists=True) == []
    )
    assert refusals(make_plan([], [], PlanOptions()), Safeguards(), source_exists=False) == []


def test_more_than_half_refused_unless_allowed() -> None:
    plan = make_plan(files("a"), files("a", "b", "c"), PlanOptions())
    assert "more than half" in refusals(plan, Safeguards(), source_exists=True)[0]
    assert refusals(plan, Safeguards(max_delete=2), source_exists=True) == []
    assert (
        "more than --max-delete 1"
        in refusals(plan, Safeguards(max_delete=1), source_exists=True)[0]
    )
    assert refusals(plan, Safeguards(max_delete=-1), source_exists=True) == []
    half = make_plan(files("a", "b"), files("a", "b", "c", "d"), PlanOptions())
    assert refusals(half, Safeguards(), source_exists=True) == []


def test_parse_max_delete() -> None:
    assert Safeguards.parse_max_delete("all") == -1
    assert Safeguards.parse_max_delete("7") == 7
    assert Safeguards.parse_max_delete(None) is None
    for bad in ("-1", "x"):
        with pytest.raises(ValueError):
            Safeguards.parse_max_delete(bad)


@pytest.mark.parametrize("folder", ["/", "C:", "C:/", "c:\\", "//server/share"])
def test_dangerous_slave_folders(folder: str) -> None:
    with pytest.raises(SafeguardRefused):
        check_local_destination(folder)


def test_home_folder_is_dangerous(isolated_env: Path) -> None:
    with pytest.raises(SafeguardRefused, match="home folder"):
        check_local_destination(str(isolated_env))
    check_local_destination(str(isolated_env / "site"))


HOLD_LOCK = """
import sys
from s32s.sync.lock import destination_lock
with destination_lock("dest-a", "/srv/a"):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_lock_is_exclusive_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run in another process holds the lock: this one is refused, naming it; when it dies the lock is free."""
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path))
    env = {**os.environ}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with (
            pytest.raises(
                SafeguardRefused, match=rf"already writing to /srv/a \(pid {holder.pid} "
            ) as refused,
            destination_lock("dest-a", "/srv/a"),
        ):
            pass
        assert refused.value.exit_code == 3
        with destination_lock("dest-b", "/srv/b"):
            pass  # another destination is not held
        holder.kill()  # a crashed run: the OS frees its lock
        holder.wait(timeout=10)
        with destination_lock("dest-a", "/srv/a"):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


def test_lock_is_exclusive_within_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path))
    with (
        destination_lock("dest-a", "/srv/a"),
        pytest.raises(SafeguardRefused, match="already writing to /srv/a"),
        destination_lock("dest-a", "/srv/a"),
    ):
        pass
    with destination_lock("dest-a", "/srv/a"):
        pass  # released when the first run ended
