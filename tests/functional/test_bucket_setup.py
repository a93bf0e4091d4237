"""`s32s bucket setup` against moto's server (which keeps versioning, encryption, lifecycle and
public access blocks), and botocore's Stubber for the denials moto never sends."""

from __future__ import annotations

from typing import Any

import pytest

BUCKET = "setup-bkt"
ALL = ("--versioning", "--encryption", "AES256", "--expire", "backups/=30", "--block-public-access")


def setup(cli: Any, server: Any, *args: str) -> Any:
    return cli("--endpoint-url", server.url, "--json", "bucket", "setup", f"s3://{BUCKET}", *args)


def test_setup_changes_what_differs_and_nothing_the_second_time(cli, moto_server, s3_http) -> None:
    s3_http.create_bucket(Bucket=BUCKET)
    other_rule = {
        "ID": "logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 7},
    }
    s3_http.put_bucket_lifecycle_configuration(
        Bucket=BUCKET, LifecycleConfiguration={"Rules": [other_rule]}
    )

    dry = setup(cli, moto_server, *ALL, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert [c["setting"] for c in dry.json["changes"]] == [
        "versioning",
        "default encryption",
        "lifecycle expiry",
        "block public access",
    ]
    assert not any(c["done"] for c in dry.json["changes"])
    assert s3_http.get_bucket_versioning(Bucket=BUCKET).get("Status") is None

    first = setup(cli, moto_server, *ALL)
    assert first.exit_code == 0, first.output
    assert all(c["done"] for c in first.json["changes"])
    assert s3_http.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3_http.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    by_id = {rule["ID"]: rule for rule in rules}
    assert by_id["logs"]["Expiration"]["Days"] == 7  # someone else's rule is kept
    assert by_id["s32s-expire-backups/"]["Expiration"]["Days"] == 30
    block = s3_http.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())

    second = setup(cli, moto_server, *ALL)
    assert second.exit_code == 0 and second.json["changes"] == []
    assert len(second.json["unchanged"]) == 4

    kms = setup(cli, moto_server, "--encryption", "aws:kms:alias/backups")
    assert [c["wanted"] for c in kms.json["changes"]] == ["aws:kms:alias/backups"]
    encryption = s3_http.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
    assert (
        encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"]
        == "alias/backups"
    )
    longer = setup(cli, moto_server, "--expire", "backups/=60")
    assert longer.json["changes"][0]["wanted"] == "expire backups/=60d"
    days = {
        r["ID"]: r["Expiration"]["Days"]
        for r in s3_http.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    }
    assert days == {"logs": 7, "s32s-expire-backups/": 60}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Nothing to set up"),
        (("--expire", "backups"), "PREFIX=DAYS"),
        (("--encryption", "DES"), "AES256"),
    ],
)
def test_bad_options_exit_2(cli, moto_server, s3_http, args, message) -> None:
    s3_http.create_bucket(Bucket=BUCKET)
    result = cli("--endpoint-url", moto_server.url, "bucket", "setup", f"s3://{BUCKET}", *args)
    assert result.exit_code == 2 and message in result.stderr


def test_access_denied_names_the_missing_permission() -> None:
    import boto3
    from botocore.stub import Stubber

    from s32s.aws.bucketsetup import BucketSettings, setup_bucket
    from s32s.errors import AwsError

    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response("get_bucket_lifecycle_configuration", {"Rules": []}, {"Bucket": BUCKET})
        stub.add_client_error(
            "put_bucket_lifecycle_configuration",
            service_error_code="AccessDenied",
            http_status_code=403,
        )
        with pytest.raises(AwsError) as caught:
            setup_bucket(client, BUCKET, BucketSettings(expire=(("backups/", 30),)))
        stub.assert_no_pending_responses()
    assert "s3:PutLifecycleConfiguration" in str(caught.value)
    assert caught.value.exit_code == 2


def test_absent_settings_read_as_absent_and_the_denied_read_is_named() -> None:
    import boto3
    from botocore.stub import Stubber

    from s32s.aws.bucketsetup import BucketSettings, setup_bucket
    from s32s.errors import AwsError

    client = boto3.client("s3", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_bucket_encryption",
            service_error_code="ServerSideEncryptionConfigurationNotFoundError",
        )
        stub.add_client_error(
            "get_public_access_block", service_error_code="AccessDenied", http_status_code=403
        )
        settings = BucketSettings(encryption="AES256", block_public_access=True)
        with pytest.raises(AwsError, match="s3:GetBucketPublicAccessBlock"):
            setup_bucket(client, BUCKET, settings, dry_run=True)
