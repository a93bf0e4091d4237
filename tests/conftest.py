"""Shared fixtures: fake credentials, a temporary HOME, moto in-process, and two S3 servers over HTTP.

`moto_server` is moto's server; `s3_server` is parametrised over moto's and rclone's
(`tests/s3servers.py`), for the tests that must hold on every S3 implementation.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CliResult, invoke_cli
from tests.s3servers import MotoServer, RcloneServer

FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
CLEARED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "S32S_CONFIG", "AWS_REGION", "S32S_API_TOKEN")


def pytest_configure(config: pytest.Config) -> None:
    """Let the Ctrl-C tests' SIGINT reach s32s however the suite was started.

    A shell without job control starts background commands with SIGINT
    ignored, and every child inherits that: s32s would never see Ctrl-C.
    """
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fake AWS credentials, an empty HOME and AWS config files that belong to the test."""
    home = tmp_path_factory.mktemp("home")
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in FAKE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("TERM", "dumb")
    return home


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Each test starts with the s32s and botocore loggers as they were.

    An in-process CLI run with -v or -vv sets their levels and handlers (a real
    process ends there); left set, later tests would see AWS debug lines on stderr.
    """
    saved = [
        (logger, logger.level, list(logger.handlers))
        for logger in (logging.getLogger("s32s"), logging.getLogger("botocore"))
    ]
    yield
    for logger, level, handlers in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers


@pytest.fixture
def mock_s3() -> Iterator[object]:
    """An S3 client on moto's in-process mock."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield boto3.client("s3", region_name="us-east-1")


@pytest.fixture(scope="session")
def moto_server_process() -> Iterator[MotoServer]:
    server = MotoServer().start()
    yield server
    server.stop()


@pytest.fixture
def moto_server(moto_server_process: MotoServer) -> MotoServer:
    """A moto server over real HTTP on 127.0.0.1, emptied for each test."""
    moto_server_process.reset()
    return moto_server_process


@pytest.fixture
def s3_http(moto_server: MotoServer) -> object:
    """An S3 client talking HTTP to the moto server."""
    import boto3

    return boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server.url)


@pytest.fixture
def moto_clients(moto_server: MotoServer) -> dict[str, object]:
    """The moto server's `url` and boto3 clients for `s3`, `sqs` and `sns` on it."""
    import boto3

    clients: dict[str, object] = {"url": moto_server.url}
    for service in ("s3", "sqs", "sns"):
        clients[service] = boto3.client(
            service, region_name="us-east-1", endpoint_url=moto_server.url
        )
    return clients


@pytest.fixture
def rclone_server() -> Iterator[RcloneServer]:
    """`rclone serve s3` (a Go S3 server) over HTTP on 127.0.0.1, a new one for each test.

    A fresh process (it starts in a fraction of a second) lets rclone keep its
    directory cache: emptying its folder under a running server would need the
    cache off, and without it every request re-reads the whole tree.
    """
    server = RcloneServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["moto", "rclone"])
def s3_server(request: pytest.FixtureRequest) -> MotoServer | RcloneServer:
    """Each S3 server in turn, emptied: the test must hold on both (`.url`, `.name`)."""
    return request.getfixturevalue(f"{request.param}_server")


@pytest.fixture
def server(request: pytest.FixtureRequest) -> MotoServer | RcloneServer:
    """moto's server, or each server in turn for a test marked `tests.s3servers.BOTH_SERVERS`.

    For files whose fixtures build on one server: only the tests marked run
    on both, the others on moto's alone.
    """
    return request.getfixturevalue(f"{getattr(request, 'param', 'moto')}_server")


@pytest.fixture
def s3_client(s3_server: MotoServer | RcloneServer) -> object:
    """An S3 client talking HTTP to `s3_server`."""
    import boto3

    return boto3.client("s3", region_name="us-east-1", endpoint_url=s3_server.url)


@pytest.fixture
def cli():
    """Run `s32s ARGS...` in-process (click's CliRunner); returns a CliResult."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> CliResult:
        return invoke_cli(list(args), input=input, env=env)

    return run


@pytest.fixture
def multipart_threshold(monkeypatch: pytest.MonkeyPatch) -> int:
    """Files of 16 MiB or more go in parts: a fixed figure for tests, whatever the default."""
    from s32s.sync import s3

    threshold = 16 * s3.MiB
    monkeypatch.setattr(s3, "MULTIPART_THRESHOLD", threshold)
    return threshold
