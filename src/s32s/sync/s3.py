"""A bucket and prefix as one side of a sync."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

from s32s.aws.clients import error_code
from s32s.errors import ConfigError
from s32s.paths import S3Url
from s32s.sync.archived import ARCHIVED_ERROR_CODES
from s32s.sync.bwlimit import count_unmoved
from s32s.sync.entries import (
    MTIME_METADATA_KEY,
    Entry,
    datetime_ns,
    format_mtime,
    parent_dirs,
    recorded_mtime,
)
from s32s.sync.local import FileChangedError
from s32s.sync.objectsettings import DEFAULT_SETTINGS, STORAGE_CLASSES, ObjectSettings
from s32s.sync.parts import (
    PARTS_IN_FLIGHT,
    FileSlice,
    Interrupted,
    PartialDownload,
    UploadJournal,
    UploadRecord,
    check_stop,
    part_count,
    part_size_for,
    part_span,
    pool_width,
    run_parts,
    slice_md5,
)
from s32s.sync.retry import GuardedBody
from s32s.sync.state import MetadataCache
from s32s.sync.store import Opened, ProgressCallback

__all__ = ["FileSlice", "Interrupted", "S3Store", "part_size_for"]

log = logging.getLogger(__name__)

MiB = 1024 * 1024
# Above this a file goes in parts sent in parallel, and comes back as parallel
# ranged GETs. A long link caps each TCP connection (its window over its round
# trip), so one stream per file leaves most of the link idle: aws s3's 8 MiB
# threshold and part size keep every file over two parts on several
# connections, while parts stay large enough that a request's round trip is
# small beside its transfer time. Env S32S_MULTIPART_THRESHOLD overrides it.
MULTIPART_THRESHOLD = 8 * MiB
PART_SIZE = 8 * MiB  # env S32S_MULTIPART_CHUNKSIZE overrides it
MIN_PART_SIZE = 5 * MiB  # S3 refuses smaller parts (except the last)
THRESHOLD_VARIABLE = "S32S_MULTIPART_THRESHOLD"
PART_SIZE_VARIABLE = "S32S_MULTIPART_CHUNKSIZE"
SMALL_BODY = 1 * MiB  # files up to this size are read whole, checked, and sent in one go
MAX_SINGLE_COPY = 5 * 1024 * MiB
DELETE_BATCH = 1000
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "KIB": 1024, "M": MiB, "MB": MiB, "MIB": MiB}
_UNITS |= {"G": 1024 * MiB, "GB": 1024 * MiB, "GIB": 1024 * MiB}
# One string per storage class for millions of listed entries, not one each.
_SHARED_CLASS_NAMES = {name: name for name in STORAGE_CLASSES}

# Parts read from a stream (S3 → S3 across endpoints) are held in memory until
# sent; at most this many exist at once in the whole process.
STREAM_BUDGET = threading.BoundedSemaphore(8)


def _size_setting(variable: str, default: int, minimum: int) -> int:
    """A size from the environment (`8MB`, `16MiB`, `5242880`; MB means MiB, as in aws s3)."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return default
    number = text.rstrip("bBkKmMgGiI ")
    unit = text[len(number) :].strip().upper()
    if not number.isdigit() or unit not in _UNITS or int(number) * _UNITS[unit] < minimum:
        raise ConfigError(
            f"{variable}={text!r} is not a size of at least {minimum // MiB} MiB.",
            f"Use a number of bytes or a size such as 16MB, or unset {variable}.",
        )
    return int(number) * _UNITS[unit]


def multipart_threshold() -> int:
    """Files of at least this many bytes move in parts (default MULTIPART_THRESHOLD)."""
    return _size_setting(THRESHOLD_VARIABLE, MULTIPART_THRESHOLD, 1)


def preferred_part_size() -> int:
    """The part size of uploads and ranged downloads (default PART_SIZE, grown for huge files)."""
    return _size_setting(PART_SIZE_VARIABLE, PART_SIZE, MIN_PART_SIZE)


