"""A bucket and prefix as one side of a sync."""

from __future__ import annotations

import contextlib
import io
import math
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any, BinaryIO

from s32s.paths import S3Url
from s32s.sync.entries import MTIME_METADATA_KEY, Entry, format_mtime, metadata_mtime
from s32s.sync.local import FileChangedError
from s32s.sync.state import MetadataCache

MiB = 1024 * 1024
# Below this a file goes in one PUT (rclone's default cutoff): fewer requests,
# and a plain-MD5 ETag that any later run can compare with a local hash.
MULTIPART_THRESHOLD = 200 * MiB
PART_SIZE = 8 * MiB
SMALL_BODY = 1 * MiB  # files up to this size are read whole, checked, and sent in one go
MAX_PARTS = 10_000
MAX_SINGLE_COPY = 5 * 1024 * MiB
DELETE_BATCH = 1000

ProgressCallback = Callable[[int], None]

# Parts read from a stream (S3 → S3 across endpoints) are held in memory until
# sent; at most this many exist at once in the whole process.
STREAM_BUDGET = threading.BoundedSemaphore(8)


class _BufferedPart(io.BytesIO):
    """One part's bytes; closing it returns its place in STREAM_BUDGET."""

    def close(self) -> None:
        if not self.closed:
            STREAM_BUDGET.release()
        super().close()


def part_size_for(size: int, preferred: int = PART_SIZE) -> int:
    """The part size for an object of `size` bytes: `preferred`, grown to stay within 10,000 parts."""
    needed = math.ceil(size / MAX_PARTS)
    return max(preferred, math.ceil(needed / MiB) * MiB)


