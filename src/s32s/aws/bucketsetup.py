"""`bucket setup`: make a bucket fit for backups, changing only what is not already so.

Each setting is read first (versioning, default encryption, lifecycle rules,
public access block); a change is made only where the current state differs
from what was asked, and `dry_run` only reports. Lifecycle rules other than
s32s's own expiry rules (ID `s32s-expire-<prefix>`) are kept as they are,
since S3 replaces the whole lifecycle configuration at once. An AccessDenied
names the IAM permission that is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from s32s.aws.clients import error_code
from s32s.errors import AwsError, ConfigError

# S3 API operation → the IAM action that allows it
PERMISSIONS = {
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
_ABSENT = {
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchLifecycleConfiguration",
    "NoSuchPublicAccessBlockConfiguration",
}
_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass(frozen=True)
class BucketSettings:
    versioning: bool = False
    encryption: str | None = None  # AES256, aws:kms or aws:kms:KEY_ID
    expire: tuple[tuple[str, int], ...] = ()  # (prefix, days)
    block_public_access: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.versioning or self.encryption or self.expire or self.block_public_access)


def settings_from_options(
    versioning: bool, encryption: str | None, expire: tuple[str, ...], block_public_access: bool
) -> BucketSettings:
    """The settings of `bucket setup`'s options, each checked (ConfigError names a bad one)."""
    if encryption:
        parse_encryption(encryption)
    return BucketSettings(
        versioning, encryption, tuple(parse_expire(item) for item in expire), block_public_access
    )


def parse_expire(text: str) -> tuple[str, int]:
    """`backups/=30` → ("backups/", 30)."""
    prefix, sep, days = text.rpartition("=")
    if not sep or not days.strip().isdigit() or int(days) < 1:
        raise ConfigError(
            f"--expire {text!r} is not PREFIX=DAYS.",
            "Write the prefix and a number of days, e.g. --expire backups/=30.",
        )
    return prefix.strip().lstrip("/"), int(days)


def parse_encryption(text: str) -> dict[str, Any]:
    """`AES256`, `aws:kms` or `aws:kms:KEY_ID` → S3's default-encryption rule."""
    if text == "AES256":
        return {"SSEAlgorithm": "AES256"}
    if text == "aws:kms" or text.startswith("aws:kms:"):
        key = text[len("aws:kms:") :] if text.startswith("aws:kms:") else ""
        return {"SSEAlgorithm": "aws:kms", **({"KMSMasterKeyID": key} if key else {})}
    raise ConfigError(
        f"--encryption {text!r} is not AES256, aws:kms or aws:kms:KEY_ID.",
        "Pick one of them (KEY_ID: a KMS key id, ARN or alias).",
    )


@dataclass
class Change:
    setting: str
    current: str
    wanted: str
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "current": self.current,
            "wanted": self.wanted,
            "done": self.done,
        }


@dataclass
class SetupReport:
    bucket: str
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "dry_run": self.dry_run,
            "changes": [c.to_dict() for c in self.changes],
            "unchanged": self.unchanged,
        }


def _call(client: Any, operation: str, bucket: str, **kwargs: Any) -> dict[str, Any] | None:
    """One request; None when the setting is absent; AccessDenied names the missing permission."""
    method = getattr(client, _snake(operation))
    try:
        return dict(method(Bucket=bucket, **kwargs))
    except Exception as exc:
        code = error_code(exc)
        if code in _ABSENT:
            return None
        if code in ("AccessDenied", "403"):
            raise AwsError(
                f"Access denied to {operation} on bucket {bucket!r}: these credentials lack "
                f"the permission {PERMISSIONS[operation]}.",
                f"Add {PERMISSIONS[operation]} on arn:aws:s3:::{bucket} to their IAM policy, or use another --profile.",
            ) from None
        raise


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


def _expiry_rule(prefix: str, days: int) -> dict[str, Any]:
    return {
        "ID": f"s32s-expire-{prefix}"[:255],
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }


def _rule_prefix(rule: dict[str, Any]) -> str | None:
    filter_ = rule.get("Filter") or {}
    if "Prefix" in filter_:
        return str(filter_["Prefix"])
    if "Prefix" in rule:
        return str(rule["Prefix"])
    return None


def _rule_days(rule: dict[str, Any]) -> int | None:
    days = (rule.get("Expiration") or {}).get("Days")
    return int(days) if days is not None else None


