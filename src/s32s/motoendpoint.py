"""moto's S3 server on 127.0.0.1, in a child process: the embedded endpoint of `s32s demo` and of the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

from s32s.errors import ConfigError

DEMO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MotoEndpoint:
    """Starts moto's server on a free loopback port; `stop()` ends it."""

    def __init__(self, port: int | None = None) -> None:
        try:
            import moto.server  # noqa: F401
        except ImportError:
            raise ConfigError(
                "The embedded S3 endpoint needs moto's server, which is not installed.",
                "Install it with: pip install 's32s[demo]'  (or the dev extra).",
            ) from None
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> MotoEndpoint:
        env = {**os.environ, **DEMO_CREDENTIALS}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            # Ctrl-C in the terminal goes to s32s, which stops the endpoint itself.
            start_new_session=(os.name == "posix"),
            creationflags=getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0),
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1).read()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise ConfigError(
                        f"The local S3 endpoint did not start on {self.url}."
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self) -> MotoEndpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
