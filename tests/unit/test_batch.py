"""S3 Batch Operations: every STS, IAM and S3 Control call checked with botocore's
Stubber against the service models; the manifest and the completion report on real
objects in a moto bucket (the report written in the documented layout)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from s32s.errors import AwsError, ConfigError
from s32s.paths import S3Url
from s32s.polling import FakeClock
from s32s.sync.compare import CompareOptions
from s32s.sync.job import SyncJob, prepare
from s32s.sync.plan import PlanOptions
from s32s.sync.s3 import S3Store
from s32s.transfers import batch
from s32s.transfers.batch import (
    BatchSides,
    RunLocations,
    create_job,
    decode_key,
    encode_key,
    read_completion_report,
    refusals,
    target_key_prefix,
    write_manifest,
)
from s32s.transfers.batch_run import BatchClients, BatchOptions, check_batch, run_batch
from s32s.transfers.log import LogSide, TransferLog

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
JOB_ID = "a1b2c3d4-0000-4000-8000-123456789abc"
KEYS = ["data/a.txt", "data/sub dir/b,c.txt", 'data/q"uote+plus%.bin', "data/big.bin"]
SIDES = BatchSides("src-bkt", "data/", "dst-bkt", "mirror/data/", "log-bkt", "transfers/")


def identity(account: str = ACCOUNT) -> dict[str, str]:
    return {"UserId": "AIDAEXAMPLE", "Account": account, "Arn": f"arn:aws:iam::{account}:user/me"}


class Stubs:
    """Real botocore clients (requests validated against the models) with Stubbers,
    recording the parameters each operation was called with."""

    def __init__(self) -> None:
        self.sts = boto3.client("sts", region_name="us-east-1")
        self.iam = boto3.client("iam", region_name="us-east-1")
        self.s3control = boto3.client("s3control", region_name="us-east-1")
        self.stubbers = {name: Stubber(getattr(self, name)) for name in ("sts", "iam", "s3control")}
        self.sent: dict[str, list[dict[str, Any]]] = {}
        for client in (self.sts, self.iam, self.s3control):
            client.meta.events.register("provide-client-params.*.*", self._record)
        for stubber in self.stubbers.values():
            stubber.activate()

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.sent.setdefault(model.name, []).append(dict(params))

    def __getitem__(self, name: str) -> Stubber:
        return self.stubbers[name]

    def clients(self, log_s3: Any) -> BatchClients:
        return BatchClients(sts=self.sts, iam=self.iam, s3control=self.s3control, log_s3=log_s3)

    def done(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@pytest.fixture
def stubs() -> Stubs:
    return Stubs()


@pytest.fixture
def buckets(mock_s3: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("src-bkt", "dst-bkt", "log-bkt"):
        mock_s3.create_bucket(Bucket=name)
    for key in KEYS:
        body = b"x" * (300 if key.endswith("big.bin") else 20)
        mock_s3.put_object(Bucket="src-bkt", Key=key, Body=body)
    monkeypatch.setattr(batch, "MAX_COPY_SIZE", 100)  # big.bin stands for an object over 5 GiB
    return mock_s3


def prepared_transfer(s3: Any) -> Any:
    job = SyncJob(
        name="transfer",
        source=S3Store(S3Url("src-bkt", "data"), s3),
        dest=S3Store(S3Url("dst-bkt", "mirror/data"), s3),
        plan_options=PlanOptions(delete=False, compare=CompareOptions(mode="etag")),
    )
    return prepare(job)


def manifest_text(keys: list[str]) -> str:
    return "".join(f"src-bkt,{encode_key(key)}\n" for key in keys)


def report_csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def write_completion_report(s3: Any, prefix: str, succeeded: list[str], failed: list[str]) -> None:
    """A completion report as the Batch Operations guide shows it: manifest.json, then CSVs."""
    base = f"{prefix}/job-{JOB_ID}"
    ok_rows = [
        ["src-bkt", encode_key(k), "", "succeeded", "200", "", "Successful"] for k in succeeded
    ]
    bad_rows = [
        ["src-bkt", encode_key(k), "", "failed", "403", "AccessDenied", "Access Denied"]
        for k in failed
    ]
    results = []
    for status, rows in (("succeeded", ok_rows), ("failed", bad_rows)):
        body = report_csv(rows).encode()
        key = f"{base}/results/{hashlib.sha1(body).hexdigest()}.csv"
        s3.put_object(Bucket="log-bkt", Key=key, Body=body)
        results.append(
            {
                "TaskExecutionStatus": status,
                "Bucket": "log-bkt",
                "MD5Checksum": hashlib.md5(body).hexdigest(),
                "Key": key,
            }
        )
    document = {
        "Format": "Report_CSV_20180820",
        "ReportCreationDate": "2024-01-15T17:48:39.725Z",
        "Results": results,
        "ReportSchema": "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage",
    }
    s3.put_object(Bucket="log-bkt", Key=f"{base}/manifest.json", Body=json.dumps(document))


def job_answer(status: str, succeeded: int, failed: int, total: int = 3) -> dict[str, Any]:
    return {
        "Job": {
            "JobId": JOB_ID,
            "Status": status,
            "Priority": 10,
            "ProgressSummary": {
                "TotalNumberOfTasks": total,
                "NumberOfTasksSucceeded": succeeded,
                "NumberOfTasksFailed": failed,
            },
            "CreationTime": datetime(2024, 1, 15, tzinfo=timezone.utc),
        }
    }


def role_answer(name: str) -> dict[str, Any]:
    return {
        "Role": {
            "Path": "/",
            "RoleName": name,
            "RoleId": "AROAEXAMPLEID1234567",
            "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "CreateDate": datetime(2024, 1, 15, tzinfo=timezone.utc),
        }
    }


# --------------------------------------------------------------------------- pure pieces
def test_keys_are_url_encoded_and_decoded() -> None:
    for key in [*KEYS, "ü/ñ.txt", "a b", "plus+sign", "comma,key"]:
        encoded = encode_key(key)
        assert "," not in encoded and " " not in encoded and "+" not in encoded
        assert decode_key(encoded) == key
    assert decode_key("a+b%2Bc") == "a b+c"  # a report may write a space as '+'


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        ("data/", "data/", None),
        ("data/", "mirror/data/", "mirror"),
        ("", "", None),
        ("", "x/", "x"),
    ],
)
def test_target_key_prefix(src: str, dst: str, expected: str | None) -> None:
    assert target_key_prefix(src, dst) == expected


@pytest.mark.parametrize(("src", "dst"), [("data/", "copy/"), ("data/", "xdata/"), ("a/", "")])
def test_target_key_prefix_refuses_what_a_copy_job_cannot_map(src: str, dst: str) -> None:
    with pytest.raises(ConfigError, match="keep the whole source key"):
        target_key_prefix(src, dst)


def test_refusals_name_each_reason() -> None:
    from dataclasses import replace

    assert refusals(SIDES, role_arn=None) == []
    compatible = replace(SIDES, endpoints=("http://10.0.0.1:8080",))
    assert "S3-compatible endpoint" in refusals(compatible, role_arn=None)[0]
    assert "SSE-C" in refusals(replace(SIDES, sse_c=True), role_arn=None)[0]
    accounts = replace(SIDES, src_account=ACCOUNT, dst_account=OTHER_ACCOUNT)
    assert "different accounts" in refusals(accounts, role_arn=None)[0]
    assert refusals(accounts, role_arn=f"arn:aws:iam::{ACCOUNT}:role/x") == []
    assert "log.bucket" in refusals(replace(SIDES, log_bucket=None), role_arn=None)[0]


def test_manifest_lines_and_digest() -> None:
    out = io.BytesIO()
    summary = write_manifest("src-bkt", iter(KEYS), out)
    assert out.getvalue().decode() == manifest_text(KEYS)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode())))
    assert [decode_key(row[1]) for row in rows] == KEYS and {row[0] for row in rows} == {"src-bkt"}
    assert summary.tasks == 4 and summary.md5 == hashlib.md5(out.getvalue()).hexdigest()
    where = RunLocations.for_manifest("log-bkt", "transfers/", summary)
    assert where.manifest_key == f"transfers/batch/{summary.md5[:16]}/manifest.csv"


def test_request_token_is_stable_and_changes_with_the_request() -> None:
    where = RunLocations("log-bkt", "t/batch/abc/manifest.csv", "t/batch/abc")
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    first = batch.job_request(batch.JobSpec(ACCOUNT, role, SIDES, where, "etag1"))
    again = batch.job_request(batch.JobSpec(ACCOUNT, role, SIDES, where, "etag1"))
    other = batch.job_request(batch.JobSpec(ACCOUNT, role, SIDES, where, "etag2"))
    assert first["ClientRequestToken"] == again["ClientRequestToken"]
    assert first["ClientRequestToken"] != other["ClientRequestToken"]
    assert 1 <= len(first["ClientRequestToken"]) <= 64


def test_report_rows_in_both_column_orders(mock_s3: Any) -> None:
    mock_s3.create_bucket(Bucket="log-bkt")
    base = f"p/job-{JOB_ID}"
    rows = [
        ["src-bkt", "data/a%2Cb+c.txt", "", "succeeded", "200", "", "Successful"],
        ["src-bkt", "data/x", "", "failed", "AccessDenied", "403", 'Access "denied", really'],
        ["src-bkt", "data/y", "", "failed", "400", "InvalidRequest", "bad"],
    ]
    mock_s3.put_object(Bucket="log-bkt", Key=f"{base}/results/1.csv", Body=report_csv(rows))
    manifest = {
        "Format": "Report_CSV_20180820",
        "Results": [
            {
                "TaskExecutionStatus": "succeeded",
                "Bucket": "log-bkt",
                "Key": f"{base}/results/1.csv",
            }
        ],
    }
    mock_s3.put_object(Bucket="log-bkt", Key=f"{base}/manifest.json", Body=json.dumps(manifest))
    tasks = list(read_completion_report(mock_s3, "log-bkt", "p", JOB_ID))
    assert tasks[0].key == "data/a,b c.txt" and tasks[0].succeeded
    assert (tasks[1].error_code, tasks[1].http_status) == ("AccessDenied", "403")
    assert tasks[1].message == 'Access "denied", really'
    assert (tasks[2].error_code, tasks[2].http_status) == ("InvalidRequest", "400")


def test_a_report_that_is_not_one_is_an_error(mock_s3: Any) -> None:
    mock_s3.create_bucket(Bucket="log-bkt")
    mock_s3.put_object(
        Bucket="log-bkt", Key=f"p/job-{JOB_ID}/manifest.json", Body=b'{"Format": "x"}'
    )
    with pytest.raises(AwsError, match="not a Report_CSV_20180820"):
        list(read_completion_report(mock_s3, "log-bkt", "p", JOB_ID))


# --------------------------------------------------------------------------- stubbed calls
def test_create_job_waits_for_a_new_role(stubs: Stubs) -> None:
    request = {"AccountId": ACCOUNT}
    stubs["s3control"].add_client_error(
        "create_job", "InvalidRequest", "Unable to assume role arn:aws:iam::123456789012:role/r"
    )
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    clock = FakeClock()
    full = batch.job_request(
        batch.JobSpec(
            ACCOUNT,
            f"arn:aws:iam::{ACCOUNT}:role/r",
            SIDES,
            RunLocations("log-bkt", "m.csv", "r"),
            "etag",
        )
    )
    assert request["AccountId"] == full["AccountId"]
    assert create_job(stubs.s3control, full, role_is_new=True, clock=clock) == JOB_ID
    assert clock.slept == [5]
    assert stubs.sent["CreateJob"][0] == stubs.sent["CreateJob"][1]  # the same token on retry


def test_create_job_does_not_retry_other_errors(stubs: Stubs) -> None:
    stubs["s3control"].add_client_error("create_job", "AccessDenied", "not allowed: s3:CreateJob")
    full = batch.job_request(
        batch.JobSpec(
            ACCOUNT, f"arn:aws:iam::{ACCOUNT}:role/r", SIDES, RunLocations("l", "m", "r"), "e"
        )
    )
    with pytest.raises(AwsError, match=r"Allow s3:CreateJob.*iam:PassRole on its role"):
        create_job(stubs.s3control, full, role_is_new=True, clock=FakeClock())


def test_accounts_compared_before_anything_is_made(stubs: Stubs) -> None:
    from s32s.transfers.config import Side, TransferConfig

    dst_sts = boto3.client("sts", region_name="us-east-1")
    with Stubber(dst_sts) as dst_stub:
        stubs["sts"].add_response("get_caller_identity", identity(ACCOUNT))
        dst_stub.add_response("get_caller_identity", identity(OTHER_ACCOUNT))
        config = TransferConfig(
            path=__import__("pathlib").Path("t.yaml"),
            src=Side("src", "src-bkt", "data/", profile="a"),
            dst=Side("dst", "dst-bkt", "data/", profile="b"),
            log_directory=None,
            log_side=Side("log", "log-bkt"),
            workers=4,
        )
        clients = BatchClients(stubs.sts, stubs.iam, stubs.s3control, None, dst_sts=dst_sts)
        with pytest.raises(ConfigError, match=r"different accounts.*local engine"):
            check_batch(config, clients, BatchOptions())
        dst_stub.assert_no_pending_responses()
    stubs.done()  # no IAM or S3 Control call was made


def test_run_creates_role_job_and_reads_the_report(stubs: Stubs, buckets: Any) -> None:
    s3 = buckets
    prepared = prepared_transfer(s3)
    batch_keys = sorted(k for k in KEYS if not k.endswith("big.bin"))
    text = manifest_text(batch_keys)
    digest = hashlib.md5(text.encode()).hexdigest()
    prefix = f"transfers/batch/{digest[:16]}"
    write_completion_report(s3, prefix, succeeded=batch_keys[:2], failed=batch_keys[2:])
    role = batch.role_name(SIDES)
    stubs["sts"].add_response("get_caller_identity", identity())
    stubs["iam"].add_client_error("get_role", "NoSuchEntity", "The role cannot be found.", 404)
    stubs["iam"].add_response(
        "create_role",
        role_answer(role),
        {
            "RoleName": role,
            "AssumeRolePolicyDocument": ANY,
            "Description": ANY,
        },
    )
    stubs["iam"].add_response(
        "put_role_policy",
        {},
        {"RoleName": role, "PolicyName": "s32s-batch-copy", "PolicyDocument": ANY},
    )
    expected_job = {
        "AccountId": ACCOUNT,
        "ConfirmationRequired": False,
        "Operation": {
            "S3PutObjectCopy": {
                "TargetResource": "arn:aws:s3:::dst-bkt",
                "MetadataDirective": "COPY",
                "TargetKeyPrefix": "mirror",
            }
        },
        "Report": {
            "Bucket": "arn:aws:s3:::log-bkt",
            "Format": "Report_CSV_20180820",
            "Enabled": True,
            "Prefix": prefix,
            "ReportScope": "AllTasks",
        },
        "Manifest": {
            "Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
            "Location": {
                "ObjectArn": f"arn:aws:s3:::log-bkt/{prefix}/manifest.csv",
                "ETag": digest,
            },
        },
        "Priority": 10,
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
        "Description": ANY,
        "ClientRequestToken": ANY,
    }
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID}, expected_job)
    stubs["s3control"].add_response(
        "describe_job", job_answer("Active", 1, 0), {"AccountId": ACCOUNT, "JobId": JOB_ID}
    )
    stubs["s3control"].add_response(
        "describe_job", job_answer("Complete", 2, 1), {"AccountId": ACCOUNT, "JobId": JOB_ID}
    )
    log = TransferLog(
        src=LogSide("src-bkt", "data/"), dst=LogSide("dst-bkt", "mirror/data/"), max_workers=4
    )
    seen: list[str] = []
    outcome = run_batch(
        prepared,
        SIDES,
        stubs.clients(s3),
        BatchOptions(wait=True, clock=FakeClock(), interval=1),
        log=log,
        on_progress=lambda progress: seen.append(progress.status),
    )
    stubs.done()
    assert seen == ["Active", "Complete"]
    # the manifest object is what the plan said, and the job was given its ETag
    manifest = s3.get_object(Bucket="log-bkt", Key=f"{prefix}/manifest.csv")["Body"].read()
    assert manifest.decode() == text
    # the role's policy: exactly the four grants, on these resources
    policy = json.loads(stubs.sent["PutRolePolicy"][0]["PolicyDocument"])
    grants = {s["Sid"]: (sorted(s["Action"]), s["Resource"]) for s in policy["Statement"]}
    assert grants == {
        "ReadSource": (
            ["s3:GetObject", "s3:GetObjectTagging", "s3:GetObjectVersion"],
            "arn:aws:s3:::src-bkt/data/*",
        ),
        "WriteDestination": (
            ["s3:PutObject", "s3:PutObjectTagging"],
            "arn:aws:s3:::dst-bkt/mirror/data/*",
        ),
        "ReadManifest": (
            ["s3:GetObject", "s3:GetObjectVersion"],
            f"arn:aws:s3:::log-bkt/{prefix}/manifest.csv",
        ),
        "WriteReport": (["s3:PutObject"], f"arn:aws:s3:::log-bkt/{prefix}/*"),
    }
    trust = json.loads(stubs.sent["CreateRole"][0]["AssumeRolePolicyDocument"])
    assert trust["Statement"][0]["Principal"] == {"Service": "batchoperations.s3.amazonaws.com"}
    # the log: batch successes, the failure with its code, the big object copied here
    document = log.to_dict()
    moved = {entry["src_key"]: entry for entry in document["objects_moved"]}
    assert {k: moved[k]["engine"] for k in moved} == {
        batch_keys[0]: "batch",
        batch_keys[1]: "batch",
        "data/big.bin": "local",
    }
    assert moved["data/big.bin"]["dst_key"] == "mirror/data/big.bin"
    assert document["failed_objects"] == {batch_keys[2]: "AccessDenied: Access Denied"}
    assert document["initial_unsynced_objects"] == 4
    assert document["total_bytes_to_move"] == 20 * 3 + 300
    assert document["bytes_transferred"] == 20 * 2 + 300
    assert document["batch_job"]["job_id"] == JOB_ID and document["batch_job"]["role_created"]
    assert document["batch_job"]["copied_locally"] == ["big.bin"]
    assert s3.get_object(Bucket="dst-bkt", Key="mirror/data/big.bin")["ContentLength"] == 300
    report = outcome.report
    assert report.copied == 3 and report.exit_code == 1
    assert report.failed == {batch_keys[2][len("data/") :]: "AccessDenied: Access Denied"}


def test_rerun_of_the_same_plan_sends_the_same_token(stubs: Stubs, buckets: Any) -> None:
    prepared = prepared_transfer(buckets)
    role = f"arn:aws:iam::{ACCOUNT}:role/given"
    for _ in range(2):
        stubs["sts"].add_response("get_caller_identity", identity())
        stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    options = BatchOptions(role_arn=role)
    first = run_batch(prepared, SIDES, stubs.clients(buckets), options)
    second = run_batch(prepared, SIDES, stubs.clients(buckets), options)
    stubs.done()
    tokens = [call["ClientRequestToken"] for call in stubs.sent["CreateJob"]]
    assert tokens[0] == tokens[1] and first.job_id == second.job_id == JOB_ID
    assert "GetRole" not in stubs.sent  # a given role is used as is
    assert first.report.warnings and JOB_ID in first.report.warnings[0]
    assert "describe-job" in first.follow


def test_dry_run_writes_and_creates_nothing(stubs: Stubs, buckets: Any) -> None:
    stubs["sts"].add_response("get_caller_identity", identity())
    outcome = run_batch(
        prepared_transfer(buckets), SIDES, stubs.clients(buckets), BatchOptions(dry_run=True)
    )
    stubs.done()
    assert buckets.list_objects_v2(Bucket="log-bkt").get("KeyCount", 0) == 0
    assert buckets.list_objects_v2(Bucket="dst-bkt").get("KeyCount", 0) == 0
    assert outcome.manifest.tasks == 3 and outcome.local_keys == ["big.bin"]
    assert outcome.manifest.sample[0] == "src-bkt,data/a.txt"
    assert outcome.request["Operation"]["S3PutObjectCopy"]["TargetKeyPrefix"] == "mirror"
    assert outcome.role_policy is not None and outcome.job_id is None


def test_failed_job_fails_every_task(
    stubs: Stubs, buckets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "MAX_COPY_SIZE", 10_000)
    stubs["sts"].add_response("get_caller_identity", identity())
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    answer = job_answer("Failed", 0, 0)
    answer["Job"]["FailureReasons"] = [
        {"FailureCode": "ManifestEtagMismatch", "FailureReason": "etag"}
    ]
    stubs["s3control"].add_response("describe_job", answer)
    outcome = run_batch(
        prepared_transfer(buckets),
        SIDES,
        stubs.clients(buckets),
        BatchOptions(role_arn=f"arn:aws:iam::{ACCOUNT}:role/r", wait=True, clock=FakeClock()),
    )
    assert len(outcome.report.failed) == 4
    assert all("ManifestEtagMismatch" in reason for reason in outcome.report.failed.values())


# --------------------------------------------------------------------------- a whole run
def aws_transfer_config(tmp_path: Any) -> Any:
    from s32s.transfers.config import load_transfer_config

    path = tmp_path / "t.yaml"
    path.write_text(
        "src: {bucket: src-bkt, bucket_prefix: data/}\n"
        "dst: {bucket: dst-bkt, bucket_prefix: mirror/data/}\n"
        f"log: {{local_directory: {tmp_path / 'logs'}, bucket: log-bkt, bucket_prefix: transfers}}\n"
    )
    return load_transfer_config(path)


def test_batch_transfer_leaves_the_log_running_without_wait(
    stubs: Stubs, buckets: Any, tmp_path: Any
) -> None:
    from s32s.aws.clients import AwsOptions
    from s32s.transfers.batch_run import batch_transfer

    stubs["sts"].add_response("get_caller_identity", identity())
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    result = batch_transfer(
        aws_transfer_config(tmp_path),
        AwsOptions(region="us-east-1"),
        BatchOptions(role_arn=f"arn:aws:iam::{ACCOUNT}:role/given"),
        clients=stubs.clients(buckets),
    )
    stubs.done()
    document = json.loads((tmp_path / "logs" / result.log.file_name).read_text())
    assert document["status"] == "Running" and document["batch_job"]["job_id"] == JOB_ID
    assert document["batch_job"]["status"] == "Submitted"
    assert [entry["src_key"] for entry in document["objects_moved"]] == ["data/big.bin"]
    uploaded = buckets.get_object(Bucket="log-bkt", Key=f"transfers/{result.log.file_name}")
    assert json.loads(uploaded["Body"].read())["batch_job"]["job_id"] == JOB_ID
    assert result.outcome.report.exit_code == 0


def test_interrupted_wait_keeps_the_job_and_the_log_running(
    stubs: Stubs, buckets: Any, tmp_path: Any
) -> None:
    from s32s.aws.clients import AwsOptions
    from s32s.transfers.batch_run import batch_transfer

    stubs["sts"].add_response("get_caller_identity", identity())
    stubs["s3control"].add_response("create_job", {"JobId": JOB_ID})
    stubs["s3control"].add_response("describe_job", job_answer("Active", 0, 0))

    def interrupt(progress: Any) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch_transfer(
            aws_transfer_config(tmp_path),
            AwsOptions(region="us-east-1"),
            BatchOptions(role_arn=f"arn:aws:iam::{ACCOUNT}:role/given", wait=True),
            clients=stubs.clients(buckets),
            on_progress=interrupt,
        )
    (log_file,) = (tmp_path / "logs").glob("dt_data_*.json")
    document = json.loads(log_file.read_text())
    assert document["status"] == "Running" and document["batch_job"]["job_id"] == JOB_ID


def test_batch_plans_from_an_inventory_report(stubs: Stubs, buckets: Any, tmp_path: Any) -> None:
    from s32s.aws.clients import AwsOptions
    from s32s.transfers.batch_run import batch_transfer
    from tests.unit.test_inventory import inventory_row, write_report

    rows = [inventory_row("data/a.txt", 20, "e1"), inventory_row("data/sub dir/b,c.txt", 20, "e2")]
    url = write_report(buckets, [rows])  # the other objects are newer than the report
    stubs["sts"].add_response("get_caller_identity", identity())
    result = batch_transfer(
        aws_transfer_config(tmp_path),
        AwsOptions(region="us-east-1"),
        BatchOptions(dry_run=True),
        inventory=url,
        clients=stubs.clients(buckets),
    )
    stubs.done()
    assert result.outcome.manifest.sample == [
        "src-bkt,data/a.txt",
        "src-bkt,data/sub%20dir/b%2Cc.txt",
    ]
    assert result.source.manifest.location == url


def test_clients_keep_aws_endpoints_for_sts_iam_and_s3control(tmp_path: Any) -> None:
    from s32s.aws.clients import AwsOptions

    config = aws_transfer_config(tmp_path)
    base = AwsOptions(region="eu-west-1", endpoint_url="https://s3.eu-west-1.amazonaws.com")
    clients = BatchClients.for_config(config, base)
    assert "sts" in clients.sts.meta.endpoint_url
    assert "iam" in clients.iam.meta.endpoint_url
    assert clients.log_s3.meta.endpoint_url == "https://s3.eu-west-1.amazonaws.com"
    assert clients.dst_sts is None  # one set of credentials: one account
