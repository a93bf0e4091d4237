"""The transfers dashboard of `s32s logs serve`: its JSON summary, and the page in headless Chromium."""

from __future__ import annotations

import http.client
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s32s.transfers import api as logsapi
from s32s.transfers.log import LogSide, LogWriter, TransferLog, open_store
from tests.chromium import Chromium, find_chromium

TOKEN = "dashboard-token-0123456789abcdef"
HOSTILE_KEY = "photos/<img src=x onerror=\"document.title='pwned'\">.jpg"
T0 = 1_700_000_000  # start of the finished run


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def write_logs(directory: Path) -> tuple[TransferLog, LogWriter]:
    """A completed run, a failed run, and a run still going (its writer is returned open)."""
    clock = Clock(T0)
    done = TransferLog(
        src=LogSide("src-bkt", "data/"), dst=LogSide("dst-bkt", "copy/"), max_workers=4,
        start_time_epoch=T0, clock=clock,
    )  # fmt: skip
    with LogWriter(done, directory, background=False):
        done.set_initial(synced_objects=1, unsynced_objects=4, total_bytes_to_move=7000)
        # 1000 B/s over 0-4 s, then a 3000-byte object in the 6th second: a known curve.
        done.record_moved("data/a", "copy/a", 2000, T0 + 0, T0 + 2)
        done.record_moved("data/b", "copy/b", 2000, T0 + 2, T0 + 4)
        done.record_moved("data/c", "copy/c", 3000, T0 + 5, T0 + 6)
        done.record_moved("data/d", "copy/d", 0, T0 + 6, T0 + 6)
        clock.now = T0 + 8
    failed_clock = Clock(T0 + 100)
    failed = TransferLog(
        src=LogSide("src-bkt", "photos/"), dst=LogSide("dst-bkt"), max_workers=4,
        start_time_epoch=T0 + 100, clock=failed_clock,
    )  # fmt: skip
    with LogWriter(failed, directory, background=False):
        failed.set_initial(synced_objects=0, unsynced_objects=3, total_bytes_to_move=3 * 1024**2)
        failed.record_moved("photos/ok.jpg", "ok.jpg", 1024**2, T0 + 100, T0 + 101)
        failed.record_failed(HOSTILE_KEY, "Access denied.")
        failed.record_failed("photos/gone.jpg", "The object does not exist.")
        failed_clock.now = T0 + 103
    running = TransferLog(
        src=LogSide("live-src"), dst=LogSide("live-dst"), max_workers=8, start_time_epoch=T0 + 200
    )
    writer = LogWriter(running, directory, background=False, interval=0)
    writer.start()
    running.set_initial(synced_objects=0, unsynced_objects=10, total_bytes_to_move=10_000)
    running.record_moved("k0", "k0", 1000, T0 + 200, T0 + 201)
    writer.flush()
    return running, writer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, Any]]:
    directory = tmp_path / "logs"
    running, writer = write_logs(directory)
    app = logsapi.LogsApi(open_store(directory=directory), TOKEN)
    http_server = logsapi.make_server(app, "127.0.0.1", 0, threads=4)
    host, port = logsapi.bind(http_server)
    thread = threading.Thread(target=http_server.serve, daemon=True)
    thread.start()
    yield {
        "url": f"http://{host}:{port}",
        "host": host,
        "port": port,
        "running": running,
        "writer": writer,
    }
    http_server.stop()
    thread.join(timeout=10)


def get(server: dict[str, Any], path: str, *, token: str | None = TOKEN, accept: str | None = None):
    connection = http.client.HTTPConnection(server["host"], server["port"], timeout=10)
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if accept is not None:
        headers["Accept"] = accept
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def get_json(server: dict[str, Any], path: str) -> Any:
    status, body, _ = get(server, path)
    assert status == 200, body
    return json.loads(body)


