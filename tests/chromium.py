"""Headless Chromium driven through the DevTools protocol over a pipe (no extra package).

`--remote-debugging-pipe` makes Chromium read protocol commands from file
descriptor 3 and write answers and events to descriptor 4, each message a
JSON document ended by a NUL byte. That is all a test needs to open a page,
run JavaScript in it and read back what was drawn; no WebSocket client, no
driver binary. POSIX only (the descriptors are set up with dup2).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from typing import Any

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    """The first Chromium (or Chrome) on PATH, or None."""
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class ProtocolError(RuntimeError):
    pass


class Chromium:
    """One headless browser process; `open(url)` gives a `Page`."""

    def __init__(self, executable: str) -> None:
        self.executable = executable
        self.profile = tempfile.mkdtemp(prefix="s32s-chromium-")
        self._next_id = 0
        self._answers: dict[int, dict[str, Any]] = {}
        self._condition = threading.Condition()
        self._closed = False
        commands_read, self._commands = os.pipe()
        self._events, events_write = os.pipe()

        def wire_descriptors() -> None:  # runs in the child, before exec
            # Copy both ends out of the way first: either may already be 3 or 4, and
            # dup2 onto itself would leave it close-on-exec.
            commands, events = os.dup(commands_read), os.dup(events_write)
            os.dup2(commands, 3)
            os.dup2(events, 4)

        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,
            preexec_fn=wire_descriptors,  # only dup and dup2: no lock another thread could hold
        )
        os.close(commands_read)
        os.close(events_write)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # protocol ---------------------------------------------------------------
    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._events, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                with self._condition:
                    self._closed = True
                    self._condition.notify_all()
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._condition:
                        self._answers[message["id"]] = message
                        self._condition.notify_all()

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        session: str | None = None,
        timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Send one command and wait for its answer (the `result` object)."""
        with self._condition:
            self._next_id += 1
            number = self._next_id
        message: dict[str, Any] = {"id": number, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._commands, json.dumps(message).encode("utf-8") + b"\0")
        deadline = time.monotonic() + timeout
        with self._condition:
            while number not in self._answers:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise ProtocolError(f"no answer to {method} (browser gone or too slow)")
                self._condition.wait(left)
            answer = self._answers.pop(number)
        if "error" in answer:
            raise ProtocolError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    def open(self, url: str) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Page.navigate", {"url": url})
        return page

    def close(self) -> None:
        with contextlib.suppress(ProtocolError, OSError):
            self.call("Browser.close", timeout=10)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=20)
        for descriptor in (self._commands, self._events):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """One tab: evaluate JavaScript, wait for what it draws."""

    def __init__(self, browser: Chromium, session: str) -> None:
        self.browser = browser
        self.session = session

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.call(method, params, self.session)

    def evaluate(self, expression: str) -> Any:
        """The JSON value of `expression` in the page (promises are awaited)."""
        result = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 90.0, what: str | None = None) -> Any:
        """Poll `expression` until it is truthy; returns its value. Generous by default.

        An expression that throws (the page is still loading) counts as not yet.
        """
        deadline = time.monotonic() + timeout
        last_error: ProtocolError | None = None
        while True:
            try:
                value = self.evaluate(expression)
            except ProtocolError as exc:
                value, last_error = None, exc
            if value:
                return value
            if time.monotonic() > deadline:
                detail = f" (last error: {last_error})" if last_error else ""
                raise AssertionError(
                    f"timed out after {timeout:.0f} s waiting for {what or expression}{detail}"
                )
            time.sleep(0.1)
