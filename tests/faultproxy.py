"""A small HTTP proxy on 127.0.0.1 that injects faults in front of an S3 endpoint.

For a share of requests it answers 503 SlowDown, closes the connection
without answering, or cuts a response body in half. Which requests fail is
decided by a counter, so runs are repeatable (0 turns a kind of fault off).
`delay` holds every answer back that many seconds, as a long link does (a PUT
before its body is read); with `serial` requests are answered one at a time,
a slow endpoint. `only(method, path)` limits the faults to the requests it
accepts (and the counter to them). `faulted` records each fault:
(method, path with query, Range header, kind). `in_flight` counts the requests being handled,
`most_in_flight` the most at once, and `requests` records what was answered:
(method, path with query, Range header, status).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

SLOWDOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        slowdown_every: int = 5,
        drop_every: int = 7,
        cut_every: int = 6,
        delay: float = 0.0,
        serial: bool = False,
        only: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.slowdown_every = slowdown_every
        self.drop_every = drop_every
        self.cut_every = cut_every
        self.delay = delay
        self.requests: list[tuple[str, str, str | None, int]] = []
        self.faulted: list[tuple[str, str, str | None, str]] = []
        self.only = only
        self.in_flight = 0
        self.most_in_flight = 0
        self.serial = serial
        self._serial = threading.Lock()
        self.counter = 0
        self.faults = {"slowdown": 0, "drop": 0, "cut": 0}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def wait_idle(self, timeout: float = 60) -> None:
        """Wait until no request is being handled (a dead client's last requests are done)."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_fault(self, method: str, path: str, range_header: str | None) -> str | None:
        if self.only is not None and not self.only(method, path):
            return None
        with self._lock:
            self.counter += 1
            number = self.counter
            fault = None
            if _every(number, self.slowdown_every):
                fault = "slowdown"
            elif _every(number, self.drop_every):
                fault = "drop"
            elif method == "GET" and _every(number, self.cut_every):
                fault = "cut"
            if fault:
                self.faults[fault] += 1
                self.faulted.append((method, path, range_header, fault))
            return fault

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                with proxy._lock:
                    proxy.in_flight += 1
                    proxy.most_in_flight = max(proxy.most_in_flight, proxy.in_flight)
                try:
                    if proxy.serial:  # a slow endpoint answers one request at a time
                        with proxy._serial:
                            self._forward()
                    else:
                        self._forward()
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if proxy.delay and self.command == "PUT":
                    time.sleep(proxy.delay)  # before the body: a client that dies now sent nothing
                body = self.rfile.read(length) if length else b""
                if len(body) < length:  # the client went away mid-body
                    self.close_connection = True
                    return
                fault = proxy._next_fault(self.command, self.path, self.headers.get("Range"))
                if fault == "drop":
                    self.close_connection = True
                    self.connection.close()
                    return
                if fault == "slowdown":
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOWDOWN)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(SLOWDOWN)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("expect", "connection")
                }
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                if proxy.delay and self.command != "PUT":
                    time.sleep(proxy.delay)
                with proxy._lock:
                    proxy.requests.append(
                        (self.command, self.path, self.headers.get("Range"), response.status)
                    )
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "server",
                        "date",
                    ):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault == "cut" and len(data) > 1 and response.status in (200, 206):
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.close()
                    return
                self.wfile.write(data)
                upstream.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        return Handler


def _every(number: int, period: int) -> bool:
    return period > 0 and number % period == 0
