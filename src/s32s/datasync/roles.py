"""The IAM role DataSync assumes to reach a bucket, made with the least it needs.

`--create-role NAME` makes a role that only datasync.amazonaws.com can assume,
with an inline policy limited to one bucket (the permissions listed in the
DataSync guide for S3 locations), never a managed policy such as
AmazonS3FullAccess. IAM is eventually consistent: a new role can be refused
by DataSync for a few seconds, so callers wait (`wait_role`) and retry
CreateLocationS3 for a while (`api.create_location_s3(role_propagation=...)`).
"""

from __future__ import annotations

import json
import re
from typing import Any

from s32s.aws.clients import error_code
from s32s.datasync.api import call
from s32s.datasync.arns import partition_for
from s32s.errors import AwsError, ConfigError
from s32s.polling import Clock, PollTimeout, poll

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME = "s32s-datasync-bucket-access"
SERVICE = "datasync.amazonaws.com"


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": SERVICE}, "Action": "sts:AssumeRole"}
        ],
    }


def bucket_policy(bucket: str, region: str) -> dict[str, Any]:
    """Read, write and list in one bucket: what DataSync needs for an S3 location."""
    arn = f"arn:{partition_for(region)}:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DataSyncBucket",
                "Effect": "Allow",
                "Action": [
                    "s3:GetBucketLocation",
                    "s3:ListBucket",
                    "s3:ListBucketMultipartUploads",
                ],
                "Resource": arn,
            },
            {
                "Sid": "DataSyncObjects",
                "Effect": "Allow",
                "Action": [
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetObject",
                    "s3:GetObjectTagging",
                    "s3:GetObjectVersion",
                    "s3:GetObjectVersionTagging",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                    "s3:PutObjectTagging",
                ],
                "Resource": f"{arn}/*",
            },
        ],
    }


def check_role_name(name: str, *, what: str = "--create-role") -> str:
    if not ROLE_NAME.match(name or ""):
        raise ConfigError(
            f"{what}: {name!r} is not a valid IAM role name.",
            "Use up to 64 letters, digits and + = , . @ _ -.",
        )
    return name


def get_role_arn(iam: Any, name: str) -> str | None:
    """The ARN of role `name`, or None when it does not exist."""
    try:
        return str(call(iam, "get_role", RoleName=name)["Role"]["Arn"])
    except AwsError as exc:
        if error_code(exc.__cause__) == "NoSuchEntity":
            return None
        raise


def create_role(iam: Any, name: str, bucket: str, region: str) -> str:
    """Create role `name` for DataSync with the bucket-only inline policy; its ARN."""
    check_role_name(name)
    role = call(
        iam,
        "create_role",
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy()),
        Description=f"Lets AWS DataSync read and write bucket {bucket} (made by s32s).",
    )["Role"]
    call(
        iam,
        "put_role_policy",
        RoleName=name,
        PolicyName=POLICY_NAME,
        PolicyDocument=json.dumps(bucket_policy(bucket, region)),
    )
    return str(role["Arn"])


def wait_role(
    iam: Any, name: str, *, timeout: float = 60, interval: float = 2, clock: Clock | None = None
) -> None:
    """Wait until IAM returns the role and its policy (eventual consistency)."""

    def ready() -> bool:
        try:
            call(iam, "get_role_policy", RoleName=name, PolicyName=POLICY_NAME)
            return True
        except AwsError as exc:
            if error_code(exc.__cause__) == "NoSuchEntity":
                return False
            raise

    try:
        poll(ready, bool, interval=interval, timeout=timeout, clock=clock)
    except PollTimeout:
        raise AwsError(
            f"IAM role {name} was created but is still not visible after {timeout:g} seconds.",
            "Wait a minute and run the command again with --role-arn and the role's ARN.",
        ) from None
