#!/usr/bin/env python3
"""A long network link in user space: a TCP proxy on 127.0.0.1 that delays and paces.

    python benchmarks/wanproxy.py --upstream 127.0.0.1:PORT [--rtt-ms 100] [--rate-mbps 25]

Every TCP connection a client opens to the proxy gets its own connection to the
upstream server. The model of the link, per connection and per direction:

- **Delay.** Bytes read from one side are written to the other RTT/2 after they
  were read. The delay is applied to each chunk as it passes, so a stream is
  pipelined as on a real link (a 100 MiB body is not held back once per chunk);
  what costs a full round trip is what the protocol itself waits for: a request
  and its response, a `100 Continue`.
- **Connection set-up.** The first bytes a client sends on a new connection reach
  the server no sooner than 1.5 RTT after it connected, as after TCP's handshake
  (connect() returns after one RTT; the data then travels RTT/2). TLS is not modelled.
- **Rate.** Each direction of each connection is paced to at most `--rate-mbps`
  MB/s (a token bucket without burst: a chunk leaves when the previous one has
  "left the wire"), as the per-connection limit of a long link (its window over
  its RTT) caps a single stream. Many connections share no common limit.
- **Window.** At most `--window` bytes per direction are held in the proxy; when
  that much is in flight the proxy stops reading, so a sender's writes block as
  TCP's would. The default is twice the bytes a capped connection carries in
  RTT/2 (at least 1 MiB), so the window never caps a paced stream.
- **Not modelled:** packet loss and retransmission, TCP slow start, jitter, a
  bottleneck shared by all connections, TLS.

The proxy counts the HTTP/1.1 requests clients send (request lines, by kind:
LIST, GET, HEAD, PUT, COPY, POST, DELETE), parsing each request's length
(Content-Length or chunked) so bodies are never mistaken for requests.

It prints `listening PORT` on its first line of stdout, then answers each line
`counts` on stdin with one JSON line of its totals since it started (requests
by kind, connections, bytes each way, its own CPU seconds). It exits when stdin
closes, so it never outlives the process that started it.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

MIB = 1024**2
READ_SIZE = 256 * 1024
PACED_PIECE = 128 * 1024  # a paced chunk is split so pacing stays smooth (5 ms at 25 MB/s)
MAX_HEADER = 1 * MIB


# --------------------------------------------------------------------------- the link


@dataclass(frozen=True)
class Link:
    """One direction of the modelled link: delay in seconds, rate in bytes/s (None: no cap)."""

    rtt: float
    rate: float | None = None
    window: int = 0

    @property
    def one_way(self) -> float:
        return self.rtt / 2

    @property
    def buffer_limit(self) -> int:
        if self.window:
            return self.window
        if self.rate:
            return max(MIB, int(2 * self.rate * self.one_way))
        return 16 * MIB if self.rtt else MIB


def link_from_options(rtt_ms: float, rate_mbps: float, window: int = 0) -> Link:
    """--rtt-ms and --rate-mbps (decimal MB/s; 0 means no cap) as a Link."""
    if rtt_ms < 0 or rate_mbps < 0 or window < 0:
        raise ValueError("the RTT, rate and window cannot be negative")
    return Link(rtt_ms / 1000, rate_mbps * 1_000_000 if rate_mbps else None, window)


# --------------------------------------------------------------------------- counting requests


REQUEST_KINDS = ("LIST", "GET", "HEAD", "PUT", "COPY", "POST", "DELETE", "OTHER")


def request_kind(method: str, target: str, headers: dict[str, str]) -> str:
    """The S3 operation of one path-style request: a GET on a bucket is a LIST, a PUT with a copy source a COPY."""
    if method == "GET":
        path, _, query = target.partition("?")
        segments = [s for s in path.split("/") if s]
        listing = any(
            f"{name}=" in query for name in ("list-type", "prefix", "delimiter", "marker")
        )
        if not segments or "list-type=" in query or (len(segments) == 1 and (listing or not query)):
            return "LIST"
        return "GET"
    if method == "PUT" and "x-amz-copy-source" in headers:
        return "COPY"
    return method if method in REQUEST_KINDS else "OTHER"


class RequestCounter:
    """Counts the HTTP/1.1 requests in a client's byte stream, fed in arbitrary chunks.

    Follows each request's framing (headers, then Content-Length bytes or chunked
    encoding with trailers) so request bodies are skipped, not scanned. A stream it
    cannot parse stops being counted and is reported in `unparsed`.
    """

    def __init__(self, counts: collections.Counter[str]) -> None:
        self.counts = counts
        self.pending = b""  # an incomplete header block or chunk-size line
        self.state = "head"  # head | body | chunk-size | chunk-data | trailer | broken
        self.remaining = 0

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.state != "broken":
            if self.state in ("body", "chunk-data"):
                take = min(self.remaining, len(view))
                self.remaining -= take
                view = view[take:]
                if self.remaining == 0:
                    self.state = "head" if self.state == "body" else "chunk-size"
                continue
            view = self._line_state(view)

    def _line_state(self, view: memoryview) -> memoryview:
        """Collect bytes until the terminator of the current state, then act on them."""
        terminator = b"\r\n\r\n" if self.state == "head" else b"\r\n"
        start = max(0, len(self.pending) - len(terminator) + 1)
        self.pending += bytes(view)
        end = self.pending.find(terminator, start)
        if end < 0:
            if len(self.pending) > MAX_HEADER:
                self._broken()
            return memoryview(b"")
        block, rest = self.pending[:end], self.pending[end + len(terminator) :]
        self.pending = b""
        if self.state == "head":
            self._on_head(block)
        elif self.state == "chunk-size":
            self._on_chunk_size(block)
        elif block == b"":  # the empty line after the trailers
            self.state = "head"
        return memoryview(rest)

    def _on_head(self, block: bytes) -> None:
        lines = block.split(b"\r\n")
        while lines and lines[0] == b"":  # stray CRLF between requests
            lines.pop(0)
        if not lines:
            return
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            self._broken()
            return
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        method, target = parts[0].decode("latin-1"), parts[1].decode("latin-1")
        self.counts[request_kind(method, target, headers)] += 1
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.state = "chunk-size"
        elif headers.get("content-length", "0").strip() not in ("", "0"):
            try:
                self.remaining = int(headers["content-length"])
            except ValueError:
                self._broken()
                return
            self.state = "body"

    def _on_chunk_size(self, line: bytes) -> None:
        try:
            size = int(line.split(b";")[0].strip(), 16)
        except ValueError:
            self._broken()
            return
        if size == 0:
            self.state = "trailer"
        else:
            self.remaining, self.state = size + 2, "chunk-data"  # the data and its CRLF

    def _broken(self) -> None:
        self.state, self.pending = "broken", b""
        self.counts["unparsed"] += 1


# --------------------------------------------------------------------------- the proxy


@dataclass
class Totals:
    requests: collections.Counter[str] = field(default_factory=collections.Counter)
    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0

    def snapshot(self) -> dict[str, object]:
        return {
            "requests": dict(self.requests),
            "connections": self.connections,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "cpu": time.process_time(),
        }


class Direction:
    """One direction of one connection: data is stamped when read, held for pacing and the
    one-way delay, then written. Transports and asyncio timers only: no task per chunk."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        link: Link,
        not_before: float,
        on_bytes: Callable[[bytes], None],
        on_finished: Callable[[], None],
    ) -> None:
        self.loop, self.link = loop, link
        self.on_finished = on_finished
        self.not_before = not_before  # nothing is delivered before this (the handshake)
        self.on_bytes = on_bytes
        self.source: asyncio.Transport | None = None
        self.sink: asyncio.Transport | None = None
        self.queue: collections.deque[tuple[float, bytes]] = collections.deque()
        self.buffered = 0
        self.wire_free = 0.0  # when the paced link has sent everything queued so far
        self.timer: asyncio.TimerHandle | None = None
        self.sink_full = False  # the sink's own write buffer is above its high-water mark
        self.reading_paused = False
        self.finished = False  # end of stream delivered

    def receive(self, data: bytes) -> None:
        self.on_bytes(data)
        now = self.loop.time()
        for piece in self._pieces(data):
            self.queue.append((self._due(now, len(piece)), piece))
        self.buffered += len(data)
        self._throttle()
        self.flush()

    def end(self) -> None:
        self.queue.append((self._due(self.loop.time(), 0), b""))
        self.flush()

    def _pieces(self, data: bytes) -> list[bytes]:
        if not self.link.rate or len(data) <= PACED_PIECE:
            return [data]
        return [data[i : i + PACED_PIECE] for i in range(0, len(data), PACED_PIECE)]

    def _due(self, now: float, size: int) -> float:
        """When a piece read now reaches the other side: after pacing, then the one-way delay."""
        sent = now
        if self.link.rate:
            sent = max(now, self.wire_free) + size / self.link.rate
            self.wire_free = sent
        return max(sent + self.link.one_way, self.not_before)

    def flush(self) -> None:
        """Write every piece that is due; set a timer for the next one."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.sink is None:
            return  # the upstream connection is not open yet
        now = self.loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, data = self.queue.popleft()
            if not data:
                self.finished = True
                if not self.sink.is_closing() and self.sink.can_write_eof():
                    with contextlib.suppress(OSError):  # the other side is already gone
                        self.sink.write_eof()
                self.on_finished()
                return
            if not self.sink.is_closing():
                self.sink.write(data)
            self.buffered -= len(data)
        if self.queue:
            self.timer = self.loop.call_at(self.queue[0][0], self.flush)
        self._throttle()

    def sink_pressure(self, full: bool) -> None:
        self.sink_full = full
        self._throttle()

    def _throttle(self) -> None:
        """Stop reading while the window is full or the sink cannot keep up; read again after."""
        if self.source is None or self.source.is_closing():
            return
        stop = self.sink_full or self.buffered >= self.link.buffer_limit
        if stop and not self.reading_paused:
            self.source.pause_reading()
            self.reading_paused = True
        elif not stop and self.reading_paused:
            self.source.resume_reading()
            self.reading_paused = False


class Side(asyncio.Protocol):
    """One of the two sockets of a proxied connection."""

    def __init__(self, incoming: Direction, outgoing: Direction, on_lost: Callable[[], None]):
        self.incoming, self.outgoing, self.on_lost = incoming, outgoing, on_lost

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.incoming.source = transport
        self.outgoing.sink = transport
        self.outgoing.flush()

    def data_received(self, data: bytes) -> None:
        self.incoming.receive(data)

    def eof_received(self) -> bool:
        self.incoming.end()
        return True  # keep the other half open: the answer may still be on its way

    def pause_writing(self) -> None:
        self.outgoing.sink_pressure(True)

    def resume_writing(self) -> None:
        self.outgoing.sink_pressure(False)

    def connection_lost(self, exc: Exception | None) -> None:
        self.on_lost()


class Connection:
    """A client connection and its upstream connection, closed together."""

    def __init__(self, proxy: WanProxy) -> None:
        loop = asyncio.get_running_loop()
        totals, link = proxy.totals, proxy.link
        totals.connections += 1
        counter = RequestCounter(totals.requests)

        def upstream_bytes(data: bytes) -> None:
            totals.bytes_up += len(data)
            counter.feed(data)

        def downstream_bytes(data: bytes) -> None:
            totals.bytes_down += len(data)

        # A client's first bytes reach the server 1.5 RTT after it connected, as after TCP's
        # handshake (connect() returns after one RTT, then the data travels RTT/2).
        handshake = loop.time() + link.rtt + link.one_way
        self.up = Direction(loop, link, handshake, upstream_bytes, self.finished)
        self.down = Direction(loop, link, 0.0, downstream_bytes, self.finished)
        self.client = Side(self.up, self.down, self.close)
        self.server = Side(self.down, self.up, self.close)
        self.opening = loop.create_task(self._open(loop, proxy.upstream))

    async def _open(self, loop: asyncio.AbstractEventLoop, upstream: tuple[str, int]) -> None:
        try:
            await loop.create_connection(lambda: self.server, *upstream)
        except OSError:
            self.close()

    def finished(self) -> None:
        """Both ends have closed their sending side and all was delivered: close."""
        if self.up.finished and self.down.finished:
            self.close()

    def close(self) -> None:
        """Close both sockets (a socket closes after writing what it holds)."""
        for direction in (self.up, self.down):
            if direction.timer is not None:
                direction.timer.cancel()
        for side in (self.client, self.server):
            transport = side.incoming.source
            if transport is not None and not transport.is_closing():
                transport.close()


class WanProxy:
    """The proxy server: each accepted connection is piped to a new upstream connection."""

    def __init__(self, upstream: tuple[str, int], link: Link) -> None:
        self.upstream, self.link = upstream, link
        self.totals = Totals()

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self.server = await loop.create_server(
            lambda: Connection(self).client, host, port, backlog=1024
        )
        return int(self.server.sockets[0].getsockname()[1])


# --------------------------------------------------------------------------- command line


def parse_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--upstream", type=parse_host_port, required=True, help="the server, HOST:PORT"
    )
    parser.add_argument(
        "--listen",
        type=parse_host_port,
        default=("127.0.0.1", 0),
        help="where to listen, HOST:PORT (default 127.0.0.1 and a free port)",
    )
    parser.add_argument("--rtt-ms", type=float, default=100.0, help="round-trip time (default 100)")
    parser.add_argument(
        "--rate-mbps",
        type=float,
        default=25.0,
        help="cap per connection and direction in MB/s (default 25; 0: no cap)",
    )
    parser.add_argument(
        "--window",
        type=int,
        default=0,
        help="bytes held per connection and direction (default: 2 × rate × RTT/2, at least 1 MiB)",
    )
    return parser.parse_args(argv)


def serve_commands(proxy: WanProxy, loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """Answer `counts` lines on stdin with a JSON snapshot; stop the proxy when stdin closes."""

    async def snapshot() -> dict[str, object]:
        return proxy.totals.snapshot()

    for line in sys.stdin:
        if line.strip() == "counts":
            totals = asyncio.run_coroutine_threadsafe(snapshot(), loop).result()
            print(json.dumps(totals), flush=True)
    loop.call_soon_threadsafe(stop.set)


async def serve(args: argparse.Namespace) -> None:
    proxy = WanProxy(args.upstream, link_from_options(args.rtt_ms, args.rate_mbps, args.window))
    port = await proxy.start(*args.listen)
    print(f"listening {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    threading.Thread(target=serve_commands, args=(proxy, loop, stop), daemon=True).start()
    await stop.wait()
    proxy.server.close()


def main(argv: list[str] | None = None) -> int:
    try:
        asyncio.run(serve(parse(argv)))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
