"""Which failures are retried, and how they read."""

from __future__ import annotations

from botocore.exceptions import ClientError, ReadTimeoutError

from s32s.sync.execute import describe_failure, is_transient


def test_a_read_timeout_is_retried_and_described() -> None:
    timeout = ReadTimeoutError(endpoint_url="http://127.0.0.1:9/b/k")
    assert timeout.response is None  # botocore's timeouts carry no answer
    assert is_transient(timeout)
    assert describe_failure(timeout) == 'Read timeout on endpoint URL: "http://127.0.0.1:9/b/k"'


def test_a_replaced_object_is_not_retried() -> None:
    error = ClientError({"Error": {"Code": "PreconditionFailed"}}, "GetObject")
    assert not is_transient(error)
    assert "replaced during the run" in describe_failure(error)
