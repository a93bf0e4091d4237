"""ARN shape and region checks, before any request is sent."""

from __future__ import annotations

import pytest

from s32s.datasync.arns import bucket_arn, bucket_name, check_arn, check_region
from s32s.errors import ConfigError

AGENT = "arn:aws:datasync:eu-west-1:123456789012:agent/agent-0123456789abcdef0"


def test_good_arns_parse_with_their_region() -> None:
    assert check_arn(AGENT, "agent", what="x").region == "eu-west-1"
    role = check_arn("arn:aws:iam::123456789012:role/r", "role", what="x")
    assert role.region is None


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("agent-0123", "agent"),
        (AGENT, "task"),
        ("arn:aws:datasync:us-east-1:12345:location/loc-0123456789abcdef0", "location"),
        ("arn:aws:datasync:us-east-1:123456789012:task/task-XYZ", "task"),
        ("arn:aws:iam::123456789012:user/bob", "role"),
    ],
)
def test_malformed_arns_name_the_option_and_show_the_form(value: str, kind: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_arn(value, kind, what="--thing")
    assert str(caught.value).startswith(f"--thing: {value!r} is not")
    assert "arn:aws:" in (caught.value.hint or "")


def test_region_mismatch_is_refused() -> None:
    with pytest.raises(
        ConfigError, match="is in region eu-west-1, but DataSync is being used in us-east-1"
    ):
        check_region([check_arn(AGENT, "agent", what="x")], "us-east-1")
    check_region([check_arn(AGENT, "agent", what="x")], "eu-west-1")


def test_bucket_helpers() -> None:
    assert bucket_arn("b", "us-east-1") == "arn:aws:s3:::b"
    assert bucket_arn("b", "cn-north-1") == "arn:aws-cn:s3:::b"
    assert bucket_name("s3://b/x") == "b" and bucket_name("arn:aws:s3:::b") == "b"
