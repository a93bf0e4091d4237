"""S3 Batch Operations as a transfer engine (`s32s transfer run --engine batch`).

The transfer's plan (what is missing or different at the destination) becomes
a Batch Operations CSV manifest (`S3BatchOperations_CSV_20180820`: one
`bucket,URL-encoded key` line per object) written to the log bucket, and one
`S3PutObjectCopy` job copies those objects inside AWS, on as many machines as
AWS cares to use. This module builds every piece and reads the result back:

- `write_manifest` streams the manifest lines to a file (never a list in
  memory) and returns its count, size and MD5 (the ETag of a single PUT);
- `job_request` is the CreateJob request: operation, manifest, completion
  report, role, and a `ClientRequestToken` derived from all of them, so
  running the same plan again returns the job already made instead of a
  second one;
- `role_policy` / `ensure_role` make the least-privilege role the job
  assumes when no `--role-arn` is given: read the source prefix, write the
  destination prefix, read the manifest object, write the report prefix;
- `refusals` says, before anything is created, why Batch Operations cannot
  serve a pair of sides (an S3-compatible endpoint, SSE-C, two accounts
  without a role, prefixes the copy operation cannot map);
- `wait_for_job` follows DescribeJob; `read_completion_report` reads the
  report's `manifest.json` and then its result CSV files, row by row.

A copy job keeps the whole source key under `TargetKeyPrefix` (`P/` + source
key), so the destination prefix must end with the source prefix. Objects
over 5 GiB cannot be copied by `S3PutObjectCopy`; the caller copies them
with the local engine in the same run (`split_by_size`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import quote, unquote_plus

from s32s.errors import AwsError, ConfigError
from s32s.sync.s3 import MAX_SINGLE_COPY

MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
REPORT_FORMAT = "Report_CSV_20180820"
BATCH_SERVICE = "batchoperations.s3.amazonaws.com"
POLICY_NAME = "s32s-batch-copy"
ROLE_PREFIX = "s32s-batch-"
MAX_COPY_SIZE = MAX_SINGLE_COPY  # S3PutObjectCopy is one CopyObject: 5 GiB at most
FINISHED = frozenset({"Complete", "Failed", "Cancelled"})
PRIORITY = 10
SAMPLE_LINES = 10
_ROLE_NOT_READY = re.compile(r"role|assume|trust", re.IGNORECASE)


# --------------------------------------------------------------------------- refusals
@dataclass(frozen=True)
class BatchSides:
    """What the engine needs to know about a transfer's two sides and its log bucket."""

    src_bucket: str
    src_prefix: str  # key prefix: "" or ending with "/"
    dst_bucket: str
    dst_prefix: str
    log_bucket: str | None
    log_prefix: str = ""
    endpoints: tuple[str, ...] = ()  # endpoint_urls of any side: S3-compatible stores
    snow: bool = False
    sse_c: bool = False
    sse: str | None = None  # --sse / dst sse: a job cannot be given it (see refusals)
    storage_class: str | None = None  # the destination objects' class (the job's StorageClass)
    src_account: str | None = None
    dst_account: str | None = None


LOCAL_HINT = "Run it with the local engine instead: leave out --engine batch (or --engine local)."


def refusals(sides: BatchSides, *, role_arn: str | None) -> list[str]:
    """Why Batch Operations cannot copy between these sides; empty when it can."""
    reasons: list[str] = []
    if sides.snow or sides.endpoints:
        reasons.append(
            "Batch Operations runs inside AWS S3 and cannot reach an S3-compatible endpoint "
            f"or a Snowball Edge ({', '.join(sides.endpoints) or 'region snow'})."
        )
    if sides.sse_c:
        reasons.append(
            "Batch Operations cannot copy objects encrypted with customer-provided keys (SSE-C)."
        )
    if sides.sse:
        reasons.append(
            f"s32s does not give a Batch Operations job server-side encryption ({sides.sse}): "
            "set it as the destination bucket's default encryption, or drop --sse (dst sse)."
        )
    if (
        sides.src_account
        and sides.dst_account
        and sides.src_account != sides.dst_account
        and not role_arn
    ):
        reasons.append(
            f"The source (account {sides.src_account}) and the destination (account "
            f"{sides.dst_account}) belong to different accounts; a job can only work across "
            "them with a role both buckets' policies trust: pass it with --role-arn."
        )
    if not sides.log_bucket:
        reasons.append(
            "The manifest and the completion report need a bucket: set log.bucket in the "
            "transfer config."
        )
    try:
        target_key_prefix(sides.src_prefix, sides.dst_prefix)
    except ConfigError as exc:
        reasons.append(exc.message)
    return reasons


