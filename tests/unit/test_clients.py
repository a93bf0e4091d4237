from __future__ import annotations

import pytest
from botocore.stub import Stubber

from s32s.aws.clients import (
    AwsOptions,
    ClientFactory,
    aws_errors,
    checksum_setting,
    parse_timestamp,
    translate_error,
)
from s32s.errors import AwsError


def test_options_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = ClientFactory(
        AwsOptions(region="eu-west-3", endpoint_url="http://127.0.0.1:9").for_workers(28)
    )
    s3 = factory.s3()
    assert s3.meta.region_name == "eu-west-3"
    assert s3.meta.endpoint_url == "http://127.0.0.1:9"
    assert s3.meta.config.max_pool_connections == 32
    assert s3.meta.config.retries["mode"] == "adaptive"
    assert s3.meta.config.s3["addressing_style"] == "path"
    assert factory.s3() is s3  # cached


def test_each_request_is_tried_max_attempts_times_in_all() -> None:
    s3 = ClientFactory(AwsOptions(endpoint_url="http://127.0.0.1:9", max_attempts=5)).s3()
    assert s3.meta.config.retries["total_max_attempts"] == 5


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (None, "when_supported"),
        ("https://s3.eu-west-3.amazonaws.com", "when_supported"),
        ("https://bucket.s3.dualstack.us-east-1.amazonaws.com:443/", "when_supported"),
        ("https://s3.cn-north-1.amazonaws.com.cn", "when_supported"),
        ("http://s3.eu-west-3.amazonaws.com", "when_required"),  # no TLS
        ("https://minio.example.com", "when_required"),
        ("https://amazonaws.com.example.net", "when_required"),
        ("http://127.0.0.1:9000", "when_required"),
    ],
)
def test_checksums_by_endpoint(endpoint: str | None, expected: str) -> None:
    assert checksum_setting(endpoint) == expected


def test_checksum_settings_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    on_aws = ClientFactory(AwsOptions(region="eu-west-3")).s3().meta.config
    assert on_aws.request_checksum_calculation == "when_supported"
    assert on_aws.response_checksum_validation == "when_supported"
    elsewhere = ClientFactory(AwsOptions(endpoint_url="http://127.0.0.1:9")).s3().meta.config
    assert elsewhere.request_checksum_calculation == "when_required"
    assert elsewhere.response_checksum_validation == "when_required"
    snow = ClientFactory(AwsOptions(region="snow", endpoint_url="https://s3.snow.amazonaws.com"))
    assert snow.s3().meta.config.request_checksum_calculation == "when_required"
    forced = ClientFactory(
        AwsOptions(endpoint_url="http://127.0.0.1:9", checksums="when_supported")
    )
    assert forced.s3().meta.config.request_checksum_calculation == "when_supported"


def test_endpoint_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:7")
    assert ClientFactory().s3().meta.endpoint_url == "http://127.0.0.1:7"


def test_snow_region_quirks() -> None:
    factory = ClientFactory(AwsOptions(region="snow", endpoint_url="https://192.0.2.1:8443"))
    s3 = factory.s3()
    assert s3.meta.region_name == "snow"
    assert s3.meta.config.s3["addressing_style"] == "path"
    assert factory._verify(factory._is_snow(factory.session())) is False


def test_missing_profile_is_clear() -> None:
    with pytest.raises(AwsError, match="profile 'ghost'"):
        ClientFactory(AwsOptions(profile="ghost")).s3()


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("AccessDenied", "Access denied to bucket 'b'"),
        ("NoSuchBucket", "bucket 'b' does not exist"),
        ("InvalidAccessKeyId", "access key is not valid"),
        ("ExpiredToken", "credentials have expired"),
        ("SignatureDoesNotMatch", "secret key does not match"),
    ],
)
def test_client_errors_become_one_sentence(code: str, fragment: str) -> None:
    s3 = ClientFactory(AwsOptions(region="us-east-1")).s3()
    with Stubber(s3) as stub:
        stub.add_client_error("list_objects_v2", service_error_code=code, http_status_code=403)
        with pytest.raises(AwsError) as info, aws_errors(bucket="b"):
            s3.list_objects_v2(Bucket="b")
    assert fragment in info.value.message
    assert info.value.exit_code == 2


def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    s3 = ClientFactory(AwsOptions(region="us-east-1", endpoint_url="http://127.0.0.1:9")).s3()
    with pytest.raises(AwsError, match="No AWS credentials"), aws_errors():
        s3.list_buckets()


def test_unreachable_endpoint() -> None:
    factory = ClientFactory(
        AwsOptions(endpoint_url="http://127.0.0.1:9", max_attempts=1, connect_timeout=1)
    )
    with (
        pytest.raises(AwsError, match=r"Cannot reach http://127.0.0.1:9"),
        aws_errors(endpoint=factory.endpoint_url),
    ):
        factory.s3().list_buckets()


def test_other_exceptions_pass_through() -> None:
    assert translate_error(ValueError("x")) is None


def test_profile_with_snow_region_gets_snowball_quirks(
    isolated_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    config = isolated_env / ".aws" / "config"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("[profile device]\nregion = snow\n")
    factory = ClientFactory(AwsOptions(profile="device", endpoint_url="https://192.0.2.1:8443"))
    s3 = factory.s3()
    assert s3.meta.region_name == "snow"
    assert factory._verify(factory._is_snow(factory.session())) is False


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-21T02:52:41.000Z",  # listings
        "Sat, 21 Nov 2026 02:52:41 GMT",  # response headers
        "1795229561",  # epoch seconds: botocore's general parser
    ],
)
def test_timestamps_in_every_s3_format_parse_to_the_same_instant(text: str) -> None:
    from datetime import datetime, timezone

    assert parse_timestamp(text) == datetime(2026, 11, 21, 2, 52, 41, tzinfo=timezone.utc)
