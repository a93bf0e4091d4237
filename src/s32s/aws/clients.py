"""The one place where boto3 sessions and clients are made.

Every command builds a `ClientFactory` from the global options
(--profile, --region, --endpoint-url / AWS_ENDPOINT_URL) and asks it for
clients. The factory sets the retry mode, sizes the connection pool to the
worker count, picks the checksum settings for the endpoint (`checksum_setting`),
and applies the Snowball Edge quirks (path-style addressing, a
self-signed certificate) when the region is `snow`.

`aws_errors()` turns botocore's exceptions into one clear sentence each.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from s32s.errors import AwsError

if TYPE_CHECKING:
    from botocore.session import Session as BotocoreSession

SNOW_REGION = "snow"
DEFAULT_POOL = 10


@dataclass(frozen=True)
class AwsOptions:
    """How to reach AWS or an S3-compatible endpoint."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    session_token: str | None = None
    verify_tls: bool | str | None = None  # None: verify, except on Snowball endpoints
    max_pool_connections: int = DEFAULT_POOL
    max_attempts: int = 8  # tries of one request in all, the first included (botocore retries)
    retry_mode: str = "adaptive"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    checksums: str | None = None  # "when_supported" / "when_required"; None: by endpoint

    @property
    def is_snow(self) -> bool:
        return (self.region or "").lower() == SNOW_REGION

    def for_workers(self, workers: int | None) -> AwsOptions:
        """A connection pool that fits a run's `workers` requests (None: adaptive
        concurrency's maximum), plus a few for listings and HEADs beside them."""
        from s32s.sync.concurrency import pool_size

        return replace(self, max_pool_connections=max(pool_size(workers) + 4, DEFAULT_POOL))


class ClientFactory:
    """Makes and caches boto3 clients for one set of options. Thread-safe."""

    def __init__(self, options: AwsOptions | None = None) -> None:
        self.options = options or AwsOptions()
        self._lock = threading.Lock()
        self._session: BotocoreSession | None = None
        self._clients: dict[tuple[str, str | None], Any] = {}

    def derive(self, **changes: Any) -> ClientFactory:
        return ClientFactory(replace(self.options, **changes))

    @property
    def endpoint_url(self) -> str | None:
        return self.options.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None

    def session(self) -> BotocoreSession:
        with self._lock:
            if self._session is None:
                self._session = self._make_session()
            return self._session

    def _make_session(self) -> BotocoreSession:
        """A botocore session (boto3's import alone costs a no-op run a large share of its time)."""
        import botocore.exceptions
        import botocore.session

        options = self.options
        session = botocore.session.Session(profile=options.profile)
        try:
            session.get_scoped_config()  # a missing profile fails here, not at the first request
        except botocore.exceptions.ProfileNotFound:
            raise AwsError(
                f"AWS profile {options.profile!r} is not in your AWS config or credentials file.",
                "Check the name with `aws configure list-profiles`, or create it.",
            ) from None
        if options.access_key and options.secret_key:
            session.set_credentials(options.access_key, options.secret_key, options.session_token)
        if options.region and not options.is_snow:
            session.set_config_variable("region", options.region)
        parsers = session.get_component("response_parser_factory")
        parsers.set_parser_defaults(timestamp_parser=parse_timestamp)
        return session

    def client(self, service: str, *, endpoint_url: str | None = None) -> Any:
        """A cached client for `service`; `endpoint_url` overrides the global one."""
        endpoint = endpoint_url or self.endpoint_url
        key = (service, endpoint)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        session = self.session()
        client = session.create_client(
            service,
            endpoint_url=endpoint,
            region_name=self._region_for(session),
            config=self._botocore_config(service, self._is_snow(session), endpoint),
            verify=self._verify(self._is_snow(session)),
        )
        if service == "s3":
            from s32s.aws.listing import list_objects_v2_parser

            # After botocore's own `before-call.s3` handler, which adds the header.
            client.meta.events.register_last("before-call.s3", _no_continue_for_small_bodies)
            client.meta.events.register(
                "before-parse.s3.ListObjectsV2", list_objects_v2_parser(parse_timestamp)
            )
        with self._lock:
            return self._clients.setdefault(key, client)

    def s3(self, endpoint_url: str | None = None) -> Any:
        return self.client("s3", endpoint_url=endpoint_url)

    def _is_snow(self, session: BotocoreSession) -> bool:
        """`--region snow`, or a profile whose region is `snow` (a Snowball Edge device)."""
        return (
            self.options.is_snow
            or (session.get_config_variable("region") or "").lower() == SNOW_REGION
        )

    def _region_for(self, session: BotocoreSession) -> str:
        if self._is_snow(session):
            return SNOW_REGION
        return self.options.region or session.get_config_variable("region") or "us-east-1"

    def _verify(self, snow: bool) -> bool | str | None:
        if self.options.verify_tls is not None:
            return self.options.verify_tls
        return False if snow else None

    def _botocore_config(self, service: str, snow: bool, endpoint: str | None) -> Any:
        from botocore.config import Config

        options = self.options
        checksums = options.checksums or checksum_setting(endpoint, snow=snow)
        settings: dict[str, Any] = {
            "retries": {
                "total_max_attempts": max(1, options.max_attempts),
                "mode": options.retry_mode,
            },
            "max_pool_connections": options.max_pool_connections,
            "connect_timeout": options.connect_timeout,
            "read_timeout": options.read_timeout,
            "tcp_keepalive": True,
            "request_checksum_calculation": checksums,
            "response_checksum_validation": checksums,
        }
        if service == "s3" and (snow or endpoint):
            # Snowball Edge and most S3-compatible servers only speak path-style.
            settings["s3"] = {"addressing_style": "path"}
        if snow:
            settings["signature_version"] = "s3v4"
        return Config(**settings)


