"""The engine's own retries: only what botocore cannot retry itself.

botocore retries every HTTP request (throttling, 5xx, dropped connections,
timeouts) up to `AwsOptions.max_attempts` times in its retry mode; the
engine never retries those again, so a throttled PUT is sent at most that
many times. What botocore cannot retry happens after it returned:

- a GET body that breaks while it streams (the connection drops, stalls past
  the read timeout, or ends short of its Content-Length). `GuardedBody`
  turns botocore's and urllib3's streaming errors into `BodyInterrupted`,
  so only an error raised while a body is read counts, never a request
  that botocore already gave up on;
- a local file that changed while it was uploaded (`FileChangedError`).

Those are retried per file, `ENGINE_ATTEMPTS` times with a jittered backoff.
A file downloaded in parts resumes from the parts already written, so its
retry fetches only the part that broke (and those not yet started).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from s32s.sync.local import FileChangedError

ENGINE_ATTEMPTS = 4
T = TypeVar("T")


class BodyInterrupted(OSError):
    """The connection broke while an object's body was being received."""


def _streaming_errors() -> tuple[type[BaseException], ...]:
    import botocore.exceptions as bce
    import urllib3.exceptions as ue

    return (
        bce.ResponseStreamingError,
        bce.IncompleteReadError,
        bce.ReadTimeoutError,
        bce.FlexibleChecksumError,  # bytes damaged in transit, seen at the end of the body
        ue.ProtocolError,
        ue.ReadTimeoutError,
        ConnectionError,
        TimeoutError,
    )


class GuardedBody:
    """A GET's streaming body whose read errors come out as `BodyInterrupted`."""

    def __init__(self, body: Any) -> None:
        self._body = body
        self._errors = _streaming_errors()

    def read(self, amount: int | None = None) -> bytes:
        try:
            return bytes(self._body.read(amount))
        except self._errors as exc:
            raise BodyInterrupted(f"the download was cut off: {exc}") from exc

    def iter_chunks(self, chunk_size: int) -> Iterator[bytes]:
        while data := self.read(chunk_size):
            yield data

    def close(self) -> None:
        self._body.close()


def retried_by_engine(exc: BaseException) -> bool:
    """Failures the engine tries again; everything else botocore has retried already."""
    return isinstance(exc, BodyInterrupted | FileChangedError)


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int = ENGINE_ATTEMPTS,
    backoff_base: float = 0.2,
    stop: threading.Event | None = None,
) -> T:
    """`call()`, tried again (up to `attempts` in all) while it fails in a way the engine retries."""
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if attempt >= attempts or not retried_by_engine(exc) or (stop and stop.is_set()):
                raise
            delay = backoff_base * (2 ** (attempt - 1))
            time.sleep(delay * (0.5 + random.random()))
    raise AssertionError("unreachable: the last attempt returns or raises")