# --------------------------------------------------------------------------- the JSON summary
def test_summary_lists_runs_newest_first_with_the_dashboard_columns(server) -> None:
    summary = get_json(server, "/summary")
    assert summary["running"] == 1 and summary["problems"] == []
    assert [run["epoch"] for run in summary["runs"]] == [T0 + 200, T0 + 100, T0]
    live, failed, done = summary["runs"]
    assert (done["status"], done["duration_seconds"], done["objects_moved"]) == ("Completed", 8, 4)
    assert (done["objects_to_move"], done["bytes_transferred"], done["failures"]) == (4, 7000, 0)
    assert (done["source"], done["destination"]) == ("s3://src-bkt/data", "s3://dst-bkt/copy")
    assert done["start_time"] == "2023-11-14 22:13:20 UTC"
    assert (failed["status"], failed["failures"], failed["bytes_transferred"]) == (
        "Failed",
        2,
        1024**2,
    )
    assert live["status"] == "Running" and live["duration_seconds"] > 0


def test_run_detail_has_the_throughput_curve_and_failures(server) -> None:
    detail = get_json(server, f"/summary/{T0}")
    assert detail["throughput"]["bucket_seconds"] == 1
    rates = [point["bytes_per_second"] for point in detail["throughput"]["points"]]
    assert rates == [1000, 1000, 1000, 1000, 0, 3000, 0, 0]
    assert [point["t"] for point in detail["throughput"]["points"]] == list(range(8))
    assert detail["failed_objects"] == []
    failed = get_json(server, f"/summary/{T0 + 100}")
    assert failed["failed_objects"] == [
        {"key": HOSTILE_KEY, "reason": "Access denied."},
        {"key": "photos/gone.jpg", "reason": "The object does not exist."},
    ]
    assert get_json(server, "/summary/latest")["epoch"] == T0 + 200


def test_summary_needs_the_token_and_checks_parameters(server) -> None:
    for path in ("/summary", f"/summary/{T0}"):
        assert get(server, path, token=None)[0] == 401
        assert get(server, path, token="wrong")[0] == 401
    assert get(server, "/summary/999")[0] == 404
    assert get(server, "/summary/abc")[0] == 400
    assert get(server, "/summary?bogus=1")[0] == 400
    assert [run["epoch"] for run in get_json(server, f"/summary?start={T0 + 50}")["runs"]] == [
        T0 + 200,
        T0 + 100,
    ]


def test_the_page_and_its_files_need_no_token_and_load_nothing_from_elsewhere(server) -> None:
    status, page, headers = get(server, "/", token=None, accept="text/html,application/xhtml+xml")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    text = page.decode()
    assert '<script src="dashboard.js"' in text and "http://" not in text and "https://" not in text
    for path, kind in (("/dashboard.js", "text/javascript"), ("/dashboard.css", "text/css")):
        status, body, headers = get(server, path, token=None)
        assert status == 200 and headers["Content-Type"].startswith(kind)
        assert b"https://" not in body and b"http://" not in body.replace(
            b"http://www.w3.org/2000/svg", b""
        )
    # An API client asking for / still gets the routes, and still needs the token.
    assert get(server, "/", token=None)[0] == 401
    routes = [route["path"] for route in json.loads(get(server, "/")[1])["routes"]]
    assert "/summary" in routes and "/summary/{epoch}" in routes


# --------------------------------------------------------------------------- in a browser
CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None or os.name != "posix",
    reason="needs Chromium on PATH (Debian: apt-get install chromium) on a POSIX system",
)


@pytest.fixture
def browser() -> Iterator[Chromium]:
    assert CHROMIUM is not None
    chromium = Chromium(CHROMIUM)
    yield chromium
    chromium.close()


ROWS = "Array.from(document.querySelectorAll('#runs tbody tr'))"
CELLS = f"""{ROWS}.map(row => ({{
    epoch: Number(row.dataset.epoch),
    cells: Array.from(row.cells).map(cell => cell.textContent),
}}))"""
POINTS = """Array.from(document.querySelectorAll('#chart circle')).map(
    dot => [Number(dot.dataset.t), Number(dot.dataset.bytesPerSecond), Number(dot.getAttribute('cy'))])"""


