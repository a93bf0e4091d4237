"""Archived source objects: listed as "archived, restore first", never fetched, restored on request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.errors import ExitCode
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url
from s32s.sync.entries import Entry
from s32s.sync.events import NullReporter, Report
from s32s.sync.execute import ExecuteOptions, run_plan
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from s32s.sync.plan import Action, Kind, Plan, PlanOptions
from s32s.sync.s3 import S3Store
from s32s.sync.safeguards import Safeguards

BUCKET = "archive-bkt"


@pytest.fixture
def bucket(mock_s3: Any) -> Any:
    mock_s3.create_bucket(Bucket=BUCKET)
    mock_s3.put_object(Bucket=BUCKET, Key="data/live.txt", Body=b"live")
    mock_s3.put_object(Bucket=BUCKET, Key="data/cold.txt", Body=b"cold", StorageClass="GLACIER")
    mock_s3.put_object(
        Bucket=BUCKET, Key="data/colder.txt", Body=b"colder", StorageClass="DEEP_ARCHIVE"
    )
    return mock_s3


def sync(source: Any, dest: Any, max_delete: int | None = None, **options: Any) -> Report:
    factory = ClientFactory(AwsOptions(region="us-east-1"))
    with StoreFactory(factory, 4) as stores:

        def side(place: Any) -> Any:
            return stores.s3(place) if isinstance(place, S3Url) else stores.local(place)

        job = SyncJob(
            "archive",
            side(source),
            side(dest),
            PlanOptions(),
            Safeguards(max_delete=max_delete),
            execute_options=ExecuteOptions(workers=2, **options),
        )
        return execute(prepare(job), NullReporter())


def test_a_pull_leaves_archived_objects_and_says_so(bucket: Any, tmp_path: Path) -> None:
    report = sync(S3Url(BUCKET, "data"), tmp_path)
    assert (tmp_path / "live.txt").read_bytes() == b"live"
    assert not (tmp_path / "cold.txt").exists() and not (tmp_path / "colder.txt").exists()
    assert report.failed == {}
    assert report.archived == {
        "cold.txt": "archived (GLACIER), restore first",
        "colder.txt": "archived (DEEP_ARCHIVE), restore first",
    }
    assert report.copied == 1 and report.exit_code == ExitCode.PARTIAL_FAILURE
    assert report.to_dict()["archived"][0] == {
        "path": "cold.txt",
        "reason": "archived (GLACIER), restore first",
    }
    assert not list(tmp_path.rglob("*.s32s-tmp"))


def test_skip_archived_keeps_the_exit_code_at_zero(bucket: Any, tmp_path: Path) -> None:
    report = sync(S3Url(BUCKET, "data"), tmp_path, skip_archived=True)
    assert set(report.archived) == {"cold.txt", "colder.txt"}
    assert report.exit_code == ExitCode.OK


def test_archived_objects_do_not_stop_deletions(bucket: Any, tmp_path: Path) -> None:
    (tmp_path / "gone.txt").write_text("gone from S3")
    report = sync(S3Url(BUCKET, "data"), tmp_path, max_delete=1)
    assert report.deleted == 1 and report.deletes_skipped is None
    assert not (tmp_path / "gone.txt").exists()


def test_restore_archived_asks_s3_and_a_later_run_copies(bucket: Any, tmp_path: Path) -> None:
    report = sync(S3Url(BUCKET, "data"), tmp_path, restore_archived_days=3)
    assert report.archived["cold.txt"] == (
        "archived (GLACIER), restore requested for 3 days: run again once it is restored"
    )
    assert (
        'ongoing-request="false"'
        in bucket.head_object(Bucket=BUCKET, Key="data/cold.txt")["Restore"]
    )
    again = sync(S3Url(BUCKET, "data"), tmp_path)
    assert again.archived == {} and again.copied == 2
    assert (tmp_path / "cold.txt").read_bytes() == b"cold"


def test_a_copy_between_buckets_leaves_archived_objects(bucket: Any) -> None:
    bucket.create_bucket(Bucket="archive-copy")
    for server_side in (True, False):
        report = sync(
            S3Url(BUCKET, "data"),
            S3Url("archive-copy", f"copy-{server_side}"),
            server_side_copy=server_side,
        )
        assert report.copied == 1 and report.failed == {}, report.failed
        assert set(report.archived) == {"cold.txt", "colder.txt"}
        keys = [o["Key"] for o in bucket.list_objects_v2(Bucket="archive-copy")["Contents"]]
        assert f"copy-{server_side}/cold.txt" not in keys


def pull_entries(store: S3Store, entries: list[Entry], folder: Path, restore_days: int) -> Report:
    """Run a plan copying `entries` from `store` into `folder`, one worker, restores asked."""
    plan = Plan(
        copies=[Action(Kind.COPY, entry.key, entry.size, "new", entry) for entry in entries]
    )
    report = Report("pull", str(store), str(folder))
    options = ExecuteOptions(workers=1, restore_archived_days=restore_days)
    return run_plan(store, LocalStore(folder), plan, report, options, NullReporter())


def test_intelligent_tiering_archive_tiers_are_found_by_the_get(tmp_path: Path) -> None:
    """The listing says INTELLIGENT_TIERING; only the refused GET shows the archive tier.
    The restore request of such an object carries no Days (S3 refuses them)."""
    client = boto3.client("s3", region_name="us-east-1")
    store = S3Store(S3Url(BUCKET, "it"), client)
    entry = Entry("deep.bin", size=4, etag="e", storage_class="INTELLIGENT_TIERING")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_object",
        service_error_code="InvalidObjectState",
        service_message="The operation is not valid for the object's access tier",
        http_status_code=403,
        service_error_meta={
            "StorageClass": "INTELLIGENT_TIERING",
            "AccessTier": "DEEP_ARCHIVE_ACCESS",
        },
    )
    stubber.add_response(
        "restore_object", {}, {"Bucket": BUCKET, "Key": "it/deep.bin", "RestoreRequest": {}}
    )
    with stubber:
        report = pull_entries(store, [entry], tmp_path, restore_days=5)
    stubber.assert_no_pending_responses()
    assert report.archived == {
        "deep.bin": "archived (INTELLIGENT_TIERING DEEP_ARCHIVE_ACCESS), restore requested: "
        "run again once it is back in its frequent tier"
    }
    assert report.failed == {}


def test_a_restore_already_running_or_refused_is_reported(tmp_path: Path) -> None:
    client = boto3.client("s3", region_name="us-east-1")
    store = S3Store(S3Url(BUCKET, "g"), client)
    entries = [Entry(name, size=1, etag="e", storage_class="GLACIER") for name in ("a", "b")]
    stubber = Stubber(client)
    for entry in entries:
        stubber.add_client_error("get_object", "InvalidObjectState", http_status_code=403)
        error = "RestoreAlreadyInProgress" if entry.key == "a" else "AccessDenied"
        stubber.add_client_error("restore_object", error, http_status_code=409)
    with stubber:
        report = pull_entries(store, entries, tmp_path, restore_days=1)
    assert report.archived["a"] == (
        "archived (GLACIER), restore already in progress: run again once it is done"
    )
    assert report.archived["b"].startswith(
        "archived (GLACIER), restore first (the restore request failed: "
    )
    assert report.failed == {}


def test_a_large_archived_object_read_in_parts_is_reported_and_restored(
    mock_s3: Any, tmp_path: Path, multipart_threshold: int
) -> None:
    """Ranged GETs of an archived object fail as a whole GET does: same report, no partial file."""
    from s32s.sync.s3 import MiB

    body = b"g" * (multipart_threshold + MiB)
    mock_s3.create_bucket(Bucket=BUCKET)
    mock_s3.put_object(Bucket=BUCKET, Key="big/frozen.bin", Body=body, StorageClass="GLACIER")
    report = sync(S3Url(BUCKET, "big"), tmp_path, restore_archived_days=1)
    assert report.failed == {}
    assert report.archived == {
        "frozen.bin": "archived (GLACIER), restore requested for 1 days: run again once it is "
        "restored"
    }
    assert report.exit_code == ExitCode.PARTIAL_FAILURE
    assert sorted(path.name for path in tmp_path.iterdir()) == []  # no partial download kept
    again = sync(S3Url(BUCKET, "big"), tmp_path)
    assert again.archived == {} and again.copied == 1
    assert (tmp_path / "frozen.bin").read_bytes() == body