def target_key_prefix(src_prefix: str, dst_prefix: str) -> str | None:
    """The job's `TargetKeyPrefix`, or None when the destination keys equal the source keys.

    The copy operation writes `TargetKeyPrefix/` + the whole source key, so
    `dst_prefix` must be some `P/` followed by `src_prefix`.
    """
    if dst_prefix == src_prefix:
        return None
    head = dst_prefix[: len(dst_prefix) - len(src_prefix)]
    if dst_prefix.endswith(src_prefix) and head.endswith("/") and head.strip("/"):
        return head[:-1]
    raise ConfigError(
        f"Batch Operations copies keep the whole source key, so objects under "
        f"{src_prefix or '(the bucket root)'} can land under a destination prefix ending with "
        f"it, not under {dst_prefix or '(the bucket root)'}.",
        "Make dst.bucket_prefix end with src.bucket_prefix (e.g. src data/, dst copy/data/).",
    )


# --------------------------------------------------------------------------- manifest
def encode_key(key: str) -> str:
    """A key as the manifest wants it: URL-encoded (`/` kept, `+` and `,` encoded)."""
    return quote(key, safe="/")


def decode_key(text: str) -> str:
    """A URL-encoded key of a manifest or report (`+` may stand for a space)."""
    return unquote_plus(text)


@dataclass
class ManifestSummary:
    """What `write_manifest` wrote."""

    tasks: int = 0
    size: int = 0
    md5: str = ""
    sample: list[str] = field(default_factory=list)  # the first lines, for --dry-run

    @property
    def digest(self) -> str:
        return self.md5[:16]


def write_manifest(bucket: str, keys: Iterable[str], out: IO[bytes]) -> ManifestSummary:
    """Write one `bucket,URL-encoded key` line per key to `out`, hashing as it goes."""
    summary = ManifestSummary()
    md5 = hashlib.md5(usedforsecurity=False)
    for key in keys:
        line = f"{bucket},{encode_key(key)}\n"
        data = line.encode("utf-8")
        out.write(data)
        md5.update(data)
        summary.tasks += 1
        summary.size += len(data)
        if len(summary.sample) < SAMPLE_LINES:
            summary.sample.append(line.rstrip("\n"))
    summary.md5 = md5.hexdigest()
    return summary


def split_by_size(
    items: Iterable[Any], size_of: Callable[[Any], int]
) -> tuple[list[Any], list[Any]]:
    """(what a copy job can take, what is over 5 GiB and must be copied locally)."""
    batch: list[Any] = []
    local: list[Any] = []
    for item in items:
        (local if size_of(item) > MAX_COPY_SIZE else batch).append(item)
    return batch, local


@dataclass(frozen=True)
class RunLocations:
    """Where one plan's manifest and report go: named by the manifest's content."""

    bucket: str
    manifest_key: str
    report_prefix: str

    @classmethod
    def for_manifest(cls, bucket: str, log_prefix: str, summary: ManifestSummary) -> RunLocations:
        base = "/".join(part for part in (log_prefix.strip("/"), "batch", summary.digest) if part)
        return cls(bucket, f"{base}/manifest.csv", base)


def upload_manifest(s3: Any, locations: RunLocations, out: IO[bytes]) -> str:
    """PUT the manifest file; its ETag (which CreateJob must be given)."""
    from s32s.aws.clients import aws_errors

    out.seek(0)
    with aws_errors(bucket=locations.bucket):
        response = s3.put_object(
            Bucket=locations.bucket,
            Key=locations.manifest_key,
            Body=out,
            ContentType="text/csv",
        )
    return str(response["ETag"]).strip('"')


# --------------------------------------------------------------------------- job
def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


@dataclass(frozen=True)
class JobSpec:
    """Everything CreateJob is given, before the token is derived from it."""

    account_id: str
    role_arn: str
    sides: BatchSides
    locations: RunLocations
    manifest_etag: str
    partition: str = "aws"
    description: str = ""


