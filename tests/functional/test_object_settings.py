"""Object settings observed on the objects: Content-Type, storage class, encryption, SSE-C, archives.

HeadObject on moto's server and rclone's (which keeps Content-Type but has no
storage classes or server-side encryption); botocore's Stubber for SSE-C,
which neither server implements, and for Intelligent-Tiering archive tiers.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.paths import S3Url
from s32s.sync import s3 as s3_module
from s32s.sync.entries import Entry
from s32s.sync.events import NullReporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore
from s32s.sync.objectsettings import ObjectSettings
from s32s.sync.plan import PlanOptions
from s32s.sync.s3 import MiB, S3Store

BUCKET = "settings-bkt"
KEY = bytes(range(100, 132))
READ_KEY = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
SOURCE_KEY = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}


@pytest.fixture
def server(s3_server: Any) -> tuple[Any, ClientFactory, Any]:
    factory = ClientFactory(AwsOptions(endpoint_url=s3_server.url, region="us-east-1"))
    client = factory.s3()
    client.create_bucket(Bucket=BUCKET)
    return s3_server, factory, client


def run(
    factory: ClientFactory,
    source: Any,
    dest: Any,
    settings: ObjectSettings,
    **execute_options: Any,
) -> Any:
    with StoreFactory(factory, 4) as stores:

        def side(place: Any) -> Any:
            return stores.s3(place, settings) if isinstance(place, S3Url) else stores.local(place)

        job = SyncJob(
            "test",
            side(source),
            side(dest),
            PlanOptions(),
            execute_options=ExecuteOptions(workers=4, **execute_options),
        )
        prepared = prepare(job)
        return prepared, execute(prepared, NullReporter())


def head(client: Any, key: str) -> dict[str, Any]:
    return dict(client.head_object(Bucket=BUCKET, Key=key))


def test_uploads_carry_content_type_storage_class_and_encryption(
    server: Any, tmp_path: Path, multipart_threshold: int
) -> None:
    s3_server, factory, client = server
    folder = tmp_path / "site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<html></html>")
    (folder / "css" / "site.css").write_text("body {}")
    (folder / "video.mp4").write_bytes(b"v" * (multipart_threshold + MiB))  # multipart
    settings = ObjectSettings(storage_class="STANDARD_IA", sse="AES256")
    _, report = run(factory, folder, S3Url(BUCKET, "site"), settings)
    assert report.copied == 3 and not report.failed
    expected = {
        "site/index.html": "text/html",
        "site/css/site.css": "text/css",
        "site/video.mp4": "video/mp4",
    }
    for key, content_type in expected.items():
        response = head(client, key)
        assert response["ContentType"] == content_type, key
        if s3_server.name == "moto":  # rclone's server keeps neither class nor encryption
            assert response["StorageClass"] == "STANDARD_IA", key
            assert response["ServerSideEncryption"] == "AES256", key


def test_kms_settings_and_no_guessed_type(server: Any, tmp_path: Path) -> None:
    s3_server, factory, client = server
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "page.html").write_text("<p>")
    settings = ObjectSettings(
        guess_content_type=False,
        sse="aws:kms",
        sse_kms_key_id="alias/site",
        storage_class="GLACIER_IR",
    )
    _, report = run(factory, folder, S3Url(BUCKET, "site"), settings)
    assert report.copied == 1
    response = head(client, "site/page.html")
    assert response.get("ContentType") != "text/html"
    if s3_server.name == "moto":
        assert response["ServerSideEncryption"] == "aws:kms"
        assert response["SSEKMSKeyId"] == "alias/site"
        assert response["StorageClass"] == "GLACIER_IR"


def test_a_changed_setting_alone_does_not_upload_again(server: Any, tmp_path: Path) -> None:
    _, factory, client = server
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    run(factory, folder, S3Url(BUCKET, "site"), ObjectSettings())
    prepared, report = run(
        factory, folder, S3Url(BUCKET, "site"), ObjectSettings(storage_class="ONEZONE_IA")
    )
    assert prepared.plan.is_empty and report.copied == 0
    assert head(client, "site/a.txt").get("StorageClass", "STANDARD") == "STANDARD"


@pytest.mark.parametrize("server_side", [True, False], ids=["server-side", "streamed"])
def test_copies_between_buckets_keep_the_source_content_type(
    server: Any, server_side: bool
) -> None:
    s3_server, factory, client = server
    client.create_bucket(Bucket="settings-copy")
    client.put_object(Bucket=BUCKET, Key="src/page", Body=b"<p>", ContentType="text/x-custom")
    client.put_object(Bucket=BUCKET, Key="src/style.css", Body=b"x", ContentType="text/plain")
    settings = ObjectSettings(storage_class="STANDARD_IA")
    _, report = run(
        factory,
        S3Url(BUCKET, "src"),
        S3Url("settings-copy", "dst"),
        settings,
        server_side_copy=server_side,
    )
    assert report.copied == 2 and not report.failed
    page = client.head_object(Bucket="settings-copy", Key="dst/page")
    style = client.head_object(Bucket="settings-copy", Key="dst/style.css")
    assert page["ContentType"] == "text/x-custom"
    assert style["ContentType"] == "text/plain"  # kept, not guessed from the name
    if s3_server.name == "moto":
        assert page["StorageClass"] == "STANDARD_IA"


def test_a_multipart_server_side_copy_keeps_the_content_type(
    mock_s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3_module, "MAX_SINGLE_COPY", 5 * MiB)
    mock_s3.create_bucket(Bucket=BUCKET)
    mock_s3.put_object(
        Bucket=BUCKET, Key="src/big.bin", Body=b"b" * (6 * MiB), ContentType="application/x-big"
    )
    factory = ClientFactory(AwsOptions(region="us-east-1"))
    _, report = run(
        factory,
        S3Url(BUCKET, "src"),
        S3Url(BUCKET, "dst"),
        ObjectSettings(storage_class="STANDARD_IA"),
        server_side_copy=True,
    )
    assert report.copied == 1 and not report.failed
    copied = mock_s3.head_object(Bucket=BUCKET, Key="dst/big.bin")
    assert copied["ContentType"] == "application/x-big"
    assert copied["StorageClass"] == "STANDARD_IA"
    assert copied["ContentLength"] == 6 * MiB


# SSE-C: neither moto nor rclone implements it; Stubber checks each request kind ------------------
def stubbed_store(prefix: str = "p", part_pool: Any = None) -> tuple[S3Store, Stubber]:
    client = boto3.client("s3", region_name="us-east-1")
    store = S3Store(
        S3Url(BUCKET, prefix),
        client,
        part_pool=part_pool,
        settings=ObjectSettings(sse_c_key=KEY),
    )
    return store, Stubber(client)


def test_sse_c_round_trip_sends_the_key_on_put_head_and_get(tmp_path: Path) -> None:
    store, stubber = stubbed_store()
    local = tmp_path / "doc.txt"
    local.write_bytes(b"secret content")
    stubber.add_response(
        "put_object",
        {"ETag": '"e1"', "SSECustomerAlgorithm": "AES256", "SSECustomerKeyMD5": "bWQ1"},
        {
            "Bucket": BUCKET,
            "Key": "p/doc.txt",
            "Body": ANY,
            "ContentLength": 14,
            "Metadata": ANY,
            "ContentType": "text/plain",
            **READ_KEY,
        },
    )
    stubber.add_response(
        "head_object",
        {"ContentLength": 14, "ETag": '"e1"', "Metadata": {"mtime": "1700000000.5"}},
        {"Bucket": BUCKET, "Key": "p/doc.txt", **READ_KEY},
    )
    stubber.add_response(
        "get_object",
        {
            "Body": StreamingBody(BytesIO(b"secret content"), 14),
            "ContentLength": 14,
            "ETag": '"e1"',
            "ContentType": "text/plain",
            "Metadata": {"mtime": "1700000000.5"},
        },
        {"Bucket": BUCKET, "Key": "p/doc.txt", "IfMatch": '"e1"', **READ_KEY},
    )
    with stubber:
        store.upload_file(str(local), "doc.txt", 14, 1_700_000_000_500_000_000)
        headed = store.head(Entry("doc.txt", size=14, etag="e1", mtime_known=False))
        opened = store.open_read(headed)
        destination = LocalStore(tmp_path / "out")
        with destination.atomic_writer("doc.txt", opened.mtime_ns) as handle:
            handle.write(opened.body.read())
    stubber.assert_no_pending_responses()
    assert headed.mtime_ns == 1_700_000_000_500_000_000
    assert (tmp_path / "out" / "doc.txt").read_bytes() == b"secret content"


def test_sse_c_multipart_upload_sends_the_key_on_every_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(s3_module, "MULTIPART_THRESHOLD", 2 * MiB)
    local = tmp_path / "big.bin"
    local.write_bytes(b"z" * (10 * MiB))
    with ThreadPoolExecutor(max_workers=1) as pool:  # one part at a time: a stubber is ordered
        store, stubber = stubbed_store(part_pool=pool)
        stubber.add_response(
            "create_multipart_upload",
            {"UploadId": "u1", "Bucket": BUCKET, "Key": "p/big.bin"},
            {
                "Bucket": BUCKET,
                "Key": "p/big.bin",
                "Metadata": ANY,
                "ContentType": "application/octet-stream",
                "ChecksumAlgorithm": "CRC32",  # an AWS client sends a CRC32 with each part
                **READ_KEY,
            },
        )
        for number in (1, 2):
            stubber.add_response(
                "upload_part",
                {"ETag": f'"p{number}"'},
                {
                    "Bucket": BUCKET,
                    "Key": "p/big.bin",
                    "UploadId": "u1",
                    "PartNumber": number,
                    "Body": ANY,
                    **READ_KEY,
                },
            )
        stubber.add_response(
            "complete_multipart_upload",
            {"ETag": '"m-2"'},
            {
                "Bucket": BUCKET,
                "Key": "p/big.bin",
                "UploadId": "u1",
                "MultipartUpload": ANY,
                **READ_KEY,
            },
        )
        with stubber:
            store.upload_file(str(local), "big.bin", 10 * MiB, None)
        stubber.assert_no_pending_responses()


def test_sse_c_copies_send_both_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(s3_module, "MAX_SINGLE_COPY", 5 * MiB)
    client = boto3.client("s3", region_name="us-east-1")
    with ThreadPoolExecutor(max_workers=1) as pool:
        settings = ObjectSettings(sse_c_key=KEY)
        source = S3Store(S3Url(BUCKET, "a"), client, part_pool=pool, settings=settings)
        dest = S3Store(S3Url(BUCKET, "b"), client, part_pool=pool, settings=settings)
        stubber = Stubber(client)
        stubber.add_response(
            "copy_object",
            {"CopyObjectResult": {"ETag": '"c1"'}},
            {
                "Bucket": BUCKET,
                "Key": "b/small",
                "CopySource": {"Bucket": BUCKET, "Key": "a/small"},
                "MetadataDirective": "COPY",
                **READ_KEY,
                **SOURCE_KEY,
            },
        )
        stubber.add_response(
            "head_object",
            {"ContentLength": 6 * MiB, "ETag": '"big"', "ContentType": "video/mp4", "Metadata": {}},
            {"Bucket": BUCKET, "Key": "a/big", **READ_KEY},
        )
        stubber.add_response(
            "create_multipart_upload",
            {"UploadId": "u2"},
            {
                "Bucket": BUCKET,
                "Key": "b/big",
                "Metadata": {},
                "ContentType": "video/mp4",
                "ChecksumAlgorithm": "CRC32",  # an AWS client sends a CRC32 with each part
                **READ_KEY,
            },
        )
        stubber.add_response(
            "upload_part_copy",
            {"CopyPartResult": {"ETag": '"q1"'}},
            {
                "Bucket": BUCKET,
                "Key": "b/big",
                "UploadId": "u2",
                "PartNumber": 1,
                "CopySource": {"Bucket": BUCKET, "Key": "a/big"},
                "CopySourceRange": f"bytes=0-{6 * MiB - 1}",
                **READ_KEY,
                **SOURCE_KEY,
            },
        )
        stubber.add_response(
            "complete_multipart_upload",
            {"ETag": '"m-1"'},
            {
                "Bucket": BUCKET,
                "Key": "b/big",
                "UploadId": "u2",
                "MultipartUpload": ANY,
                **READ_KEY,
            },
        )
        with stubber:
            dest.copy_from(source, Entry("small", size=10, etag="s"))
            dest.copy_from(source, Entry("big", size=6 * MiB, etag="big", mtime_known=True))
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(("server_side", "paced"), [(True, False), (False, True)])
def test_the_limiter_paces_streamed_copies_not_server_side_ones(
    mock_s3: Any, server_side: bool, paced: bool
) -> None:
    from datetime import datetime

    from s32s.sync.bwlimit import BandwidthLimiter, parse_bwlimit

    slept: list[float] = []
    limiter = BandwidthLimiter(
        parse_bwlimit("64k"),
        clock=lambda: 0.0,  # time stands still: every byte past the burst is a wait
        sleep=slept.append,
        now=lambda: datetime(2024, 1, 1),
    )
    mock_s3.create_bucket(Bucket=BUCKET)
    mock_s3.put_object(Bucket=BUCKET, Key="src/a.bin", Body=b"a" * (80 * 1024))
    factory = ClientFactory(AwsOptions(region="us-east-1"))
    _, report = run(
        factory,
        S3Url(BUCKET, "src"),
        S3Url(BUCKET, "dst"),
        ObjectSettings(),
        server_side_copy=server_side,
        bandwidth=limiter,
    )
    assert report.copied == 1
    # 80 KiB at 64 KiB/s after a 16 KiB burst: one second of waiting, or none at all.
    assert sum(slept) == (pytest.approx(1.0) if paced else 0)


# large files in parallel parts: the settings on every part, the limiter on every part -----------
def test_a_download_in_parts_sends_the_sse_c_key_on_every_range(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    size = 10 * MiB  # two ranges of 8 MiB and 2 MiB
    content = bytes(range(256)) * (size // 256)
    with ThreadPoolExecutor(max_workers=1) as pool:  # one range at a time: a stubber is ordered
        store, stubber = stubbed_store(part_pool=pool)
        for start, end in ((0, 8 * MiB), (8 * MiB, size)):
            stubber.add_response(
                "get_object",
                {
                    "Body": StreamingBody(BytesIO(content[start:end]), end - start),
                    "ContentLength": end - start,
                    "ETag": '"big-2"',
                    "Metadata": {"mtime": "1700000000"},
                },
                {
                    "Bucket": BUCKET,
                    "Key": "p/big.bin",
                    "IfMatch": '"big-2"',
                    "Range": f"bytes={start}-{end - 1}",
                    **READ_KEY,
                },
            )
        entry = Entry("big.bin", size=size, etag="big-2")
        destination = LocalStore(tmp_path)
        assert store.reads_in_parts(entry)
        partial = destination.partial_download("big.bin")
        with stubber:
            mtime_ns = store.download_in_parts(entry, partial)
        stubber.assert_no_pending_responses()
        destination.commit_partial("big.bin", partial, mtime_ns)
    assert (tmp_path / "big.bin").read_bytes() == content


def test_large_copies_between_buckets_keep_the_source_type_in_parts(
    server: Any, multipart_threshold: int
) -> None:
    """A streamed copy of a large object goes multipart: its CreateMultipartUpload carries the
    source's Content-Type (not one guessed from the name) and the destination's settings."""
    s3_server, factory, client = server
    client.create_bucket(Bucket="settings-copy")
    body = b"c" * (multipart_threshold + MiB)
    client.put_object(Bucket=BUCKET, Key="src/clip.mp4", Body=body, ContentType="video/x-own")
    _, report = run(
        factory,
        S3Url(BUCKET, "src"),
        S3Url("settings-copy", "dst"),
        ObjectSettings(storage_class="STANDARD_IA"),
        server_side_copy=False,
    )
    assert report.copied == 1 and not report.failed
    copied = client.head_object(Bucket="settings-copy", Key="dst/clip.mp4")
    assert copied["ContentType"] == "video/x-own"
    assert copied["ContentLength"] == len(body)
    if s3_server.name == "moto":
        assert copied["StorageClass"] == "STANDARD_IA"
        assert "-" in copied["ETag"]  # it did go in parts


class RecordingLimiter:
    """A limiter that never waits and remembers who took how many bytes."""

    def __init__(self) -> None:
        import threading

        self.lock = threading.Lock()
        self.taken: list[tuple[str, int]] = []

    def take(self, byte_count: int) -> None:
        import threading

        with self.lock:
            self.taken.append((threading.current_thread().name, byte_count))

    def total(self) -> int:
        return sum(count for _, count in self.taken if count > 0)

    def part_threads(self) -> set[str]:
        return {name for name, _ in self.taken if name.startswith("s32s-part")}


def test_the_limiter_paces_every_part_of_a_large_upload_and_download(
    mock_s3: Any, tmp_path: Path, multipart_threshold: int
) -> None:
    size = multipart_threshold + 9 * MiB  # three parts of 8 MiB and one of 1 MiB
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "big.bin").write_bytes(b"u" * size)
    mock_s3.create_bucket(Bucket=BUCKET)
    factory = ClientFactory(AwsOptions(region="us-east-1"))

    upload = RecordingLimiter()
    _, report = run(factory, folder, S3Url(BUCKET, "p"), ObjectSettings(), bandwidth=upload)
    assert report.copied == 1 and not report.failed
    assert "-" in mock_s3.head_object(Bucket=BUCKET, Key="p/big.bin")["ETag"]
    assert upload.total() >= size  # every byte read for a part passed the limiter
    assert upload.part_threads(), "the parts' own threads must wait for the limiter"

    download = RecordingLimiter()
    _, report = run(
        factory, S3Url(BUCKET, "p"), tmp_path / "down", ObjectSettings(), bandwidth=download
    )
    assert report.copied == 1 and not report.failed
    assert (tmp_path / "down" / "big.bin").stat().st_size == size
    assert download.total() == size  # each range's bytes, once
    assert download.part_threads()


def test_parts_an_interrupted_download_kept_are_not_paced_again(
    mock_s3: Any, tmp_path: Path, multipart_threshold: int
) -> None:
    from s32s.sync.bwlimit import BandwidthLimiter, PacedProgress

    size = multipart_threshold + MiB
    mock_s3.create_bucket(Bucket=BUCKET)
    mock_s3.put_object(Bucket=BUCKET, Key="p/big.bin", Body=b"d" * size)
    etag = mock_s3.head_object(Bucket=BUCKET, Key="p/big.bin")["ETag"].strip('"')
    entry = Entry("big.bin", size=size, etag=etag)
    destination = LocalStore(tmp_path)
    with StoreFactory(ClientFactory(AwsOptions(region="us-east-1")), 4) as stores:
        store = stores.s3(S3Url(BUCKET, "p"))
        first = destination.partial_download("big.bin")
        store.download_in_parts(entry, first)  # whole, but not committed: as if interrupted
        counted: list[int] = []
        limiter = RecordingLimiter()
        progress = PacedProgress(counted.append, cast(BandwidthLimiter, limiter))
        again = destination.partial_download("big.bin")
        store.download_in_parts(entry, again, progress)
    assert sum(counted) == size  # the progress counts the kept parts ...
    assert limiter.total() == 0  # ... which do not wait for the limiter
