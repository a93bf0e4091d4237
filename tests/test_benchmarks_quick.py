"""The benchmark harness runs end to end in its --quick form (a smoke check; no times asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "benchmarks" / "run.py"


@pytest.mark.slow
def test_quick_benchmark_writes_table_json_and_chart(tmp_path: Path) -> None:
    out, work, results = tmp_path / "out", tmp_path / "work", tmp_path / "results.json"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            "--quick",
            "--out",
            str(out),
            "--work",
            str(work),
            "--json",
            str(results),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    data = json.loads(results.read_text())
    assert data["quick"] is True
    for scenario in ("a", "b", "c", "d", "e", "f"):
        s32s = data["summary"][scenario]["s32s"]
        assert s32s["ok"] == s32s["runs"] == 1, s32s
        assert s32s["median"] > 0 and s32s["peak_mib"] > 0

    table = (out / "benchmarks.md").read_text()
    header = next(line for line in table.splitlines() if line.startswith("| Scenario |"))
    assert "s32s" in header
    assert any(line.startswith("| (a) push 50 × 4 KiB |") for line in table.splitlines())
    assert (out / "benchmarks.png").stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == ["benchmarks.md", "benchmarks.png"]