def job_request(spec: JobSpec) -> dict[str, Any]:
    """The CreateJob parameters, `ClientRequestToken` included."""
    sides, where = spec.sides, spec.locations
    copy: dict[str, Any] = {
        "TargetResource": bucket_arn(sides.dst_bucket, spec.partition),
        "MetadataDirective": "COPY",  # Content-Type and the recorded mtime come along
    }
    if sides.storage_class:
        copy["StorageClass"] = sides.storage_class
    prefix = target_key_prefix(sides.src_prefix, sides.dst_prefix)
    if prefix:
        copy["TargetKeyPrefix"] = prefix
    request: dict[str, Any] = {
        "AccountId": spec.account_id,
        "ConfirmationRequired": False,
        "Operation": {"S3PutObjectCopy": copy},
        "Report": {
            "Bucket": bucket_arn(where.bucket, spec.partition),
            "Format": REPORT_FORMAT,
            "Enabled": True,
            "Prefix": where.report_prefix,
            "ReportScope": "AllTasks",
        },
        "Manifest": {
            "Spec": {"Format": MANIFEST_FORMAT, "Fields": ["Bucket", "Key"]},
            "Location": {
                "ObjectArn": f"{bucket_arn(where.bucket, spec.partition)}/{where.manifest_key}",
                "ETag": spec.manifest_etag,
            },
        },
        "Priority": PRIORITY,
        "RoleArn": spec.role_arn,
        "Description": (
            spec.description
            or f"s32s transfer s3://{sides.src_bucket}/{sides.src_prefix} -> "
            f"s3://{sides.dst_bucket}/{sides.dst_prefix}"
        )[:256],
    }
    request["ClientRequestToken"] = request_token(request)
    return request


def request_token(request: dict[str, Any]) -> str:
    """A token that is the same for the same request: a retry returns the first job."""
    canonical = json.dumps(
        {key: value for key, value in request.items() if key != "ClientRequestToken"},
        sort_keys=True,
        default=str,
    )
    return "s32s-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:59]


def account_id(sts: Any) -> str:
    """The account of the credentials `sts` was made with (GetCallerIdentity)."""
    from s32s.datasync.api import call

    return str(call(sts, "get_caller_identity")["Account"])


def create_job(
    s3control: Any,
    request: dict[str, Any],
    *,
    role_is_new: bool = False,
    clock: Any = None,
    patience: float = 90.0,
) -> str:
    """CreateJob; the job id. A just-made role may not be usable yet: retried meanwhile."""
    from s32s.aws.clients import error_code, error_message
    from s32s.datasync.api import call
    from s32s.polling import retry

    def role_not_ready(exc: Exception) -> bool:
        cause = exc.__cause__
        return (
            isinstance(exc, AwsError)
            and error_code(cause) in ("InvalidRequest", "AccessDenied")
            and bool(_ROLE_NOT_READY.search(error_message(cause)))
        )

    return retry(
        lambda: str(call(s3control, "create_job", **request)["JobId"]),
        passing=role_not_ready,
        interval=5,
        timeout=patience if role_is_new else 0.0,
        clock=clock,
    )


@dataclass(frozen=True)
class JobProgress:
    status: str
    total: int
    succeeded: int
    failed: int
    reasons: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def of(cls, job: dict[str, Any]) -> JobProgress:
        summary = job.get("ProgressSummary") or {}
        reasons = tuple(
            f"{item.get('FailureCode', '')}: {item.get('FailureReason', '')}".strip(": ")
            for item in job.get("FailureReasons") or []
        )
        return cls(
            status=str(job.get("Status", "")),
            total=int(summary.get("TotalNumberOfTasks") or 0),
            succeeded=int(summary.get("NumberOfTasksSucceeded") or 0),
            failed=int(summary.get("NumberOfTasksFailed") or 0),
            reasons=reasons,
        )


def describe_job(s3control: Any, account: str, job_id: str) -> JobProgress:
    from s32s.datasync.api import call

    return JobProgress.of(call(s3control, "describe_job", AccountId=account, JobId=job_id)["Job"])


def wait_for_job(
    s3control: Any,
    account: str,
    job_id: str,
    *,
    on_update: Callable[[JobProgress], None] | None = None,
    interval: float = 10.0,
    timeout: float | None = None,
    clock: Any = None,
) -> JobProgress:
    """Follow DescribeJob until the job is Complete, Failed or Cancelled."""
    from s32s.polling import PollTimeout, poll

    try:
        return poll(
            lambda: describe_job(s3control, account, job_id),
            lambda progress: progress.finished,
            interval=interval,
            timeout=timeout,
            clock=clock,
            on_update=on_update,
        )
    except PollTimeout as exc:
        raise AwsError(
            f"Batch Operations job {job_id} has not finished after {timeout:g} seconds "
            f"(status {exc.last.status}).",
            follow_hint(account, job_id),
        ) from None


def follow_hint(account: str, job_id: str) -> str:
    return f"Follow it with `aws s3control describe-job --account-id {account} --job-id {job_id}`."