AWS_HOST_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn")


def checksum_setting(endpoint_url: str | None, *, snow: bool = False) -> str:
    """botocore's checksum setting for requests and responses to this endpoint.

    AWS over HTTPS (no endpoint URL, or an `https://…amazonaws.com` one)
    gets `when_supported`: a CRC32 sent with every upload and checked on
    every whole download S3 answers with one. Any other endpoint (MinIO,
    Ceph, rclone, Snowball Edge, a plain-HTTP URL) gets `when_required`:
    servers differ in the checksums they know, and some answer a ranged GET
    with the whole object's CRC32, which would fail every download in parts.
    """
    if snow:
        return "when_required"
    if not endpoint_url:
        return "when_supported"
    parts = urlsplit(endpoint_url)
    host = (parts.hostname or "").lower()
    on_aws = host.endswith(AWS_HOST_SUFFIXES) or host in ("amazonaws.com", "amazonaws.com.cn")
    return "when_supported" if parts.scheme == "https" and on_aws else "when_required"


THROTTLING_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
)


def watch_throttling(client: Any, on_throttled: Callable[[], None]) -> Callable[[], None]:
    """Call `on_throttled` whenever `client` gets a throttling answer (SlowDown, 503, 429).

    botocore retries these itself, so the caller never sees them unless every
    attempt failed; this watches each attempt instead. Returns a function that
    stops watching.
    """
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        return lambda: None

    def observe(response: Any = None, **_: Any) -> None:
        if not response:
            return
        http, parsed = response
        code = str((parsed or {}).get("Error", {}).get("Code", ""))
        if getattr(http, "status_code", None) in (429, 503) or code in THROTTLING_CODES:
            on_throttled()
        # None: leave the retry decision to botocore's own handler

    unique_id = f"s32s-throttling-{id(observe)}"
    events.register_first("needs-retry.s3", observe, unique_id=unique_id)
    return lambda: events.unregister("needs-retry.s3", observe, unique_id=unique_id)


CONTINUE_ABOVE = 1024 * 1024  # only larger bodies wait for `100 Continue` before they are sent


def _no_continue_for_small_bodies(params: dict[str, Any], **_: Any) -> None:
    """Send small bodies at once instead of waiting for `100 Continue` first.

    botocore asks for `Expect: 100-continue` on every upload; for a small file
    the extra round trip costs more than the body, which S3 accepts or refuses
    just the same.
    """
    length = params.get("headers", {}).get("Content-Length")
    if length is not None and int(length) <= CONTINUE_ABOVE:
        params["headers"].pop("Expect", None)


def parse_timestamp(value: str) -> datetime:
    """botocore's timestamp parser is general and slow; S3 uses two fixed formats.

    Listings carry ISO 8601 and response headers RFC 1123 dates. Parsing the
    LastModified of every listed object dominated the CPU time of planning a
    large tree; this is what the AWS CLI does too.
    """
    try:
        if value[:1].isdigit():
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsedate_to_datetime(value)
    except (ValueError, AttributeError, TypeError, IndexError):
        from botocore.utils import parse_timestamp as general

        return general(value)


