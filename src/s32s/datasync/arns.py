"""Checking the ARNs users type before any request is sent.

DataSync answers a malformed ARN with a long validation message; checking the
shape here names the option at fault and what an ARN of that kind looks like.
The patterns are the ones of the DataSync API model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from s32s.errors import ConfigError

_PARTITION = r"(aws|aws-cn|aws-us-gov|aws-eusc|aws-iso|aws-iso-b)"

PATTERNS: dict[str, re.Pattern[str]] = {
    "agent": re.compile(
        rf"^arn:{_PARTITION}:datasync:([a-z\-0-9]+):([0-9]{{12}}):agent/agent-[0-9a-z]{{17}}$"
    ),
    "location": re.compile(
        rf"^arn:{_PARTITION}:datasync:([a-z\-0-9]+):([0-9]{{12}}):location/loc-[0-9a-z]{{17}}$"
    ),
    "task": re.compile(
        rf"^arn:{_PARTITION}:datasync:([a-z\-0-9]+):([0-9]{{12}}):task/task-[0-9a-f]{{17}}$"
    ),
    "execution": re.compile(
        rf"^arn:{_PARTITION}:datasync:([a-z\-0-9]+):([0-9]{{12}}):task/task-[0-9a-f]{{17}}/execution/exec-[0-9a-f]{{17}}$"
    ),
    "role": re.compile(rf"^arn:{_PARTITION}:iam::([0-9]{{12}}):role/.+$"),
    "log-group": re.compile(
        rf"^arn:{_PARTITION}:logs:([a-z\-0-9]+):([0-9]{{12}}):log-group:([^:\*]*)(:\*)?$"
    ),
}

EXAMPLES = {
    "agent": "arn:aws:datasync:us-east-1:123456789012:agent/agent-0123456789abcdef0",
    "location": "arn:aws:datasync:us-east-1:123456789012:location/loc-0123456789abcdef0",
    "task": "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0",
    "execution": "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0",
    "role": "arn:aws:iam::123456789012:role/NAME",
    "log-group": "arn:aws:logs:us-east-1:123456789012:log-group:NAME",
}

NOUNS = {
    "agent": "a DataSync agent ARN",
    "location": "a DataSync location ARN",
    "task": "a DataSync task ARN",
    "execution": "a DataSync task execution ARN",
    "role": "an IAM role ARN",
    "log-group": "a CloudWatch log group ARN",
}


@dataclass(frozen=True)
class Arn:
    """An ARN that passed its shape check."""

    value: str
    kind: str
    partition: str
    region: str | None  # None for IAM, which is global

    def __str__(self) -> str:
        return self.value


def check_arn(value: str, kind: str, *, what: str) -> Arn:
    """`value` as an `Arn` of `kind`, or a `ConfigError` naming `what` (an option or key)."""
    text = (value or "").strip()
    match = PATTERNS[kind].match(text)
    if match is None:
        raise ConfigError(
            f"{what}: {value!r} is not {NOUNS[kind]}.",
            f"It looks like {EXAMPLES[kind]}.",
        )
    region = None if kind == "role" else match.group(2)
    return Arn(text, kind, match.group(1), region)


def check_region(arns: Iterable[Arn], region: str, *, what: str = "") -> None:
    """DataSync resources of one task live in one region: refuse ARNs from another."""
    for arn in arns:
        if arn.region is not None and arn.region != region:
            where = f" ({what})" if what else ""
            raise ConfigError(
                f"{arn.value}{where} is in region {arn.region}, but DataSync is being used in {region}.",
                f"Agents, locations and tasks must be in one region: pass --region {arn.region} or use resources of {region}.",
            )


def partition_for(region: str) -> str:
    """The ARN partition of a region (`aws`, `aws-cn`, `aws-us-gov`)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def bucket_arn(bucket: str, region: str) -> str:
    """The S3 bucket ARN for a bucket name (ARNs are passed through)."""
    if bucket.startswith("arn:"):
        return bucket
    return f"arn:{partition_for(region)}:s3:::{bucket}"


def bucket_name(bucket: str) -> str:
    """The bucket name of a name, `s3://name` or a bucket ARN."""
    if bucket.startswith("s3://"):
        return bucket[5:].split("/", 1)[0]
    if bucket.startswith("arn:"):
        return bucket.rsplit(":", 1)[-1].split("/")[-1]
    return bucket