# --------------------------------------------------------------------------- role
def role_name(sides: BatchSides) -> str:
    """One role per pair of buckets and log bucket, so a re-run reuses it."""
    digest = hashlib.sha256(
        f"{sides.src_bucket}|{sides.dst_bucket}|{sides.log_bucket}".encode()
    ).hexdigest()[:16]
    return f"{ROLE_PREFIX}{digest}"


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": BATCH_SERVICE},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def role_policy(
    sides: BatchSides, locations: RunLocations, partition: str = "aws"
) -> dict[str, Any]:
    """Read the source prefix, write the destination prefix, read the manifest, write the report."""
    src, dst = bucket_arn(sides.src_bucket, partition), bucket_arn(sides.dst_bucket, partition)
    logs = bucket_arn(locations.bucket, partition)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadSource",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:GetObjectTagging"],
                "Resource": f"{src}/{sides.src_prefix}*",
            },
            {
                "Sid": "WriteDestination",
                "Effect": "Allow",
                "Action": ["s3:PutObject", "s3:PutObjectTagging"],
                "Resource": f"{dst}/{sides.dst_prefix}*",
            },
            {
                "Sid": "ReadManifest",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                "Resource": f"{logs}/{locations.manifest_key}",
            },
            {
                "Sid": "WriteReport",
                "Effect": "Allow",
                "Action": ["s3:PutObject"],
                "Resource": f"{logs}/{locations.report_prefix}/*",
            },
        ],
    }


def ensure_role(iam: Any, name: str, policy: dict[str, Any]) -> tuple[str, bool]:
    """(ARN, created now?) of role `name` trusted by Batch Operations, with `policy` inline.

    An existing role of that name keeps its trust policy and gets `policy`
    (PutRolePolicy replaces the inline policy of the same name).
    """
    from s32s.datasync.api import call
    from s32s.datasync.roles import get_role_arn

    arn = get_role_arn(iam, name)
    created = arn is None
    if arn is None:
        arn = str(
            call(
                iam,
                "create_role",
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(trust_policy()),
                Description="Lets S3 Batch Operations copy a transfer's objects (made by s32s).",
            )["Role"]["Arn"]
        )
    call(
        iam,
        "put_role_policy",
        RoleName=name,
        PolicyName=POLICY_NAME,
        PolicyDocument=json.dumps(policy),
    )
    return arn, created


# --------------------------------------------------------------------------- report
@dataclass(frozen=True)
class TaskResult:
    """One row of a completion report."""

    bucket: str
    key: str
    succeeded: bool
    error_code: str
    http_status: str
    message: str


def report_manifest_key(report_prefix: str, job_id: str) -> str:
    return f"{report_prefix.strip('/')}/job-{job_id}/manifest.json"


def read_completion_report(
    s3: Any, bucket: str, report_prefix: str, job_id: str
) -> Iterator[TaskResult]:
    """The report's rows: its `manifest.json` first, then each result CSV it names.

    The documented schema reads `Bucket, Key, VersionId, TaskStatus,
    ErrorCode, HTTPStatusCode, ResultMessage`, while the documented example
    rows carry the HTTP status before the error code; the column made of
    digits is taken as the status, so both orders read the same.
    """
    from s32s.aws.clients import aws_errors

    key = report_manifest_key(report_prefix, job_id)
    where = f"s3://{bucket}/{key}"
    with aws_errors(bucket=bucket):
        raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        document = json.loads(raw.decode("utf-8"))
        results = document["Results"]
        if document.get("Format") != REPORT_FORMAT or not isinstance(results, list):
            raise ValueError(f"format {document.get('Format')!r}")
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise AwsError(
            f"The completion report {where} is not a {REPORT_FORMAT} manifest ({exc}).",
            "Look at the report in the S3 console; the objects themselves may well be copied.",
        ) from None
    for result in results:
        result_bucket = str(result.get("Bucket") or bucket)
        with aws_errors(bucket=result_bucket):
            body = s3.get_object(Bucket=result_bucket, Key=result["Key"])["Body"]
        text = io.TextIOWrapper(body, encoding="utf-8", newline="")
        for row in csv.reader(text):
            if len(row) < 4:
                continue
            yield _task_result(row)


def _task_result(row: list[str]) -> TaskResult:
    fifth, sixth = [*row, "", ""][4:6]
    code, status = (fifth, sixth) if sixth.isdigit() and not fifth.isdigit() else (sixth, fifth)
    message = ",".join(row[6:]) if len(row) > 6 else ""
    return TaskResult(
        bucket=row[0],
        key=decode_key(row[1]),
        succeeded=row[3].strip().lower() == "succeeded",
        error_code=code,
        http_status=status,
        message=message,
    )
