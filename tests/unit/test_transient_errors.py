"""Which failures the engine retries (only what botocore cannot), and how they read."""

from __future__ import annotations

import io

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.response import StreamingBody
from urllib3.exceptions import ProtocolError

from s32s.sync.execute import describe_failure
from s32s.sync.local import FileChangedError
from s32s.sync.retry import BodyInterrupted, GuardedBody, retried_by_engine, with_retries


class Breaking(io.RawIOBase):
    """A response body that breaks with `error` after `good` bytes."""

    def __init__(self, good: bytes, error: BaseException) -> None:
        self.good = io.BytesIO(good)
        self.error = error

    def read(self, amount: int = -1) -> bytes:
        data = self.good.read(amount)
        if not data:
            raise self.error
        return data


@pytest.mark.parametrize(
    "error",
    [
        ProtocolError("Connection broken: IncompleteRead"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9/b/k"),
        ConnectionResetError(104, "reset"),
    ],
)
def test_an_error_while_a_body_streams_is_the_engines_to_retry(error: BaseException) -> None:
    body = GuardedBody(StreamingBody(Breaking(b"half", error), 8))
    with pytest.raises(BodyInterrupted) as caught:
        b"".join(body.iter_chunks(2))
    assert retried_by_engine(caught.value)
    assert "cut off" in describe_failure(caught.value)


def test_a_body_that_ends_short_is_the_engines_to_retry() -> None:
    body = GuardedBody(StreamingBody(io.BytesIO(b"half"), 8))
    with pytest.raises(BodyInterrupted) as caught:
        body.read()
    assert isinstance(caught.value.__cause__, IncompleteReadError)


@pytest.mark.parametrize(
    "error",
    [
        ClientError({"Error": {"Code": "SlowDown"}}, "PutObject"),
        ClientError({"Error": {"Code": "InternalError"}}, "GetObject"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9/b/k"),  # botocore gave up on the request
        ConnectionClosedError(endpoint_url="http://127.0.0.1:9/b/k"),
        ResponseStreamingError(error="raised by botocore itself, after its retries"),
        ClientError({"Error": {"Code": "PreconditionFailed"}}, "GetObject"),
    ],
)
def test_what_botocore_retries_or_refuses_is_not_tried_again(error: Exception) -> None:
    calls = []

    def fail() -> None:
        calls.append(1)
        raise error

    assert not retried_by_engine(error)
    with pytest.raises(type(error)):
        with_retries(fail, attempts=4, backoff_base=0)
    assert len(calls) == 1


def test_a_changed_file_is_tried_up_to_the_engines_attempts() -> None:
    calls = []

    def fail() -> None:
        calls.append(1)
        raise FileChangedError("the file changed while it was read")

    with pytest.raises(FileChangedError):
        with_retries(fail, attempts=3, backoff_base=0)
    assert len(calls) == 3
    calls.clear()
    assert with_retries(lambda: calls.append(1) or "done", attempts=0) == "done"  # at least once


def test_a_replaced_object_reads_clearly() -> None:
    error = ClientError({"Error": {"Code": "PreconditionFailed"}}, "GetObject")
    assert "replaced during the run" in describe_failure(error)
