"""The transfer-log HTTP API through real HTTP(S) requests to a server on 127.0.0.1."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.transfers import api as logsapi
from s32s.transfers.log import LogSide, LogWriter, TransferLog, open_store
from tests.helpers import make_certificate, s32s_executable

TOKEN = "s3cr3t-token-0123456789abcdef"


def write_run(directory: Path, epoch: int, moved: int) -> None:
    log = TransferLog(
        src=LogSide("src"),
        dst=LogSide("dst"),
        max_workers=2,
        start_time_epoch=epoch,
        clock=lambda: epoch + 10.0,
    )
    with LogWriter(log, directory, background=False):
        log.set_initial(synced_objects=0, unsynced_objects=moved, total_bytes_to_move=moved)
        for number in range(moved):
            log.record_moved(f"k{number}", f"k{number}", 1, epoch, epoch + 1)


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three finished runs; read-only, so shared by the module."""
    directory = tmp_path_factory.mktemp("api") / "logs"
    for epoch, moved in ((1000, 1), (2000, 2), (3000, 3)):
        write_run(directory, epoch, moved)
    return directory


@dataclass
class Api:
    host: str
    port: int
    context: ssl.SSLContext | None = None

    def get(
        self, path: str, *, token: str | None = TOKEN, bearer: bool = True, method: str = "GET"
    ) -> tuple[int, Any, dict[str, str]]:
        """(status, decoded JSON body, headers) of one request."""
        if self.context is not None:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.host, self.port, context=self.context, timeout=10
            )
        else:
            connection = http.client.HTTPConnection(self.host, self.port, timeout=10)
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}" if bearer else token
        try:
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            return response.status, json.loads(body), dict(response.getheaders())
        finally:
            connection.close()


def start_in_thread(store, *, cert: Path | None = None, key: Path | None = None):
    app = logsapi.LogsApi(store, TOKEN)
    server = logsapi.make_server(app, "127.0.0.1", 0, cert=cert, key=key, threads=4)
    host, port = logsapi.bind(server)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    return server, thread, host, port


@pytest.fixture(scope="module")
def api(log_dir: Path) -> Iterator[Api]:
    """One server for the read-only route tests (starting one per test costs 0.5 s to stop)."""
    server, thread, host, port = start_in_thread(open_store(directory=log_dir))
    yield Api(host, port)
    server.stop()
    thread.join(timeout=10)
    assert not thread.is_alive()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


# --------------------------------------------------------------------------- routes
def test_index_lists_routes(api: Api) -> None:
    status, body, headers = api.get("/")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    paths = {route["path"]: route for route in body["routes"]}
    assert set(paths) == {
        "/", "/logs", "/log/{epoch}", "/log/latest", "/summary", "/summary/{epoch}", "/openapi.json"
    }  # fmt: skip
    assert "start" in paths["/logs"]["parameters"]
    assert all(route["description"] for route in body["routes"])


def test_logs_range_and_objects(api: Api) -> None:
    status, body, _ = api.get("/logs")
    assert status == 200
    assert [log["start_time_epoch"] for log in body] == [1000, 2000, 3000]
    assert all("objects_moved" not in log for log in body)
    assert [log["objects_moved_count"] for log in body] == [1, 2, 3]
    _, ranged, _ = api.get("/logs?start=1500&end=3000")
    assert [log["start_time_epoch"] for log in ranged] == [2000, 3000]
    _, upto, _ = api.get("/logs?end=1000&retrieve_objects_moved=true")
    assert [item["src_key"] for item in upto[0]["objects_moved"]] == ["k0"]


def test_one_log_and_latest(api: Api) -> None:
    status, body, _ = api.get("/log/2000")
    assert status == 200
    assert body["start_time_epoch"] == 2000 and body["status"] == "Completed"
    assert "objects_moved" not in body
    _, full, _ = api.get("/log/2000?retrieve_objects_moved=true")
    assert len(full["objects_moved"]) == 2
    _, latest, _ = api.get("/log/latest")
    assert latest["start_time_epoch"] == 3000


def test_openapi(api: Api) -> None:
    status, body, _ = api.get("/openapi.json")
    assert status == 200
    assert body["openapi"].startswith("3.")
    assert set(body["paths"]) >= {"/logs", "/log/{epoch}", "/log/latest"}
    assert body["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/logs?start=abc", "Parameter start must be an integer epoch"),
        ("/logs?end=1.5", "Parameter end must be an integer epoch"),
        ("/logs?start=-3", "Parameter start must be an integer epoch"),
        ("/logs?start=5&end=4", "start (5) is after end (4)"),
        ("/logs?retrieve_objects_moved=maybe", "must be true or false"),
        ("/logs?begin=1", "Unknown parameter begin"),
        ("/logs?start=1&start=2", "given more than once"),
        ("/log/yesterday", "Parameter epoch must be an integer epoch"),
    ],
)
def test_bad_parameters(api: Api, path: str, message: str) -> None:
    status, body, _ = api.get(path)
    assert status == 400
    assert body["status"] == 400
    assert message in body["error"]


