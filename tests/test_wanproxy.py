"""The benchmarks' link model (benchmarks/wanproxy.py): request counting, delay, pacing, integrity.

Only lower bounds on time are asserted (a delay or a rate cap can make a transfer slower,
never faster), so a loaded machine cannot make these tests fail.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import wanproxy
from wanproxy import Link, RequestCounter, WanProxy, link_from_options, request_kind

# --------------------------------------------------------------------------- counting requests


def count(stream: bytes, chunk: int) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    counter = RequestCounter(counts)
    for i in range(0, len(stream), chunk):
        counter.feed(stream[i : i + chunk])
    return counts


def request(method: str, target: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return head.encode() + b"\r\n" + body


def chunked(body: bytes, size: int) -> bytes:
    out = b""
    for i in range(0, len(body), size):
        piece = body[i : i + size]
        out += f"{len(piece):x};chunk-signature=abc\r\n".encode() + piece + b"\r\n"
    return out + b"0\r\nx-amz-checksum-crc32: AAAA==\r\n\r\n"


# A body that looks like requests: a counter that scanned bodies would count these.
DECOY = b"GET /bench/x HTTP/1.1\r\n\r\nPUT /bench/y HTTP/1.1\r\n\r\n" * 50


@pytest.mark.parametrize("chunk", [1, 7, 4096, 1 << 20])
def test_counter_follows_framing_across_any_split(chunk: int) -> None:
    stream = b"".join(
        [
            request("PUT", "/bench/a/f1", {"Content-Length": str(len(DECOY))}, DECOY),
            request("GET", "/bench?list-type=2&prefix=a%2F", {}),
            request(
                "PUT",
                "/bench/a/f2",
                {"Transfer-Encoding": "chunked", "Content-Encoding": "aws-chunked"},
                chunked(DECOY, 333),
            ),
            request("HEAD", "/bench/a/f1", {"Content-Length": "0"}),
            request("PUT", "/bench/b/f1", {"x-amz-copy-source": "bench/a/f1"}),
            request("DELETE", "/bench/b/f1", {}),
            request("POST", "/bench?delete", {"Content-Length": "5"}, b"<x/>\n"),
            request("GET", "/bench/a/f1", {"Range": "bytes=0-9"}),
        ]
    )
    assert count(stream, chunk) == {
        "PUT": 2,
        "LIST": 1,
        "HEAD": 1,
        "COPY": 1,
        "DELETE": 1,
        "POST": 1,
        "GET": 1,
    }


def test_counter_gives_up_on_a_stream_that_is_not_http() -> None:
    counts = count(b"\x16\x03\x01\x02\x00garbage that is not a request line\r\n\r\n", 5)
    assert counts == {"unparsed": 1}


def test_counter_refuses_a_malformed_length_without_crashing() -> None:
    counts = count(request("PUT", "/bench/x", {"Content-Length": "ten"}, b"0123456789"), 3)
    assert counts == {"PUT": 1, "unparsed": 1}


@pytest.mark.parametrize(
    ("method", "target", "headers", "kind"),
    [
        ("GET", "/", {}, "LIST"),  # ListBuckets
        ("GET", "/bench", {}, "LIST"),
        ("GET", "/bench/", {}, "LIST"),
        ("GET", "/bench?prefix=a%2F&delimiter=%2F", {}, "LIST"),
        ("GET", "/bench/a/b", {}, "GET"),
        ("GET", "/bench/a?uploadId=1", {}, "GET"),
        ("PUT", "/bench/a?partNumber=1&uploadId=1", {}, "PUT"),
        ("PUT", "/bench/a", {"x-amz-copy-source": "bench/b"}, "COPY"),
        ("PATCH", "/bench/a", {}, "OTHER"),
    ],
)
def test_request_kinds(method: str, target: str, headers: dict[str, str], kind: str) -> None:
    assert request_kind(method, target, headers) == kind


def test_link_options() -> None:
    link = link_from_options(100, 25)
    assert link.one_way == pytest.approx(0.05)
    assert link.rate == 25_000_000
    assert link.buffer_limit >= 2 * 25_000_000 * 0.05  # the window never caps a paced stream
    assert link_from_options(0, 0).rate is None
    with pytest.raises(ValueError, match="negative"):
        link_from_options(-1, 25)


# --------------------------------------------------------------------------- the link


async def echo_server() -> tuple[asyncio.AbstractServer, int]:
    """Answers each line with its SHA-256, and a `send N` line with N bytes of zeros."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            while line := await reader.readline():
                if line.startswith(b"send "):
                    writer.write(b"\0" * int(line.split()[1]))
                else:
                    writer.write(hashlib.sha256(line).hexdigest().encode() + b"\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def through_proxy(link: Link, exchange) -> tuple[float, WanProxy]:  # type: ignore[no-untyped-def]
    server, port = await echo_server()
    proxy = WanProxy(("127.0.0.1", port), link)
    proxy_port = await proxy.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
        started = time.perf_counter()
        await exchange(reader, writer)
        elapsed = time.perf_counter() - started
        writer.close()
        return elapsed, proxy
    finally:
        proxy.server.close()
        server.close()


def test_bytes_pass_intact_and_each_round_trip_costs_the_rtt() -> None:
    lines = [os.urandom(200).hex().encode() + b"\n" for _ in range(3)]

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for line in lines:  # one request, one answer, three times
            writer.write(line)
            assert await reader.readline() == hashlib.sha256(line).hexdigest().encode() + b"\n"

    elapsed, proxy = asyncio.run(through_proxy(Link(rtt=0.1), exchange))
    # the connection's handshake (one RTT) and three round trips
    assert elapsed >= 4 * 0.1 - 0.005
    assert proxy.totals.connections == 1
    assert proxy.totals.bytes_up == sum(len(line) for line in lines)


def test_a_connection_is_paced_to_its_rate_and_a_stream_is_pipelined() -> None:
    size = 1_000_000

    async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"send {size}\n".encode())
        assert await reader.readexactly(size) == b"\0" * size

    link = Link(rtt=0.1, rate=4_000_000)
    elapsed, proxy = asyncio.run(through_proxy(link, exchange))
    assert elapsed >= size / 4_000_000 + 0.1  # paced at 4 MB/s, plus one round trip
    # pipelined: the delay is paid once, not per chunk (several chunks of 128 KiB)
    assert elapsed < size / 4_000_000 + 0.1 + 5.0
    assert proxy.totals.bytes_down == size


def test_the_command_line_proxy_reports_counts_and_stops_when_stdin_closes() -> None:
    proxy = subprocess.Popen(
        [sys.executable, wanproxy.__file__, "--upstream", "127.0.0.1:9", "--rtt-ms", "0"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proxy.stdin is not None and proxy.stdout is not None
    try:
        first = proxy.stdout.readline().split()
        assert first[0] == "listening" and int(first[1]) > 0
        proxy.stdin.write("counts\n")
        proxy.stdin.flush()
        totals = json.loads(proxy.stdout.readline())
        assert totals["requests"] == {} and totals["connections"] == 0
        proxy.stdin.close()
        assert proxy.wait(timeout=20) == 0
    finally:
        if proxy.poll() is None:
            proxy.kill()
            proxy.wait()


def test_bad_upstream_is_a_usage_error() -> None:
    result = subprocess.run(
        [sys.executable, wanproxy.__file__, "--upstream", "nowhere"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "HOST:PORT" in result.stderr