def setup_bucket(
    client: Any, bucket: str, wanted: BucketSettings, *, dry_run: bool = False
) -> SetupReport:
    """Read each asked-for setting and change it only where it differs."""
    if wanted.is_empty:
        raise ConfigError(
            "Nothing to set up: give --versioning, --encryption, --expire or --block-public-access."
        )
    report = SetupReport(bucket, dry_run)
    steps: list[tuple[str, Callable[[], tuple[str, str, Callable[[], object]] | None]]] = []
    if wanted.versioning:
        steps.append(("versioning", lambda: _versioning(client, bucket)))
    if wanted.encryption:
        steps.append(
            ("default encryption", lambda: _encryption(client, bucket, wanted.encryption or ""))
        )
    if wanted.expire:
        steps.append(("lifecycle expiry", lambda: _lifecycle(client, bucket, wanted.expire)))
    if wanted.block_public_access:
        steps.append(("block public access", lambda: _public_access(client, bucket)))
    for name, step in steps:
        outcome = step()
        if outcome is None:
            report.unchanged.append(name)
            continue
        current, target, apply = outcome
        change = Change(name, current, target)
        if not dry_run:
            apply()
            change.done = True
        report.changes.append(change)
    return report


def _versioning(client: Any, bucket: str) -> tuple[str, str, Callable[[], object]] | None:
    status = (_call(client, "GetBucketVersioning", bucket) or {}).get("Status") or "never enabled"
    if status == "Enabled":
        return None
    return (
        status,
        "Enabled",
        partial(
            _call,
            client,
            "PutBucketVersioning",
            bucket,
            VersioningConfiguration={"Status": "Enabled"},
        ),
    )


def _encryption(
    client: Any, bucket: str, text: str
) -> tuple[str, str, Callable[[], object]] | None:
    target = parse_encryption(text)
    current = _call(client, "GetBucketEncryption", bucket)
    rules = ((current or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules") or []
    existing = (rules[0].get("ApplyServerSideEncryptionByDefault") or {}) if rules else {}
    same_algorithm = existing.get("SSEAlgorithm") == target["SSEAlgorithm"]
    same_key = (
        "KMSMasterKeyID" not in target or existing.get("KMSMasterKeyID") == target["KMSMasterKeyID"]
    )
    if same_algorithm and same_key:
        return None
    shown = existing.get("SSEAlgorithm", "none") + (
        f":{existing['KMSMasterKeyID']}" if existing.get("KMSMasterKeyID") else ""
    )
    configuration = {"Rules": [{"ApplyServerSideEncryptionByDefault": target}]}
    return (
        shown,
        text,
        lambda: (
            _call(
                client,
                "PutBucketEncryption",
                bucket,
                ServerSideEncryptionConfiguration=configuration,
            )
            and None
        ),
    )


def _lifecycle(
    client: Any, bucket: str, expire: tuple[tuple[str, int], ...]
) -> tuple[str, str, Callable[[], object]] | None:
    current = _call(client, "GetBucketLifecycleConfiguration", bucket)
    rules: list[dict[str, Any]] = list((current or {}).get("Rules") or [])
    missing = [
        (prefix, days)
        for prefix, days in expire
        if not any(
            _rule_prefix(rule) == prefix
            and _rule_days(rule) == days
            and rule.get("Status") == "Enabled"
            for rule in rules
        )
    ]
    if not missing:
        return None
    replaced_ids = {f"s32s-expire-{prefix}"[:255] for prefix, _ in missing}
    kept = [rule for rule in rules if rule.get("ID") not in replaced_ids]
    new_rules = kept + [_expiry_rule(prefix, days) for prefix, days in missing]
    shown_current = (
        ", ".join(f"{_rule_prefix(r) or '(all)'}={_rule_days(r) or '-'}d" for r in rules)
        or "no rules"
    )
    shown_target = ", ".join(f"{prefix or '(all)'}={days}d" for prefix, days in missing)
    return (
        shown_current,
        f"expire {shown_target}",
        lambda: (
            _call(
                client,
                "PutBucketLifecycleConfiguration",
                bucket,
                LifecycleConfiguration={"Rules": new_rules},
            )
            and None
        ),
    )


def _public_access(client: Any, bucket: str) -> tuple[str, str, Callable[[], object]] | None:
    current = (_call(client, "GetPublicAccessBlock", bucket) or {}).get(
        "PublicAccessBlockConfiguration"
    ) or {}
    if all(current.get(key) for key in _BLOCK_ALL):
        return None
    shown = ", ".join(key for key in _BLOCK_ALL if current.get(key)) or "nothing blocked"
    return (
        shown,
        "all public access blocked",
        lambda: (
            _call(
                client,
                "PutPublicAccessBlock",
                bucket,
                PublicAccessBlockConfiguration=dict(_BLOCK_ALL),
            )
            and None
        ),
    )
