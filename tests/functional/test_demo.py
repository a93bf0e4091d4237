"""`s32s demo` end to end, as the README's first command runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import run_executable, s32s_executable


def test_demo_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    result = run_executable(["demo", "--dir", str(root)], timeout=180)
    assert result.exit_code == 0, result.stderr
    out = result.stderr
    assert "the slave folder matches the master" in out
    assert "1 to copy (56 B), 1 to delete" in out  # the incremental plan
    assert (
        "would be deleted from s3://s32s-demo/site" in out and "docs/notes.txt" in out
    )  # the delete preview
    slave = root / "slave"
    assert (slave / "about.txt").read_text().endswith("(edited)\n")
    assert not (slave / "docs" / "notes.txt").exists()
    assert list((slave / "cache").iterdir()) == []  # session.tmp is ignored by the map
    assert (slave / "uploads" / "empty").is_dir()  # empty folders survive
    assert len(list((slave / "images").glob("img_*.jpg"))) == 3
    assert f"demo folder    {root}" in out


def test_demo_refuses_a_folder_with_files(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("mine")
    result = run_executable(["demo", "--dir", str(tmp_path)])
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert (tmp_path / "x").read_text() == "mine"


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_demo_keep_prints_endpoint_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [s32s_executable(), "demo", "--keep", "--dir", str(tmp_path / "d")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 120
    assert process.stderr is not None
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if "Press Ctrl-C" in line or not line:
            break
    text = "".join(lines)
    endpoint = next(part for part in text.split() if part.startswith("http://127.0.0.1:"))
    assert f"s32s --endpoint-url {endpoint} --config" in text
    urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=5).read()  # still serving
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).read()
