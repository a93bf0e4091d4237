"""Snowball Edge small-file batching: archives planned within the documented limits,
uploaded to moto with the auto-extract metadata, and checked by extracting them."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from s32s.errors import ConfigError
from s32s.paths import S3Url
from s32s.snowball import batch as snowball
from s32s.snowball.batch import BatchLimits, SnowballBatching, plan_archives
from s32s.sync.job import SyncJob, prepare
from s32s.sync.local import LocalStore
from s32s.sync.plan import Action, Kind
from s32s.sync.s3 import S3Store

SMALL = {
    "a.txt": b"alpha" * 10,
    "dir/b.bin": bytes(range(256)) * 3,
    "dir/sub/c d,e.txt": b"with a comma and a space",
    "empty.txt": b"",
}
LARGE = {"large.bin": b"L" * 1_500_000}  # over 1 MB: one object of its own


def make_tree(root: Path, files: dict[str, bytes]) -> None:
    for key, body in files.items():
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def action(key: str, size: int) -> Action:
    return Action(Kind.COPY, key, size)


def test_archives_respect_the_limits() -> None:
    actions = [action(f"f{n:03d}", 1000) for n in range(25)] + [action("big", 2_000_000)]
    archives, single = plan_archives(actions, BatchLimits(files_per_archive=10), "run")
    assert [len(a.actions) for a in archives] == [10, 10, 5]
    assert [a.key for a in single] == ["big"]
    assert archives[0].tar_key == ".s32s-snowball/run-00001.tar"
    by_size, _ = plan_archives(actions[:25], BatchLimits(archive_bytes=5 * 1536 + 2048), "r")
    assert all(len(a.actions) <= 5 for a in by_size)
    assert all(a.size <= 5 * 1536 + 2048 for a in by_size)


def test_default_limits_are_the_documented_ones() -> None:
    limits = BatchLimits()
    assert limits.small_file == 1_000_000 and limits.files_per_archive == 10_000
    assert limits.archive_bytes <= 100 * 1000**3  # larger batches are not extracted
    with pytest.raises(ConfigError, match="one PUT"):
        BatchLimits(archive_bytes=6 * 1024**3)


def run_sync(root: Path, s3: Any, batching: SnowballBatching) -> Any:
    job = SyncJob("snow", LocalStore(root), S3Store(S3Url("snow-bkt", "site"), s3))
    prepared = prepare(batching.job(job))
    return prepared, batching.run(prepared)


def test_archives_extract_to_the_files_with_their_keys(tmp_path: Path, mock_s3: Any) -> None:
    mock_s3.create_bucket(Bucket="snow-bkt")
    make_tree(tmp_path, {**SMALL, **LARGE})
    batching = SnowballBatching()
    _, report = run_sync(tmp_path, mock_s3, batching)
    assert report.copied == 5 and not report.failed
    listed = {o["Key"] for o in mock_s3.list_objects_v2(Bucket="snow-bkt")["Contents"]}
    tars = [key for key in listed if key.endswith(".tar")]
    assert len(tars) == 1 and tars[0].startswith("site/.s32s-snowball/")
    assert (
        "site/large.bin" in listed and "site/a.txt" not in listed
    )  # small files travel in the tar
    head = mock_s3.head_object(Bucket="snow-bkt", Key=tars[0])
    assert head["Metadata"] == {"snowball-auto-extract": "true"}
    body = mock_s3.get_object(Bucket="snow-bkt", Key=tars[0])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
        mtimes = {m.name: m.mtime for m in tar.getmembers()}
    assert members == {f"site/{key}": data for key, data in SMALL.items()}
    assert mtimes["site/a.txt"] == int((tmp_path / "a.txt").stat().st_mtime)
    assert batching.by_archive() == {tars[0]: sorted(SMALL)}
    index = json.loads(
        mock_s3.get_object(Bucket="snow-bkt", Key=tars[0][:-4] + ".json")["Body"].read()
    )
    assert index["archive"] == tars[0] and set(index["files"]) == set(SMALL)


def test_second_run_sends_nothing_and_a_change_goes_again(tmp_path: Path, mock_s3: Any) -> None:
    mock_s3.create_bucket(Bucket="snow-bkt")
    make_tree(tmp_path, SMALL)
    run_sync(tmp_path, mock_s3, SnowballBatching())
    prepared, report = run_sync(tmp_path, mock_s3, SnowballBatching())
    assert prepared.plan.copies == [] and report.copied == 0
    (tmp_path / "a.txt").write_bytes(b"changed, and longer than before")
    prepared, report = run_sync(tmp_path, mock_s3, SnowballBatching())
    assert [a.key for a in prepared.plan.copies] == ["a.txt"] and report.copied == 1


def test_archives_are_never_deleted_by_a_mirror(tmp_path: Path, mock_s3: Any) -> None:
    from s32s.sync.plan import PlanOptions

    mock_s3.create_bucket(Bucket="snow-bkt")
    make_tree(tmp_path, SMALL)
    run_sync(tmp_path, mock_s3, SnowballBatching())
    job = SyncJob(
        "snow",
        LocalStore(tmp_path),
        S3Store(S3Url("snow-bkt", "site"), mock_s3),
        plan_options=PlanOptions(delete=True),
    )
    prepared = prepare(SnowballBatching().job(job))
    assert prepared.plan.deletes == []


def test_a_failed_archive_fails_its_files_and_skips_deletes(
    tmp_path: Path, mock_s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s32s.sync.plan import PlanOptions
    from s32s.sync.safeguards import Safeguards

    mock_s3.create_bucket(Bucket="snow-bkt")
    mock_s3.put_object(Bucket="snow-bkt", Key="site/gone.txt", Body=b"old")
    make_tree(tmp_path, SMALL)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("device full")

    monkeypatch.setattr(snowball, "upload_archive", refuse)
    job = SyncJob(
        "snow",
        LocalStore(tmp_path),
        S3Store(S3Url("snow-bkt", "site"), mock_s3),
        plan_options=PlanOptions(delete=True),
        safeguards=Safeguards(max_delete=-1),
    )
    batching = SnowballBatching()
    prepared = prepare(batching.job(job))
    report = batching.run(prepared)
    assert set(report.failed) == set(SMALL) and "device full" in report.failed["a.txt"]
    assert report.deleted == 0 and report.deletes_skipped
    assert "site/gone.txt" in {
        o["Key"] for o in mock_s3.list_objects_v2(Bucket="snow-bkt")["Contents"]
    }


def test_needs_an_s3_destination(tmp_path: Path) -> None:
    job = SyncJob("x", LocalStore(tmp_path), LocalStore(tmp_path / "other"))
    with pytest.raises(ConfigError, match="S3 destination"):
        SnowballBatching().job(job)


def test_archives_are_written_with_the_object_settings_and_paced(
    tmp_path: Path, mock_s3: Any
) -> None:
    from s32s.sync.execute import ExecuteOptions
    from s32s.sync.objectsettings import ObjectSettings

    class Counting:
        taken = 0

        def take(self, byte_count: int) -> None:
            Counting.taken += max(byte_count, 0)

    mock_s3.create_bucket(Bucket="snow-bkt")
    make_tree(tmp_path, SMALL)
    settings = ObjectSettings(storage_class="STANDARD_IA", sse="AES256")
    dest = S3Store(S3Url("snow-bkt", "site"), mock_s3, settings=settings)
    options = ExecuteOptions(workers=2, bandwidth=Counting())  # type: ignore[arg-type]
    batching = SnowballBatching()
    job = SyncJob("snow", LocalStore(tmp_path), dest, execute_options=options)
    report = batching.run(prepare(batching.job(job)))
    assert report.copied == len(SMALL) and not report.failed
    (tar,) = batching.by_archive()
    head = mock_s3.head_object(Bucket="snow-bkt", Key=tar)
    assert head["ContentType"] == "application/x-tar"
    assert head["StorageClass"] == "STANDARD_IA" and head["ServerSideEncryption"] == "AES256"
    assert head["Metadata"] == {"snowball-auto-extract": "true"}
    index = mock_s3.head_object(Bucket="snow-bkt", Key=tar[:-4] + ".json")
    assert index["ContentType"] == "application/json" and index["StorageClass"] == "STANDARD_IA"
    assert Counting.taken >= head["ContentLength"]  # the archive's bytes waited for the limiter