@pytest.mark.parametrize("path", ["/log/1234", "/nothing", "/log/1000/extra"])
def test_unknown_log_or_route(api: Api, path: str) -> None:
    status, body, _ = api.get(path)
    assert status == 404
    assert body["status"] == 404 and body["error"]


def test_latest_without_logs(tmp_path: Path) -> None:
    server, thread, host, port = start_in_thread(open_store(directory=tmp_path))
    try:
        status, body, _ = Api(host, port).get("/log/latest")
    finally:
        server.stop()
        thread.join(timeout=10)
    assert status == 404
    assert "There is no transfer log" in body["error"]


def test_only_get(api: Api) -> None:
    status, body, _ = api.get("/logs", method="DELETE")
    assert status == 405
    assert "only answers GET" in body["error"]


# --------------------------------------------------------------------------- token
def test_bearer_and_bare_token(api: Api) -> None:
    assert api.get("/log/latest", bearer=True)[0] == 200
    assert api.get("/log/latest", bearer=False)[0] == 200


@pytest.mark.parametrize(
    ("token", "bearer"),
    [(None, True), ("wrong", True), ("wrong", False), (TOKEN[:-1], True), (TOKEN + "x", False)],
)
def test_missing_or_wrong_token(api: Api, token: str | None, bearer: bool) -> None:
    for path in ("/", "/logs", "/log/latest", "/nothing"):
        status, body, headers = api.get(path, token=token, bearer=bearer)
        assert status == 401
        assert "Missing or wrong API token" in body["error"]
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in json.dumps(body)


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (f"Bearer {TOKEN}", True),
        (f"bearer   {TOKEN} ", True),
        (TOKEN, True),
        (f"Basic {TOKEN}", False),
        ("", False),
        (None, False),
        ("X" + TOKEN[1:], False),  # differs in the first character
        (TOKEN[:-1] + "X", False),  # differs in the last character
        (TOKEN[:-1], False),
        (TOKEN + TOKEN, False),
        ("Bearer jeton-été-ü", False),  # non-ASCII: refused, not a TypeError
    ],
)
def test_token_matching(header: str | None, accepted: bool) -> None:
    assert logsapi.token_matches(header, TOKEN) is accepted
    assert logsapi.token_matches(header, "") is False  # no token configured: nothing matches