class FileSlice:
    """A seekable window on a file, so each part streams from disk instead of memory."""

    def __init__(
        self, path: str, start: int, length: int, on_read: ProgressCallback | None = None
    ) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed by close()
        self._start = start
        self._length = length
        self._position = 0
        self._on_read = on_read
        self._file.seek(start)

    def read(self, amount: int = -1) -> bytes:
        remaining = self._length - self._position
        if amount is None or amount < 0 or amount > remaining:
            amount = remaining
        data = self._file.read(amount)
        self._position += len(data)
        if self._on_read and data:
            self._on_read(len(data))
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            position = offset
        elif whence == os.SEEK_CUR:
            position = self._position + offset
        else:
            position = self._length + offset
        if self._on_read and position < self._position:
            self._on_read(position - self._position)  # a retry rewinds: take the bytes back
        self._position = max(0, min(position, self._length))
        self._file.seek(self._start + self._position)
        return self._position

    def tell(self) -> int:
        return self._position

    def __len__(self) -> int:
        return self._length

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> FileSlice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class S3Store:
    """Lists, reads, writes and deletes objects below `s3://bucket/prefix`.

    Keys ending in `/` are folder markers: listed as folders, never as files.
    Writes are atomic on S3's side: a single PUT, or a multipart upload that is
    completed only when every part arrived and aborted otherwise.
    """

    kind = "s3"

    def __init__(
        self,
        url: S3Url,
        client: Any,
        *,
        cache: MetadataCache | None = None,
        part_pool: ThreadPoolExecutor | None = None,
        endpoint: str | None = None,
    ) -> None:
        self.url = url
        self.client = client
        self.endpoint = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None)
        self.cache = cache if cache is not None else MetadataCache(None)
        self.part_pool = part_pool
        self.list_requests = 0
        self._prefix = url.key_prefix()

    def __str__(self) -> str:
        return str(self.url)

    @property
    def identity(self) -> str:
        return f"s3:{self.endpoint or ''}|{self.url.bucket}|{self.url.prefix}"

    def object_key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    # listing ---------------------------------------------------------------
    def exists(self) -> bool:
        """True when the bucket exists (raises for access problems)."""
        self.client.head_bucket(Bucket=self.url.bucket)
        return True

    def list(self) -> Iterator[Entry]:
        paginator = self.client.get_paginator("list_objects_v2")
        self.list_requests = 0
        for page in paginator.paginate(Bucket=self.url.bucket, Prefix=self._prefix):
            self.list_requests += 1
            for item in page.get("Contents", ()):
                entry = self._entry(item)
                if entry is not None:
                    yield entry

    def _entry(self, item: dict[str, Any]) -> Entry | None:
        relative = item["Key"][len(self._prefix) :]
        if not relative:
            return None  # the prefix's own folder marker
        etag = item.get("ETag", "").strip('"') or None
        modified = item.get("LastModified")
        modified_ns = int(modified.timestamp() * 1e9) if modified is not None else None
        if relative.endswith("/"):
            return Entry(relative.rstrip("/"), is_dir=True, modified_ns=modified_ns)
        size = int(item.get("Size", 0))
        known, mtime_ns = self.cache.lookup(relative, etag, size)
        return Entry(
            relative,
            size=size,
            mtime_ns=mtime_ns,
            etag=etag,
            modified_ns=modified_ns,
            mtime_known=known,
        )

    def head(self, entry: Entry) -> Entry:
        """The entry with its recorded mtime read from the object's metadata (one HEAD)."""
        response = self.client.head_object(Bucket=self.url.bucket, Key=self.object_key(entry.key))
        mtime_ns = metadata_mtime(response.get("Metadata"))
        etag = response.get("ETag", "").strip('"') or entry.etag
        size = int(response.get("ContentLength", entry.size))
        self.cache.record(entry.key, etag, size, mtime_ns)
        return Entry(
            entry.key, size=size, mtime_ns=mtime_ns, etag=etag, modified_ns=entry.modified_ns
        )

    # writing ---------------------------------------------------------------
    def _metadata(self, mtime_ns: int | None) -> dict[str, str]:
        return {MTIME_METADATA_KEY: format_mtime(mtime_ns)} if mtime_ns is not None else {}

    def _put(self, key: str, body: Any, size: int, mtime_ns: int | None) -> dict[str, Any]:
        return dict(
            self.client.put_object(
                Bucket=self.url.bucket,
                Key=self.object_key(key),
                Body=body,
                ContentLength=size,
                Metadata=self._metadata(mtime_ns),
            )
        )

    def upload_file(
        self,
        path: str,
        key: str,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        part_size: int = PART_SIZE,
    ) -> None:
        """Upload a local file: one PUT when small, a parallel multipart upload when large."""
        if size <= SMALL_BODY:
            response = self._put_whole(key, _read_file(path, size), mtime_ns, on_bytes)
        elif size < MULTIPART_THRESHOLD or self.part_pool is None:
            with FileSlice(path, 0, size, on_bytes) as body:
                response = self._put(key, body, size, mtime_ns)
        else:
            chunk = part_size_for(size, part_size)

            def open_part(number: int) -> FileSlice:
                start = (number - 1) * chunk
                return FileSlice(path, start, min(chunk, size - start), on_bytes)

            response = self._multipart(key, size, chunk, mtime_ns, open_part)
        self._remember(key, response, size, mtime_ns)

    def upload_stream(
        self,
        reader: BinaryIO,
        key: str,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        part_size: int = PART_SIZE,
    ) -> None:
        """Upload from a non-seekable stream (another endpoint's GET) with bounded memory.

        Objects up to one part are buffered and sent in one PUT; larger ones go
        multipart, so no more than one part per worker plus STREAM_BUDGET parts
        are ever held in memory.
        """
        if size <= part_size or self.part_pool is None:
            response = self._put_whole(key, _read_exactly(reader, size), mtime_ns, on_bytes)
        else:
            chunk = part_size_for(size, part_size)

            def open_part(number: int) -> _BufferedPart:
                # Called in order by _run_parts; the shared budget bounds memory across files.
                STREAM_BUDGET.acquire()
                try:
                    data = _read_exactly(reader, min(chunk, size - (number - 1) * chunk))
                except BaseException:
                    STREAM_BUDGET.release()
                    raise
                if on_bytes:
                    on_bytes(len(data))
                return _BufferedPart(data)

            response = self._multipart(key, size, chunk, mtime_ns, open_part)
        self._remember(key, response, size, mtime_ns)

    def _put_whole(
        self, key: str, data: bytes, mtime_ns: int | None, on_bytes: ProgressCallback | None
    ) -> dict[str, Any]:
        """One PUT of bytes already in memory, counted as sent once it succeeded."""
        response = self._put(key, data, len(data), mtime_ns)
        if on_bytes:
            on_bytes(len(data))
        return response

    def _remember(
        self, key: str, response: dict[str, Any], size: int, mtime_ns: int | None
    ) -> None:
        self.cache.record(key, response.get("ETag", "").strip('"'), size, mtime_ns)

    def _multipart(
        self,
        key: str,
        size: int,
        chunk: int,
        mtime_ns: int | None,
        open_part: Callable[[int], Any],
        send_part: Callable[..., str] | None = None,
    ) -> dict[str, Any]:
        """One multipart upload, completed only when every part arrived and aborted otherwise.

        `send_part(object_key, upload_id, number, body)` returns the part's
        ETag; by default it uploads `body`, the value `open_part(number)` made.
        """
        object_key = self.object_key(key)
        upload_id = self.client.create_multipart_upload(
            Bucket=self.url.bucket, Key=object_key, Metadata=self._metadata(mtime_ns)
        )["UploadId"]
        sender = send_part or self._upload_part

        def send(number: int, body: Any) -> dict[str, Any]:
            return {"PartNumber": number, "ETag": sender(object_key, upload_id, number, body)}

        try:
            parts = self._run_parts(send, math.ceil(size / chunk) or 1, open_part)
            return dict(
                self.client.complete_multipart_upload(
                    Bucket=self.url.bucket,
                    Key=object_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": parts},
                )
            )
        except BaseException:
            self._abort(object_key, upload_id)
            raise

    def _upload_part(self, object_key: str, upload_id: str, number: int, body: Any) -> str:
        try:
            result = self.client.upload_part(
                Bucket=self.url.bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
            )
        finally:
            if hasattr(body, "close"):
                body.close()
        return str(result["ETag"])

    def _run_parts(
        self,
        send: Callable[[int, Any], dict[str, Any]],
        count: int,
        open_part: Callable[[int], Any],
    ) -> list[dict[str, Any]]:
        """Send `count` parts on the part pool, at most one pool's width in flight.

        Parts are opened (or read from a stream) here, in order, so a streamed
        source is consumed sequentially and memory stays within the window.
        """
        assert self.part_pool is not None
        window = max(1, getattr(self.part_pool, "_max_workers", 4))
        results: list[dict[str, Any]] = []
        pending: set[Any] = set()
        number = 1
        try:
            while number <= count or pending:
                while number <= count and len(pending) < window:
                    pending.add(self.part_pool.submit(send, number, open_part(number)))
                    number += 1
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                results += [future.result() for future in done]
        except BaseException:
            for future in pending:
                future.cancel()
            wait(pending)
            raise
        return sorted(results, key=lambda part: part["PartNumber"])

    def _abort(self, object_key: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(
                Bucket=self.url.bucket, Key=object_key, UploadId=upload_id
            )

    def put_folder_marker(self, key: str) -> None:
        self.client.put_object(Bucket=self.url.bucket, Key=f"{self.object_key(key)}/", Body=b"")

    def copy_from(
        self, source: S3Store, entry: Entry, on_bytes: ProgressCallback | None = None
    ) -> None:
        """Server-side copy from another location on the same endpoint (multipart above 5 GiB)."""
        copy_source = {"Bucket": source.url.bucket, "Key": source.object_key(entry.key)}
        if entry.size <= MAX_SINGLE_COPY or self.part_pool is None:
            response = self.client.copy_object(
                Bucket=self.url.bucket,
                Key=self.object_key(entry.key),
                CopySource=copy_source,
                MetadataDirective="COPY",
            )
            etag = response.get("CopyObjectResult", {}).get("ETag", "").strip('"')
        else:
            # Parts copy no metadata: read the source's recorded mtime to carry it over.
            entry = entry if entry.mtime_known else source.head(entry)
            etag = self._multipart_copy(copy_source, entry)
        if on_bytes:
            on_bytes(entry.size)
        self.cache.record(entry.key, etag, entry.size, entry.mtime_ns)

    def _multipart_copy(self, copy_source: dict[str, str], entry: Entry) -> str:
        chunk = part_size_for(entry.size, 512 * MiB)

        def copy_part(object_key: str, upload_id: str, number: int, _: None) -> str:
            start = (number - 1) * chunk
            end = min(start + chunk, entry.size) - 1
            result = self.client.upload_part_copy(
                Bucket=self.url.bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=copy_source,
                CopySourceRange=f"bytes={start}-{end}",
            )
            return str(result["CopyPartResult"]["ETag"])

        response = self._multipart(
            entry.key, entry.size, chunk, entry.mtime_ns, lambda number: None, copy_part
        )
        return str(response.get("ETag", "")).strip('"')

    # reading ---------------------------------------------------------------
    def open_read(self, entry: Entry) -> tuple[BinaryIO, int | None, str | None]:
        """A streaming body, the recorded mtime, and the ETag of the object being read.

        `IfMatch` pins the version listed: an object replaced since the listing
        fails with PreconditionFailed instead of mixing two versions.
        """
        arguments: dict[str, Any] = {"Bucket": self.url.bucket, "Key": self.object_key(entry.key)}
        if entry.etag:
            arguments["IfMatch"] = f'"{entry.etag}"'
        response = self.client.get_object(**arguments)
        mtime_ns = metadata_mtime(response.get("Metadata"))
        etag = response.get("ETag", "").strip('"') or entry.etag
        return response["Body"], mtime_ns, etag

    # deleting --------------------------------------------------------------
    def delete_many(self, keys: list[str]) -> dict[str, str]:
        """Delete `keys` in batches of 1,000; returns {key: reason} for those that failed."""
        failures: dict[str, str] = {}
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            objects = [{"Key": self.object_key(key)} for key in batch]
            response = self.client.delete_objects(
                Bucket=self.url.bucket, Delete={"Objects": objects, "Quiet": True}
            )
            for error in response.get("Errors", ()):
                relative = error.get("Key", "")[len(self._prefix) :]
                failures[relative] = (
                    f"{error.get('Code', 'Error')}: {error.get('Message', '')}".strip()
                )
            for key in batch:
                if key not in failures:
                    self.cache.forget(key.rstrip("/"))
        return failures


def _read_file(path: str, size: int) -> bytes:
    """The first `size` bytes of a small file; a file that shrank meanwhile is an error."""
    with open(path, "rb") as handle:
        data = handle.read(size)
    if len(data) != size:
        raise FileChangedError(
            f"{len(data)} bytes read where {size} were listed: the file changed while it was read"
        )
    return data


def _read_exactly(reader: BinaryIO, size: int) -> bytes:
    chunks = []
    remaining = size
    while remaining > 0:
        data = reader.read(min(remaining, MiB))
        if not data:
            raise OSError(f"the source ended {remaining} bytes early")
        chunks.append(data)
        remaining -= len(data)
    return b"".join(chunks)
