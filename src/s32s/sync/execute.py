"""Run a plan: copies on a bounded thread pool, then deletions, then folder removals.

Each copy streams (memory does not grow with file size), is retried on
transient errors with backoff, and fails alone: its error is recorded in the
Report and the others go on. Deletions run only when every copy succeeded.
"""

from __future__ import annotations

import contextlib
import queue
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from s32s.sync.entries import Entry
from s32s.sync.events import Report, Reporter
from s32s.sync.local import FileChangedError, LocalStore, UnsafeKeyError
from s32s.sync.plan import Action, Plan
from s32s.sync.s3 import S3Store

Store = LocalStore | S3Store
CHUNK = 1024 * 1024
TRANSIENT_CODES = {
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "Throttling",
    "ThrottlingException",
    "500",
    "502",
    "503",
    "504",
}


class Interrupted(Exception):
    """The run was asked to stop."""


MAX_KEY_BYTES = 1024


def check_s3_key(key: str) -> None:
    """Refuse local names S3 cannot take: over 1,024 bytes, or not valid Unicode."""
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError:
        raise OSError(
            "the file name is not valid Unicode, so S3 cannot store it; rename the file"
        ) from None
    if len(encoded) > MAX_KEY_BYTES:
        raise OSError(
            f"the S3 key would be {len(encoded)} bytes, over S3's limit of {MAX_KEY_BYTES}"
        )


@dataclass(frozen=True)
class ExecuteOptions:
    workers: int = 16
    attempts: int = 4
    server_side_copy: bool = False  # S3 → S3 on one endpoint with the same credentials
    sleep_after_rmdir: float = 0.0
    backoff_base: float = 0.2


def is_transient(exc: BaseException) -> bool:
    """Errors worth another try: throttling, 5xx, timeouts, dropped connections."""
    from s32s.aws.clients import error_code

    code = error_code(exc)
    if code in TRANSIENT_CODES:
        return True
    name = type(exc).__name__
    transient_names = (
        "ConnectionError",
        "ConnectionClosedError",
        "EndpointConnectionError",
        "ReadTimeoutError",
        "ConnectTimeoutError",
        "IncompleteReadError",
        "ResponseStreamingError",
        "ProtocolError",
        "IncompleteRead",
        "ChunkedEncodingError",
        "ConnectionResetError",
        "BrokenPipeError",
        "TimeoutError",
    )
    return name in transient_names or isinstance(
        exc, ConnectionError | TimeoutError | FileChangedError
    )


def describe_failure(exc: BaseException) -> str:
    from s32s.aws.clients import describe_client_error

    if isinstance(exc, UnsafeKeyError):
        return str(exc)
    if getattr(exc, "response", None):
        code = str(exc.response.get("Error", {}).get("Code", ""))  # type: ignore[attr-defined]
        if code in ("PreconditionFailed", "412"):
            return "the object was replaced during the run; it will be copied on the next run"
        return describe_client_error(exc)  # type: ignore[arg-type]
    if isinstance(exc, OSError):
        if getattr(exc, "errno", None) == 28:
            return "no space left on the destination disk"
        detail = exc.strerror or str(exc)
        return f"{detail}: {exc.filename}" if getattr(exc, "filename", None) else detail
    return str(exc) or type(exc).__name__


