"""Several endpoints of one S3 service used as one client, round-robin with failover.

`s32s transfer` may be given a list of `endpoint_urls` per side (the nodes of
a Snowball Edge cluster, or several gateways to one store). `RotatingClient`
looks like a boto3 S3 client: each call goes to the next endpoint in
rotation; an endpoint that cannot be reached is taken out for a cool-down and
the call is retried on another. When every endpoint is out, calls raise
`AllEndpointsDown`, which names them.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from s32s.errors import AwsError

COOL_DOWN_SECONDS = 30.0


class AllEndpointsDown(AwsError):
    """No endpoint of a side answers."""


def is_unreachable(exc: BaseException) -> bool:
    """Failures that say the endpoint itself is gone, not that the request was wrong."""
    names = {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ConnectionRefusedError",
        "ConnectionResetError",
    }
    return type(exc).__name__ in names or isinstance(exc, ConnectionError)


class RotatingClient:
    """A stand-in for a boto3 S3 client spread over `clients` (one per endpoint URL)."""

    def __init__(
        self,
        clients: dict[str, Any],
        *,
        label: str,
        cool_down: float = COOL_DOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ValueError("at least one endpoint is needed")
        self.clients = clients
        self.label = label
        self.cool_down = cool_down
        self._clock = clock
        self._down_until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._cycle = itertools.cycle(list(clients))
        self.meta = next(iter(clients.values())).meta

    @property
    def exceptions(self) -> Any:
        return next(iter(self.clients.values())).exceptions

    def healthy(self) -> list[str]:
        now = self._clock()
        with self._lock:
            return [url for url in self.clients if self._down_until.get(url, 0.0) <= now]

    def _next_url(self, tried: set[str]) -> str:
        now = self._clock()
        with self._lock:
            for _ in range(len(self.clients)):
                url = next(self._cycle)
                if url not in tried and self._down_until.get(url, 0.0) <= now:
                    return url
        raise AllEndpointsDown(
            f"No endpoint of {self.label} can be reached: {', '.join(self.clients)}.",
            "Check that the endpoints are up and reachable from this machine.",
        )

    def mark_down(self, url: str) -> None:
        with self._lock:
            self._down_until[url] = self._clock() + self.cool_down

    def call(self, operation: str, **kwargs: Any) -> Any:
        tried: set[str] = set()
        while True:
            url = self._next_url(tried)
            tried.add(url)
            try:
                return getattr(self.clients[url], operation)(**kwargs)
            except Exception as exc:
                if not is_unreachable(exc):
                    raise
                self.mark_down(url)
                _rewind(kwargs.get("Body"))

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation.startswith("_"):
            raise AttributeError(operation)
        return lambda **kwargs: self.call(operation, **kwargs)

    def get_paginator(self, name: str) -> _RotatingPaginator:
        if name != "list_objects_v2":
            raise ValueError(f"only list_objects_v2 pages across endpoints, not {name}")
        return _RotatingPaginator(self)


class _RotatingPaginator:
    """Pages of ListObjectsV2; after a failover it resumes after the last key seen."""

    def __init__(self, client: RotatingClient) -> None:
        self.client = client

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        # Continuation tokens belong to the endpoint that issued them; StartAfter works on any.
        last_key: str | None = None
        while True:
            arguments = dict(kwargs, StartAfter=last_key) if last_key else dict(kwargs)
            page = self.client.call("list_objects_v2", **arguments)
            yield page
            contents = page.get("Contents") or []
            if contents:
                last_key = contents[-1]["Key"]
            if not page.get("IsTruncated") or not contents:
                return


def _rewind(body: Any) -> None:
    if body is not None and hasattr(body, "seek"):
        body.seek(0)