@needs_chromium
def test_the_dashboard_draws_runs_chart_and_failures_and_follows_a_running_transfer(
    server, browser
) -> None:
    page = browser.open(f"{server['url']}/#token={TOKEN}")
    page.wait_for(f"{ROWS}.length === 3", what="three rows in the runs table")
    # The token left the address bar for this tab's sessionStorage.
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("sessionStorage.getItem('s32s-api-token')") == TOKEN

    rows = {row["epoch"]: row["cells"] for row in page.evaluate(CELLS)}
    assert rows[T0][:6] == [
        "Completed",
        "2023-11-14 22:13:20 UTC",
        "8.0 s",
        "4 / 4",
        "6.8 KiB",
        "0",
    ]
    assert rows[T0][6] == "s3://src-bkt/data → s3://dst-bkt/copy"
    assert rows[T0 + 100][:6] == [
        "Failed",
        "2023-11-14 22:15:00 UTC",
        "3.0 s",
        "1 / 3",
        "1.0 MiB",
        "2",
    ]
    assert rows[T0 + 200][0] == "Running" and rows[T0 + 200][3] == "1 / 10"

    # The newest run is shown first; pick the finished one and read its chart.
    page.evaluate(f"document.querySelector('#runs tr[data-epoch=\"{T0}\"]').click()")
    page.wait_for(f"document.getElementById('detail').dataset.epoch === '{T0}'", what="run detail")
    points = page.wait_for(f"{POINTS}.length === 8 && {POINTS}", what="eight chart points")
    assert [(t, rate) for t, rate, _ in points] == [
        (0, 1000), (1, 1000), (2, 1000), (3, 1000), (4, 0), (5, 3000), (6, 0), (7, 0)
    ]  # fmt: skip
    heights = [cy for _, _, cy in points]
    assert heights[5] < heights[0] < heights[4]  # the peak is drawn highest, zero lowest
    assert heights[0] == heights[1] == heights[2] == heights[3] and heights[4] == heights[6]
    polyline = page.evaluate("document.querySelector('#chart polyline').getAttribute('points')")
    assert len(polyline.split()) == 8
    assert page.evaluate("document.getElementById('failures').hidden")
    assert page.evaluate("document.getElementById('no-failures').hidden") is False

    # The failed run: its failures are listed as text, the hostile key never becomes markup.
    page.evaluate(f"document.querySelector('#runs tr[data-epoch=\"{T0 + 100}\"]').click()")
    failures = page.wait_for(
        "Array.from(document.querySelectorAll('#failures tbody tr')).map(r => [r.cells[0].textContent, r.cells[1].textContent])",
        what="the failures table",
    )
    assert failures == [
        [HOSTILE_KEY, "Access denied."],
        ["photos/gone.jpg", "The object does not exist."],
    ]
    assert page.evaluate("document.querySelectorAll('#failures img').length") == 0
    assert page.evaluate("document.title") == "s32s transfers"

    # The running transfer moves on: the page follows without a reload.
    page.evaluate(f"document.querySelector('#runs tr[data-epoch=\"{T0 + 200}\"]').click()")
    running, writer = server["running"], server["writer"]
    for index in range(1, 4):
        running.record_moved(f"k{index}", f"k{index}", 1000, T0 + 201, T0 + 202)
    writer.flush()
    page.wait_for(
        f"document.querySelector('#runs tr[data-epoch=\"{T0 + 200}\"]').dataset.objects === '4'",
        what="the running row to show 4 objects",
    )
    live_row = page.evaluate(CELLS)[0]["cells"]
    assert live_row[3] == "4 / 10" and live_row[4] == "3.9 KiB"
    for index in range(4, 10):
        running.record_moved(f"k{index}", f"k{index}", 1000, T0 + 202, T0 + 203)
    writer.close()
    page.wait_for(
        f"document.querySelector('#runs tr[data-epoch=\"{T0 + 200}\"]').dataset.status === 'Completed'",
        timeout=120,
        what="the finished run to show Completed",
    )


@needs_chromium
def test_the_page_asks_for_the_token_and_says_when_it_is_refused(server, browser) -> None:
    page = browser.open(f"{server['url']}/")
    page.wait_for("!document.getElementById('login').hidden", what="the token form")
    assert page.evaluate("document.getElementById('dashboard').hidden")
    page.evaluate(
        "document.getElementById('token').value = 'wrong-token';"
        "document.getElementById('login').requestSubmit()"
    )
    message = page.wait_for(
        "!document.getElementById('login-error').hidden && document.getElementById('login-error').textContent",
        what="the refusal",
    )
    assert message == "The server refused this token."
    assert page.evaluate("sessionStorage.getItem('s32s-api-token')") is None
    page.evaluate(
        f"document.getElementById('token').value = '{TOKEN}';"
        "document.getElementById('login').requestSubmit()"
    )
    page.wait_for(f"{ROWS}.length === 3", what="the runs after a good token")