def _error_field(exc: BaseException | None, name: str) -> str:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    return str(response.get("Error", {}).get(name, "")).strip()


def error_code(exc: BaseException | None) -> str:
    """The S3/AWS error code of a failed request (`NoSuchKey`, `412`…); empty for other errors."""
    return _error_field(exc, "Code")


def error_message(exc: BaseException | None) -> str:
    """The message AWS sent with a failed request; empty for other errors."""
    return _error_field(exc, "Message")


def describe_client_error(exc: Exception, *, bucket: str | None = None) -> str:
    """One sentence for a failed request; used for per-file failures too."""
    code = error_code(exc)
    if code in ("404", "NotFound") and getattr(exc, "operation_name", "") == "HeadBucket":
        code = "NoSuchBucket"  # HEAD answers carry no error body
    where = f" bucket {bucket!r}" if bucket else ""
    messages = {
        "NoSuchBucket": f"The{where or ' bucket'} does not exist.",
        "AccessDenied": f"Access denied to{where or ' the resource'}.",
        "403": f"Access denied to{where or ' the resource'}.",
        "404": "Not found.",
        "NoSuchKey": "The object does not exist (it may have been deleted meanwhile).",
        "InvalidAccessKeyId": "The AWS access key is not valid.",
        "SignatureDoesNotMatch": "The AWS secret key does not match the access key.",
        "ExpiredToken": "The AWS credentials have expired.",
        "RequestExpired": "The AWS credentials have expired.",
        "ExpiredTokenException": "The AWS credentials have expired.",
        "SlowDown": "The endpoint is throttling requests (SlowDown), even after retries.",
    }
    if code in messages:
        return messages[code]
    return str(exc)


_HINTS = {
    "NoSuchBucket": "Check the bucket name and the region/endpoint, or create the bucket.",
    "AccessDenied": "Check the IAM policy of these credentials, or use another --profile.",
    "403": "Check the IAM policy of these credentials, or use another --profile.",
    "InvalidAccessKeyId": "Check the credentials in your profile or environment.",
    "SignatureDoesNotMatch": "Check the secret key in your profile or environment.",
    "ExpiredToken": "Refresh them (for example `aws sso login`) and try again.",
    "RequestExpired": "Refresh them (for example `aws sso login`) and try again.",
    "ExpiredTokenException": "Refresh them (for example `aws sso login`) and try again.",
}


def translate_error(
    exc: BaseException, *, bucket: str | None = None, endpoint: str | None = None
) -> AwsError | None:
    """An `AwsError` for botocore's exceptions, or None for anything else."""
    import botocore.exceptions as bce

    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return AwsError(
            "No AWS credentials were found.",
            "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, run `aws configure`, or pass --profile.",
        )
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectTimeoutError):
        url = endpoint or getattr(exc, "kwargs", {}).get("endpoint_url", "the endpoint")
        return AwsError(
            f"Cannot reach {url}.",
            "Check the --endpoint-url, the network and that the service is running.",
        )
    if isinstance(exc, bce.ProfileNotFound):
        return AwsError(f"{exc}.", "Check the name with `aws configure list-profiles`.")
    if isinstance(exc, bce.SSLError):
        return AwsError(
            f"TLS failed talking to {endpoint or 'the endpoint'}: {exc}.",
            "For a device with a self-signed certificate use region `snow`.",
        )
    if isinstance(exc, bce.ClientError):
        code = error_code(exc)
        if code in ("404", "NotFound") and getattr(exc, "operation_name", "") == "HeadBucket":
            code = "NoSuchBucket"
        return AwsError(describe_client_error(exc, bucket=bucket), _HINTS.get(code))
    if isinstance(exc, bce.BotoCoreError):
        return AwsError(str(exc))
    return None


def describe_error(exc: BaseException) -> str:
    """One sentence for any failure: s32s's own message, botocore's translated, else its text."""
    from s32s.errors import S32SError

    if isinstance(exc, S32SError):
        return exc.message
    translated = translate_error(exc)
    text = translated.message if translated is not None else str(exc) or type(exc).__name__
    return text if text.endswith(".") else f"{text}."


@contextmanager
def aws_errors(*, bucket: str | None = None, endpoint: str | None = None) -> Iterator[None]:
    """Re-raise botocore's exceptions as `AwsError` (exit 2) with a clear message."""
    try:
        yield
    except Exception as exc:
        translated = translate_error(exc, bucket=bucket, endpoint=endpoint)
        if translated is None:
            raise
        raise translated from exc