def range_size_for(size: int) -> int:
    """The size of each ranged GET of an object of `size` bytes: the part size,
    grown (in whole MiB) so the object takes no more ranges than the part pool
    fetches at once. Each range is a request, and servers that keep objects as
    files (moto's, rclone's) read the whole object for every range."""
    fewest = -(-size // (PARTS_IN_FLIGHT * MiB)) * MiB
    return max(part_size_for(size, preferred_part_size()), fewest)


def check_part_settings() -> None:
    """Raise ConfigError now, before any transfer, when the size variables are malformed."""
    multipart_threshold()
    preferred_part_size()


def _keeps_upload(exc: BaseException) -> bool:
    """Whether an upload that failed with `exc` is worth keeping for the next run to continue.

    Interruptions, lost connections, throttling and server errors are; a file
    that changed, or a request the server refused for good, is not.
    """
    if isinstance(exc, FileChangedError):
        return False
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return True
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return (
        status >= 500 or status in (408, 429) or error_code(exc) in ("SlowDown", "RequestTimeout")
    )


class _BufferedPart(io.BytesIO):
    """One part's bytes; closing it returns its place in STREAM_BUDGET."""

    def close(self) -> None:
        if not self.closed:
            STREAM_BUDGET.release()
        super().close()


class FolderMarkersUnsupported(Exception):
    """The S3 server cannot keep a folder marker (`key/`) as such."""

    def __init__(self, url: S3Url) -> None:
        super().__init__(
            f"The S3 server behind {url} cannot keep empty folders (folder markers): "
            "empty folders were not copied there; folders with files are not affected."
        )


class S3Store:
    """Lists, reads, writes and deletes objects below `s3://bucket/prefix`.

    Keys ending in `/` are folder markers: listed as folders, never as files.
    Writes are atomic on S3's side: a single PUT, or a multipart upload that is
    completed only when every part arrived. With an `UploadJournal`, an
    interrupted multipart upload of a local file is kept for the next run to
    continue; otherwise (and always for a file that changed) it is aborted.
    """

    lists_mtimes = False
    implicit_folders = True

    def __init__(
        self,
        url: S3Url,
        client: Any,
        *,
        cache: MetadataCache | None = None,
        part_pool: ThreadPoolExecutor | None = None,
        endpoint: str | None = None,
        uploads: UploadJournal | None = None,
        settings: ObjectSettings = DEFAULT_SETTINGS,
    ) -> None:
        self.url = url
        self.client = client
        self.settings = settings
        self.endpoint = endpoint or getattr(getattr(client, "meta", None), "endpoint_url", None)
        self.cache = cache if cache is not None else MetadataCache(None)
        self.part_pool = part_pool
        self.uploads = uploads  # None: interrupted multipart uploads are aborted, not resumed
        self.skipped: list[tuple[str, str]] = []
        self._prefix = url.key_prefix()

    def __str__(self) -> str:
        return str(self.url)

    @property
    def etags_are_content_md5(self) -> bool:
        return self.settings.etags_are_content_md5

    @property
    def identity(self) -> str:
        return f"s3:{self.endpoint or ''}|{self.url.bucket}|{self.url.prefix}"

    def object_key(self, key: str) -> str:
        return f"{self._prefix}{key}"

    # listing ---------------------------------------------------------------
    def exists(self) -> bool:
        """Always True: a prefix with nothing below it is an empty folder, not a missing one.

        (A missing bucket fails the listing with a clear error.)
        """
        return True

    def list(self) -> Iterator[Entry]:
        """Every file and folder below the prefix, in key order; large prefixes are listed in parallel.

        A key ending in `/` is a folder marker. A 0-byte object without the
        slash is a folder when other keys lie below it (servers that keep
        objects as files list an empty folder that way), else an empty file;
        such objects are held back until the listing shows which.
        """
        from s32s.aws.listing import list_objects

        empty: dict[str, dict[str, Any]] = {}
        folders: set[str] = set()
        for item in list_objects(self.client, self.url.bucket, self._prefix):
            key = item["Key"]
            if empty:
                folders.update(p for p in parent_dirs(key) if p in empty)
            if item.get("Size") == 0 and not key.endswith("/"):
                empty[key] = item
                continue
            entry = self._entry(item)
            if entry is not None:
                yield entry
        for key, item in empty.items():
            entry = self._entry({**item, "Key": f"{key}/"} if key in folders else item)
            if entry is not None:
                yield entry

    def _entry(self, item: dict[str, Any]) -> Entry | None:
        relative = item["Key"][len(self._prefix) :]
        if not relative:
            return None  # the prefix's own folder marker
        etag = item.get("ETag", "").strip('"') or None
        modified = item.get("LastModified")
        modified_ns = datetime_ns(modified) if modified is not None else None
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
            storage_class=_SHARED_CLASS_NAMES.get(
                item.get("StorageClass", ""), item.get("StorageClass")
            ),
        )

    def head(self, entry: Entry) -> Entry:
        """The entry with its recorded mtime read from the object's metadata (one HEAD)."""
        return self.head_with_type(entry)[0]

    def head_with_type(self, entry: Entry) -> tuple[Entry, str | None]:
        """`head`, and the object's Content-Type."""
        response = self.client.head_object(
            Bucket=self.url.bucket, Key=self.object_key(entry.key), **self.settings.sse_c_args()
        )
        mtime_ns = recorded_mtime(response)
        etag = response.get("ETag", "").strip('"') or entry.etag
        size = int(response.get("ContentLength", entry.size))
        self.cache.record(entry.key, etag, size, mtime_ns)
        headed = Entry(
            entry.key,
            size=size,
            mtime_ns=mtime_ns,
            etag=etag,
            modified_ns=entry.modified_ns,
            storage_class=response.get("StorageClass", entry.storage_class),
        )
        return headed, response.get("ContentType")

    # writing ---------------------------------------------------------------
    def _metadata(self, mtime_ns: int | None) -> dict[str, str]:
        return {MTIME_METADATA_KEY: format_mtime(mtime_ns)} if mtime_ns is not None else {}

    def _put(
        self, key: str, body: Any, size: int, mtime_ns: int | None, content_type: str | None = None
    ) -> dict[str, Any]:
        return dict(
            self.client.put_object(
                Bucket=self.url.bucket,
                Key=self.object_key(key),
                Body=body,
                ContentLength=size,
                Metadata=self._metadata(mtime_ns),
                **self.settings.write_args(key, content_type),
            )
        )

    def upload_file(
        self,
        path: str,
        key: str,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        part_size: int | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        """Upload a local file: one PUT when small, parallel (resumable) parts when large."""
        if size <= SMALL_BODY:
            response = self._put_whole(key, _read_file(path, size), mtime_ns, on_bytes)
        elif size < multipart_threshold() or self.part_pool is None:
            with FileSlice(path, 0, size, on_bytes, stop) as body:
                response = self._put(key, body, size, mtime_ns)
        else:
            chunk = part_size_for(size, part_size or preferred_part_size())
            response = self._upload_in_parts(path, key, size, mtime_ns, chunk, on_bytes, stop)
        self._remember(key, response, size, mtime_ns)

    def _upload_in_parts(
        self,
        path: str,
        key: str,
        size: int,
        mtime_ns: int | None,
        chunk: int,
        on_bytes: ProgressCallback | None,
        stop: threading.Event | None,
    ) -> dict[str, Any]:
        """Continue this file's unfinished upload when one is recorded and still valid, else start one."""
        object_key = self.object_key(key)
        upload_id, done = self._reusable_parts(path, object_key, size, mtime_ns, chunk)
        if upload_id is None:
            upload_id = self._create_upload(key, mtime_ns)
            if self.uploads is not None:
                self.uploads.save(
                    UploadRecord(
                        self.uploads.endpoint,
                        self.url.bucket,
                        object_key,
                        upload_id,
                        chunk,
                        size,
                        mtime_ns,
                        socket.gethostname(),
                        os.getpid(),
                    )
                )
        reused = sum(part_span(number, chunk, size)[1] for number in done)
        if on_bytes and reused:
            count_unmoved(on_bytes, reused)

        def open_part(number: int) -> FileSlice:
            return FileSlice(path, *part_span(number, chunk, size), on_bytes, stop)

        missing = [n for n in range(1, part_count(size, chunk) + 1) if n not in done]
        try:
            return self._send_parts(object_key, upload_id, missing, open_part, done, stop=stop)
        except BaseException as exc:
            if on_bytes and reused:
                on_bytes(-reused)
            if self.uploads is None or not _keeps_upload(exc):
                self._abort(object_key, upload_id)
            raise

    def _reusable_parts(
        self, path: str, object_key: str, size: int, mtime_ns: int | None, chunk: int
    ) -> tuple[str | None, dict[int, CompletedPart]]:
        """(upload id, {part number: its ETag and checksum}) of a recorded upload to continue.

        The record must match the file's size and mtime and the part size, the
        upload must still exist, and every part already uploaded must hold the
        bytes of that part of the file (MD5). Anything else aborts the old
        upload: the caller starts a clean one.
        """
        if self.uploads is None:
            return None, {}
        record = self.uploads.load(self.url.bucket, object_key)
        if record is None:
            return None, {}
        if not record.matches(size, mtime_ns, chunk):
            log.debug("%s changed since its upload was interrupted: starting over", path)
            self._abort(object_key, record.upload_id)
            return None, {}
        try:
            listed = self._list_parts(object_key, record.upload_id)
        except Exception as exc:
            if error_code(exc) not in ("NoSuchUpload", "404", "NoSuchKey"):
                raise
            log.debug("the unfinished upload of %s is gone: starting over", path)
            self.uploads.forget(self.url.bucket, object_key)
            return None, {}
        if self._parts_match(path, size, chunk, listed):
            return record.upload_id, {int(p["PartNumber"]): completed_part(p) for p in listed}
        log.debug("an uploaded part of %s does not match the file: starting over", path)
        self._abort(object_key, record.upload_id)
        return None, {}

    def _list_parts(self, object_key: str, upload_id: str) -> list[dict[str, Any]]:
        paginator = self.client.get_paginator("list_parts")
        parts: list[dict[str, Any]] = []
        for page in paginator.paginate(Bucket=self.url.bucket, Key=object_key, UploadId=upload_id):
            parts += page.get("Parts", ())
        return parts

    def _parts_match(self, path: str, size: int, chunk: int, listed: list[dict[str, Any]]) -> bool:
        """True when each listed part has the size and the MD5 of the same bytes of the file.

        With SSE-KMS or SSE-C a part's ETag is not its MD5: the sizes are
        checked alone (the record already pinned the file's size and mtime).
        """
        count = part_count(size, chunk)
        md5_etags = self.settings.etags_are_content_md5

        def matches(part: dict[str, Any]) -> bool:
            number = int(part.get("PartNumber", 0))
            if not 1 <= number <= count:
                return False
            start, length = part_span(number, chunk, size)
            if int(part.get("Size", -1)) != length:
                return False
            if not md5_etags:
                return True
            return slice_md5(path, start, length) == str(part.get("ETag", "")).strip('"')

        if self.part_pool is None:
            return all(map(matches, listed))
        return all(self.part_pool.map(matches, listed))

    def _create_upload(
        self, key: str, mtime_ns: int | None, content_type: str | None = None
    ) -> str:
        """Start a multipart upload of `key`; the settings go here (parts carry only SSE-C)."""
        return str(
            self.client.create_multipart_upload(
                Bucket=self.url.bucket,
                Key=self.object_key(key),
                Metadata=self._metadata(mtime_ns),
                **self.settings.write_args(key, content_type),
                **part_checksum_arguments(self.client),
            )["UploadId"]
        )

    def _send_parts(
        self,
        object_key: str,
        upload_id: str,
        numbers: list[int],
        open_part: Callable[[int], Any],
        done: dict[int, CompletedPart],
        *,
        send_part: Callable[[str, str, int, Any], CompletedPart] | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, Any]:
        """Send the parts `numbers` on the part pool, then complete the upload with `done` + them.

        `send_part(object_key, upload_id, number, body)` returns the part's
        ETag (and checksum); by default it uploads `body`, the value `open_part(number)` made.
        """
        assert self.part_pool is not None
        sender = send_part or self._upload_part

        def send(number: int, body: Any) -> tuple[int, CompletedPart]:
            return number, sender(object_key, upload_id, number, body)

        sent = run_parts(
            self.part_pool, numbers, open_part, send, window=pool_width(self.part_pool), stop=stop
        )
        parts = {**done, **dict(sent)}
        check_stop(stop)
        response = dict(
            self.client.complete_multipart_upload(
                Bucket=self.url.bucket,
                Key=object_key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, **parts[n]} for n in sorted(parts)]},
                **self.settings.sse_c_args(),
            )
        )
        if self.uploads is not None:
            self.uploads.forget(self.url.bucket, object_key)
        return response

    def upload_stream(
        self,
        reader: BinaryIO,
        key: str,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        part_size: int | None = None,
        content_type: str | None = None,
    ) -> None:
        """Upload from a non-seekable stream (another endpoint's GET) with bounded memory.

        Objects up to one part are buffered and sent in one PUT; larger ones go
        multipart, so no more than one part per worker plus STREAM_BUDGET parts
        are ever held in memory. `content_type` is the source object's (None:
        guessed from the key, unless the settings say not to).
        """
        part_size = part_size or preferred_part_size()
        if size <= part_size or self.part_pool is None:
            response = self._put_whole(
                key, _read_exactly(reader, size), mtime_ns, on_bytes, content_type
            )
        else:
            chunk = part_size_for(size, part_size)

            def open_part(number: int) -> _BufferedPart:
                # Called in order by run_parts; the shared budget bounds memory across files.
                STREAM_BUDGET.acquire()
                try:
                    data = _read_exactly(reader, min(chunk, size - (number - 1) * chunk))
                except BaseException:
                    STREAM_BUDGET.release()
                    raise
                if on_bytes:
                    on_bytes(len(data))
                return _BufferedPart(data)

            response = self._multipart(
                key, size, chunk, mtime_ns, open_part, content_type=content_type
            )
        self._remember(key, response, size, mtime_ns)

    def _put_whole(
        self,
        key: str,
        data: bytes,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """One PUT of bytes already in memory, counted as sent once it succeeded."""
        response = self._put(key, data, len(data), mtime_ns, content_type)
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
        send_part: Callable[[str, str, int, Any], CompletedPart] | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """One multipart upload (from a stream or a server-side copy), aborted if anything fails."""
        object_key = self.object_key(key)
        upload_id = self._create_upload(key, mtime_ns, content_type)
        numbers = list(range(1, part_count(size, chunk) + 1))
        try:
            return self._send_parts(
                object_key, upload_id, numbers, open_part, {}, send_part=send_part
            )
        except BaseException:
            self._abort(object_key, upload_id)
            raise

    def _upload_part(
        self, object_key: str, upload_id: str, number: int, body: Any
    ) -> CompletedPart:
        try:
            result = self.client.upload_part(
                Bucket=self.url.bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                Body=body,
                **self.settings.sse_c_args(),
            )
        finally:
            if hasattr(body, "close"):
                body.close()
        return completed_part(result)

    def _abort(self, object_key: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(
                Bucket=self.url.bucket, Key=object_key, UploadId=upload_id
            )
        if self.uploads is not None:
            record = self.uploads.load(self.url.bucket, object_key)
            if record is not None and record.upload_id == upload_id:
                self.uploads.forget(self.url.bucket, object_key)

    def clean_leftovers(self) -> int:
        return self.abort_abandoned_uploads()

    def abort_abandoned_uploads(self) -> int:
        """Abort the unfinished uploads s32s recorded below this prefix; returns how many.

        Only s32s's own records are considered (never an upload another
        program started), and not those of another s32s process still running
        on this machine.
        """
        if self.uploads is None:
            return 0
        aborted = 0
        for record in self.uploads.under(self.url.bucket, self._prefix):
            if record.is_running_elsewhere():
                continue
            self._abort(record.key, record.upload_id)
            log.debug("aborted the unfinished upload of s3://%s/%s", record.bucket, record.key)
            aborted += 1
        return aborted

    def make_folder(self, key: str) -> None:
        """Keep an empty folder as the marker object `key/` (S3 has no folders).

        Servers that keep objects as files (rclone's `serve s3`, gateways over
        a file system) turn `key/` into an empty *file*, which a pull would
        write where the folder was. So the first marker a store writes is read
        back; where it did not stay a marker, the stray object is deleted, the
        location is remembered as one without folders, and
        `FolderMarkersUnsupported` is raised (then and on every later try).
        """
        if self.cache.folder_markers is False:
            raise FolderMarkersUnsupported(self.url)
        marker = f"{self.object_key(key)}/"
        self.client.put_object(
            Bucket=self.url.bucket, Key=marker, Body=b"", **self.settings.marker_args()
        )
        if self.cache.folder_markers:
            return
        listed = self.client.list_objects_v2(Bucket=self.url.bucket, Prefix=marker, MaxKeys=1)
        kept = [item["Key"] for item in listed.get("Contents", ())] == [marker]
        if not kept:
            self.client.delete_object(Bucket=self.url.bucket, Key=marker[:-1])
        self.cache.folder_markers = kept
        if not kept:
            raise FolderMarkersUnsupported(self.url)

    def remove_folders(self, keys: list[str]) -> int:
        failures = self.delete_many([f"{key}/" for key in keys]) if keys else {}
        return len(keys) - len(failures)

    def write(
        self,
        key: str,
        body: BinaryIO,
        size: int,
        mtime_ns: int | None,
        on_bytes: ProgressCallback | None = None,
        content_type: str | None = None,
    ) -> None:
        self.upload_stream(body, key, size, mtime_ns, on_bytes, content_type=content_type)

    # comparing -------------------------------------------------------------
    def content_etag(self, entry: Entry, like: str) -> str | None:
        return None  # hashing an object would mean downloading it

    def read_metadata(self, entry: Entry) -> Entry:
        return self.head(entry)

    def record_seen(self, key: str, etag: str | None, size: int, mtime_ns: int | None) -> None:
        self.cache.record(key, etag, size, mtime_ns)

    def save_seen(self) -> None:
        self.cache.save()

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
                **self.settings.copy_args(source.settings),
            )
            etag = response.get("CopyObjectResult", {}).get("ETag", "").strip('"')
        else:
            # Parts copy no metadata: read the source's mtime and Content-Type to carry them over.
            headed, content_type = source.head_with_type(entry)
            entry = entry if entry.mtime_known else headed
            etag = self._multipart_copy(copy_source, entry, source.settings, content_type)
        if on_bytes:
            on_bytes(entry.size)
        self.cache.record(entry.key, etag, entry.size, entry.mtime_ns)

    def _multipart_copy(
        self,
        copy_source: dict[str, str],
        entry: Entry,
        source_settings: ObjectSettings,
        content_type: str | None,
    ) -> str:
        chunk = part_size_for(entry.size, 512 * MiB)

        def copy_part(object_key: str, upload_id: str, number: int, _: None) -> CompletedPart:
            start = (number - 1) * chunk
            end = min(start + chunk, entry.size) - 1
            result = self.client.upload_part_copy(
                Bucket=self.url.bucket,
                Key=object_key,
                UploadId=upload_id,
                PartNumber=number,
                CopySource=copy_source,
                CopySourceRange=f"bytes={start}-{end}",
                **self.settings.part_copy_args(source_settings),
            )
            return completed_part(result["CopyPartResult"])

        response = self._multipart(
            entry.key,
            entry.size,
            chunk,
            entry.mtime_ns,
            lambda number: None,
            copy_part,
            content_type=content_type or "",
        )
        return str(response.get("ETag", "")).strip('"')

    # reading ---------------------------------------------------------------
    def _get_arguments(self, key: str, etag: str | None) -> dict[str, Any]:
        """The arguments of every GET of `key`: `IfMatch` pins the version listed; SSE-C's key."""
        arguments: dict[str, Any] = {
            "Bucket": self.url.bucket,
            "Key": self.object_key(key),
            **self.settings.sse_c_args(),
        }
        if etag:
            arguments["IfMatch"] = f'"{etag}"'
        return arguments

    def open_read(self, entry: Entry) -> Opened:
        """A streaming body, the recorded mtime, the ETag and Content-Type of the object being read.

        `IfMatch` pins the version listed: an object replaced since the listing
        fails with PreconditionFailed instead of mixing two versions (the
        answer's ETag is checked too, for servers that ignore `IfMatch`). The
        metadata the GET returned is remembered, so the next run needs no HEAD.
        """
        response = self.client.get_object(**self._get_arguments(entry.key, entry.etag))
        body = GuardedBody(response["Body"])
        try:
            _check_same_version(response, entry.etag)
        except BaseException:
            body.close()
            raise
        mtime_ns = recorded_mtime(response)
        etag = response.get("ETag", "").strip('"') or entry.etag
        self.cache.record(entry.key, etag, entry.size, mtime_ns)
        return Opened(body, mtime_ns, etag, response.get("ContentType"))

    def reads_in_parts(self, entry: Entry) -> bool:
        """Whether `entry` is downloaded as parallel ranged GETs (large, with a listed ETag)."""
        return (
            self.part_pool is not None
            and entry.etag is not None
            and entry.size >= multipart_threshold()
        )

    def download_in_parts(
        self,
        entry: Entry,
        partial: PartialDownload,
        on_bytes: ProgressCallback | None = None,
        stop: threading.Event | None = None,
    ) -> int | None:
        """Fetch `entry` as parallel ranged GETs into `partial`; returns the recorded mtime.

        Every range is pinned to the listed ETag (`IfMatch`), so a replaced
        object is never spliced; parts a previous run wrote for the same ETag
        are kept. The partial file survives a failure or an interruption (the
        next run continues it) but not a replaced object.
        """
        assert self.part_pool is not None and entry.etag is not None
        chunk = range_size_for(entry.size)
        done = partial.resume(entry.etag, entry.size, chunk)
        counted = [sum(part_span(n, chunk, entry.size)[1] for n in done)]
        lock = threading.Lock()

        def advanced(byte_count: int) -> None:
            with lock:
                counted[0] += byte_count
            if on_bytes:
                on_bytes(byte_count)

        if on_bytes and counted[0]:
            count_unmoved(on_bytes, counted[0])

        def fetch(number: int, _: None) -> int:
            start, length = part_span(number, chunk, entry.size)
            response = self.client.get_object(
                **self._get_arguments(entry.key, entry.etag),
                Range=f"bytes={start}-{start + length - 1}",
            )
            body = GuardedBody(response["Body"])
            try:
                _check_same_version(response, entry.etag)
                partial.set_mtime(recorded_mtime(response))
                return partial.write_part(number, _chunks(body, stop), advanced)
            finally:
                body.close()

        missing = [n for n in range(1, part_count(entry.size, chunk) + 1) if n not in done]
        try:
            run_parts(
                self.part_pool,
                missing,
                lambda number: None,
                fetch,
                window=pool_width(self.part_pool),
                stop=stop,
            )
        except BaseException as exc:
            if on_bytes:
                on_bytes(-counted[0])
            if error_code(exc) in ("PreconditionFailed", "412"):
                partial.discard()  # another version now: nothing kept is of use
            elif error_code(exc) in ARCHIVED_ERROR_CODES:
                partial.discard()  # nothing came: the run reports it 'archived, restore first'
            raise
        assert partial.record is not None
        return partial.record.mtime_ns

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


CompletedPart = dict[str, str]  # ETag, and the part's checksum when the upload has one
PART_CHECKSUM = "CRC32"
PART_CHECKSUM_KEYS = (
    "ChecksumCRC32",
    "ChecksumCRC32C",
    "ChecksumCRC64NVME",
    "ChecksumSHA1",
    "ChecksumSHA256",
)


def part_checksum_arguments(client: Any) -> dict[str, str]:
    """CreateMultipartUpload's checksum for a client that sends checksums (`when_supported`).

    Such a client adds a CRC32 to every UploadPart; AWS refuses those parts
    unless the upload was created with that algorithm, and then wants each
    part's checksum again in CompleteMultipartUpload.
    """
    config = getattr(getattr(client, "meta", None), "config", None)
    if getattr(config, "request_checksum_calculation", None) == "when_supported":
        return {"ChecksumAlgorithm": PART_CHECKSUM}
    return {}


def completed_part(answer: dict[str, Any]) -> CompletedPart:
    """What CompleteMultipartUpload needs of a part, from UploadPart's or ListParts' answer."""
    if not answer.get("ETag"):
        raise OSError(
            "the S3 server answered without the part's ETag, so the multipart upload cannot be"
            " completed (some servers do not implement UploadPartCopy: objects over 5 GiB"
            " cannot be copied within such a server)"
        )
    part = {"ETag": str(answer["ETag"])}
    part.update({key: str(answer[key]) for key in PART_CHECKSUM_KEYS if answer.get(key)})
    return part


def _read_file(path: str, size: int) -> bytes:
    """The first `size` bytes of a small file; a file that shrank meanwhile is an error."""
    with open(path, "rb") as handle:
        data = handle.read(size)
    if len(data) != size:
        raise FileChangedError(
            f"{len(data)} bytes read where {size} were listed: the file changed while it was read"
        )
    return data


def _check_same_version(response: dict[str, Any], etag: str | None) -> None:
    """Refuse a range of another version, for servers that ignore `IfMatch`."""
    answered = str(response.get("ETag", "")).strip('"')
    if answered and etag and answered != etag:
        from botocore.exceptions import ClientError

        error = {"Code": "PreconditionFailed", "Message": f"ETag {answered} is not {etag}"}
        raise ClientError({"Error": error}, "GetObject")


def _chunks(body: Any, stop: threading.Event | None) -> Iterator[bytes]:
    """A response body in chunks of 1 MiB, stopping with `Interrupted` when asked to."""
    for chunk in body.iter_chunks(MiB):
        check_stop(stop)
        yield chunk


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