def _lines_run(function: Any, *args: Any) -> int:
    """How many Python lines `function(*args)` runs: the work it does, without a clock."""
    count = 0

    def tracer(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        function(*args)
    finally:
        sys.settrace(None)
    return count


def test_token_check_does_the_same_work_wherever_a_wrong_token_differs() -> None:
    """A check that stops at the first wrong character tells an attacker how much was right."""
    wrong_at = [
        "X" + TOKEN[1:],
        TOKEN[: len(TOKEN) // 2] + "X" + TOKEN[len(TOKEN) // 2 + 1 :],
        TOKEN[:-1] + "X",
    ]
    work = {_lines_run(logsapi.token_matches, f"Bearer {wrong}", TOKEN) for wrong in wrong_at}
    assert len(work) == 1, work


# --------------------------------------------------------------------------- TLS
def test_tls_with_self_signed_certificate(log_dir: Path, certificate: tuple[Path, Path]) -> None:
    cert, key = certificate
    server, thread, host, port = start_in_thread(open_store(directory=log_dir), cert=cert, key=key)
    try:
        trusted = ssl.create_default_context(cafile=str(cert))
        status, body, _ = Api(host, port, trusted).get("/log/latest")
        assert status == 200 and body["start_time_epoch"] == 3000
        with pytest.raises(ssl.SSLCertVerificationError):
            Api(host, port, ssl.create_default_context()).get("/")
        plain_status = _plain_http_status(host, port)
        assert plain_status != 200
    finally:
        server.stop()
        thread.join(timeout=10)


def _plain_http_status(host: str, port: int) -> int | None:
    """What a plain-HTTP client gets from the TLS port: an error, never the logs."""
    try:
        return Api(host, port).get("/")[0]
    except (OSError, http.client.HTTPException, ValueError):
        return None


def test_bad_certificate_files(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    from s32s.errors import ConfigError

    cert, key = certificate
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigError, match="Cannot load the TLS certificate"):
        logsapi.tls_adapter(junk, key)
    with pytest.raises(ConfigError, match="does not exist"):
        logsapi.tls_adapter(cert, tmp_path / "missing.key")


# --------------------------------------------------------------------------- S3 store
def test_serves_logs_from_s3(moto_server, s3_http, log_dir: Path) -> None:
    s3_http.create_bucket(Bucket="logbucket")
    for path in log_dir.iterdir():
        s3_http.put_object(Bucket="logbucket", Key=f"t/{path.name}", Body=path.read_bytes())
    factory = ClientFactory(AwsOptions(endpoint_url=moto_server.url, max_attempts=1))
    server, thread, host, port = start_in_thread(open_store(s3_path="logbucket/t", factory=factory))
    try:
        api = Api(host, port)
        status, body, _ = api.get("/logs?start=2000")
        assert status == 200 and [log["start_time_epoch"] for log in body] == [2000, 3000]
        assert api.get("/log/1000")[1]["objects_moved_count"] == 1
        assert api.get("/log/1500")[0] == 404
        for path in log_dir.iterdir():
            s3_http.delete_object(Bucket="logbucket", Key=f"t/{path.name}")
        s3_http.delete_bucket(Bucket="logbucket")
        status, body, _ = api.get("/logs")
        assert status == 502
        assert "does not exist" in body["error"]
    finally:
        server.stop()
        thread.join(timeout=10)


# --------------------------------------------------------------------------- start-up
def test_refuses_without_token(cli, log_dir: Path) -> None:
    result = cli("logs", "serve", "--dir", str(log_dir), "--port", "0")
    assert result.exit_code == 2
    assert "S32S_API_TOKEN is not set" in result.stderr


def test_refuses_public_plain_http(cli, log_dir: Path) -> None:
    env = {"S32S_API_TOKEN": TOKEN}
    result = cli("logs", "serve", "--dir", str(log_dir), "--host", "0.0.0.0", env=env)
    assert result.exit_code == 3
    assert "Refusing to serve plain HTTP on 0.0.0.0" in result.stderr
    assert TOKEN not in result.output


def test_refuses_half_a_tls_pair(cli, log_dir: Path, certificate: tuple[Path, Path]) -> None:
    env = {"S32S_API_TOKEN": TOKEN}
    result = cli("logs", "serve", "--dir", str(log_dir), "--cert", str(certificate[0]), env=env)
    assert result.exit_code == 2
    assert "TLS needs both --cert and --key" in result.stderr


def test_refuses_unreadable_log_folder(cli, tmp_path: Path) -> None:
    env = {"S32S_API_TOKEN": TOKEN}
    result = cli("logs", "serve", "--dir", str(tmp_path / "none"), "--port", "0", env=env)
    assert result.exit_code == 2
    assert "does not exist" in result.stderr


def test_port_in_use(cli, log_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {"S32S_API_TOKEN": TOKEN}
        result = cli("logs", "serve", "--dir", str(log_dir), "--port", str(port), env=env)
    assert result.exit_code == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr


def test_loopback_detection() -> None:
    assert logsapi.is_loopback("127.0.0.1")
    assert logsapi.is_loopback("::1")
    assert logsapi.is_loopback("localhost")
    assert not logsapi.is_loopback("0.0.0.0")
    assert not logsapi.is_loopback("192.168.1.5")
    assert not logsapi.is_loopback("example.com")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(api: Api, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            api.get("/")
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"server did not start: {process.communicate()}") from None
            time.sleep(0.1)


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT, a POSIX signal")
def test_serve_command_over_tls_stops_on_ctrl_c(
    log_dir: Path, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    port = _free_port()
    command = [s32s_executable(), "logs", "serve", "--dir", str(log_dir), "--port", str(port)]
    command += ["--cert", str(cert), "--key", str(key)]
    process = subprocess.Popen(
        command,
        env={**os.environ, "S32S_API_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = Api("127.0.0.1", port, ssl.create_default_context(cafile=str(cert)))
    _wait_until_serving(api, process)
    assert api.get("/log/latest")[1]["start_time_epoch"] == 3000
    assert api.get("/log/latest", token="nope")[0] == 401
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert f"https://127.0.0.1:{port}/" in stderr
    assert "Server stopped." in stderr
    assert "Traceback" not in stderr
    assert TOKEN not in stdout + stderr
    with pytest.raises(OSError):
        api.get("/")
