from __future__ import annotations

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


def test_lock_is_exclusive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S32S_STATE_DIR", str(tmp_path))
    with destination_lock("dest-a", "/srv/a"):
        with (
            pytest.raises(SafeguardRefused, match="already writing to /srv/a"),
            destination_lock("dest-a", "/srv/a"),
        ):
            pass
        with destination_lock("dest-b", "/srv/b"):
            pass
    with destination_lock("dest-a", "/srv/a"):
        pass  # released when the first run ended