class Executor:
    """Carries out one plan between two stores."""

    def __init__(
        self,
        source: Store,
        dest: Store,
        options: ExecuteOptions,
        reporter: Reporter,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.dest = dest
        self.options = options
        self.reporter = reporter
        self.stop = stop or threading.Event()
        self._copy = self._pick_copier()

    # the copy operation for this pair of stores -----------------------------------
    def _pick_copier(self) -> Callable[[Entry], None]:
        source, dest = self.source, self.dest
        if isinstance(source, LocalStore) and isinstance(dest, S3Store):
            return self._upload
        if isinstance(source, S3Store) and isinstance(dest, LocalStore):
            return self._download
        if isinstance(source, S3Store) and isinstance(dest, S3Store):
            return self._server_copy if self.options.server_side_copy else self._stream_copy
        return self._local_copy

    def _upload(self, entry: Entry) -> None:
        assert isinstance(self.source, LocalStore) and isinstance(self.dest, S3Store)
        check_s3_key(self.dest.object_key(entry.key))
        path = str(self.source.path_of(entry.key))
        current = self.source.stat(entry.key)
        if current is None:
            raise FileNotFoundError(2, "the file vanished before it could be copied", path)
        self.dest.upload_file(
            path, entry.key, current.size, current.mtime_ns, self.reporter.advanced
        )
        after = self.source.stat(entry.key)
        if after is None or (after.size, after.mtime_ns) != (current.size, current.mtime_ns):
            raise FileChangedError(
                "the file kept changing while it was uploaded; it will be copied on the next run"
            )

    def _download(self, entry: Entry) -> None:
        assert isinstance(self.source, S3Store) and isinstance(self.dest, LocalStore)
        body, mtime_ns, etag = self.source.open_read(entry)
        received = 0
        try:
            with self.dest.atomic_writer(entry.key, mtime_ns) as handle:
                for chunk in body.iter_chunks(CHUNK):
                    if self.stop.is_set():
                        raise Interrupted()
                    handle.write(chunk)
                    received += len(chunk)
                    self.reporter.advanced(len(chunk))
                if received != entry.size:
                    raise OSError(f"received {received} of {entry.size} bytes")
        except BaseException:
            self.reporter.advanced(-received)
            raise
        finally:
            body.close()
        self.source.cache.record(entry.key, etag, entry.size, mtime_ns)

    def _server_copy(self, entry: Entry) -> None:
        assert isinstance(self.source, S3Store) and isinstance(self.dest, S3Store)
        self.dest.copy_from(self.source, entry, self.reporter.advanced)

    def _stream_copy(self, entry: Entry) -> None:
        assert isinstance(self.source, S3Store) and isinstance(self.dest, S3Store)
        body, mtime_ns, _ = self.source.open_read(entry)
        try:
            self.dest.upload_stream(body, entry.key, entry.size, mtime_ns, self.reporter.advanced)
        finally:
            body.close()

    def _local_copy(self, entry: Entry) -> None:
        assert isinstance(self.source, LocalStore) and isinstance(self.dest, LocalStore)
        with (
            self.source.open_read(entry.key) as reader,
            self.dest.atomic_writer(entry.key, entry.mtime_ns) as out,
        ):
            while chunk := reader.read(CHUNK):
                out.write(chunk)
                self.reporter.advanced(len(chunk))

    # running ---------------------------------------------------------------
    def _with_retries(self, action: Action) -> None:
        assert action.source is not None
        for attempt in range(1, self.options.attempts + 1):
            try:
                self._copy(action.source)
                return
            except Exception as exc:
                if attempt == self.options.attempts or not is_transient(exc) or self.stop.is_set():
                    raise
                delay = self.options.backoff_base * (2 ** (attempt - 1))
                time.sleep(delay * (0.5 + random.random()))

    def _run_one(self, action: Action) -> str | None:
        if self.stop.is_set():
            return "not started: the run was interrupted"
        self.reporter.started(action)
        try:
            self._with_retries(action)
        except Interrupted:
            error: str | None = "interrupted"
        except Exception as exc:
            error = describe_failure(exc)
        else:
            error = None
        self.reporter.finished(action, error)
        return error

    def run(self, plan: Plan, report: Report) -> Report:
        started = time.monotonic()
        self._make_dirs(plan, report)
        self._copy_all(plan, report)
        if self.stop.is_set():
            report.deletes_skipped = "the run was interrupted"
        elif report.failed and (plan.deletes or plan.rmdirs):
            report.deletes_skipped = f"{len(report.failed)} file(s) failed, so nothing was deleted"
        else:
            self._delete_all(plan, report)
            self._remove_dirs(plan, report)
        if isinstance(self.source, S3Store):
            self.source.cache.save()
        if isinstance(self.dest, S3Store):
            self.dest.cache.save()
        report.seconds = time.monotonic() - started
        return report

    def _copy_all(self, plan: Plan, report: Report) -> None:
        """Copy with a bounded window of submitted files, tallying each as it finishes.

        Finished futures arrive on a queue: waiting on the whole window for
        every completion would cost a lock per pending future each time.
        """
        if not plan.copies:
            return
        finished: queue.SimpleQueue[Future[str | None]] = queue.SimpleQueue()
        with ThreadPoolExecutor(
            max_workers=self.options.workers, thread_name_prefix="s32s-copy"
        ) as pool:
            pending: dict[Future[str | None], Action] = {}
            actions = iter(plan.copies)
            window = self.options.workers * 4
            try:
                while True:
                    while len(pending) < window and not self.stop.is_set():
                        action = next(actions, None)
                        if action is None:
                            break
                        future = pool.submit(self._run_one, action)
                        pending[future] = action
                        future.add_done_callback(finished.put)
                    if not pending:
                        break
                    with contextlib.suppress(queue.Empty):
                        future = finished.get(timeout=0.5)
                        self._tally(pending.pop(future), future.result(), report)
            except BaseException:
                self.stop.set()
                for future in pending:
                    future.cancel()
                for future, action in pending.items():
                    if not future.cancelled():
                        self._tally(action, future.result(), report)
                raise

    @staticmethod
    def _tally(action: Action, error: str | None, report: Report) -> None:
        if error:
            report.failed[action.key] = error
        else:
            report.copied += 1
            report.bytes_copied += action.size

    def _make_dirs(self, plan: Plan, report: Report) -> None:
        for action in plan.mkdirs:
            try:
                if isinstance(self.dest, S3Store):
                    self.dest.put_folder_marker(action.key)
                else:
                    self.dest.make_dir(action.key)
                report.folders_created += 1
            except Exception as exc:
                report.failed[f"{action.key}/"] = describe_failure(exc)

    def _delete_all(self, plan: Plan, report: Report) -> None:
        if not plan.deletes:
            return
        if isinstance(self.dest, S3Store):
            try:
                failures = self.dest.delete_many([action.key for action in plan.deletes])
            except Exception as exc:
                failures = {action.key: describe_failure(exc) for action in plan.deletes}
            for action in plan.deletes:
                self._count_delete(action, failures.get(action.key), report)
            return
        for action in plan.deletes:
            try:
                self.dest.delete(action.key)
                error = None
            except Exception as exc:
                error = describe_failure(exc)
            self._count_delete(action, error, report)

    def _count_delete(self, action: Action, error: str | None, report: Report) -> None:
        self.reporter.finished(action, error)
        if error:
            report.failed[action.key] = f"not deleted: {error}"
        else:
            report.deleted += 1
            report.bytes_deleted += action.size

    def _remove_dirs(self, plan: Plan, report: Report) -> None:
        removed = 0
        for action in plan.rmdirs:
            if isinstance(self.dest, S3Store):
                failures = self.dest.delete_many([f"{action.key}/"])
                removed += 0 if failures else 1
            elif self.dest.remove_dir(action.key):
                removed += 1
        report.folders_removed = removed
        if removed and isinstance(self.dest, LocalStore) and self.options.sleep_after_rmdir > 0:
            time.sleep(self.options.sleep_after_rmdir)


def run_plan(
    source: Store,
    dest: Store,
    plan: Plan,
    report: Report,
    options: ExecuteOptions,
    reporter: Reporter,
    stop: threading.Event | None = None,
) -> Report:
    return Executor(source, dest, options, reporter, stop).run(plan, report)


def describe_store(store: Any) -> str:
    return str(store)
