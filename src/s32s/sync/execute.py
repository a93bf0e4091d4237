"""Run a plan: copies on a bounded thread pool, then deletions, then folder removals.

Each copy streams (memory does not grow with file size), is retried when
its body broke or its file changed (sync/retry.py; botocore retries the
requests themselves), and fails alone: its error is recorded in the
Report and the others go on. Deletions run only when every copy succeeded.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, cast

from s32s.sync.archived import ArchivedObject, archived_object, request_restore
from s32s.sync.bwlimit import BandwidthLimiter, paced
from s32s.sync.concurrency import ConcurrencyController, controller_for
from s32s.sync.entries import Entry
from s32s.sync.events import Report, Reporter
from s32s.sync.local import FileChangedError, LocalStore, UnsafeKeyError
from s32s.sync.parts import Interrupted
from s32s.sync.plan import Action, Plan
from s32s.sync.retry import ENGINE_ATTEMPTS, with_retries
from s32s.sync.s3 import FolderMarkersUnsupported, S3Store
from s32s.sync.store import Store

log = logging.getLogger(__name__)

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
    workers: int | None = None  # None: concurrency adapts to the link (sync/concurrency.py)
    attempts: int = ENGINE_ATTEMPTS  # tries of a file whose body broke or which changed
    server_side_copy: bool = False  # S3 → S3 on one endpoint with the same credentials
    backoff_base: float = 0.2
    cleanup_uploads: bool = False  # drop unfinished uploads / partial downloads instead of resuming
    # One limiter for the whole run, shared by every worker and part (None: no limit).
    bandwidth: BandwidthLimiter | None = field(default=None, compare=False)
    restore_archived_days: int | None = None  # ask S3 to restore archived sources
    skip_archived: bool = False  # archived sources alone do not make the run partial


def describe_failure(exc: BaseException) -> str:
    from s32s.aws.clients import describe_client_error, error_code

    if isinstance(exc, UnsafeKeyError):
        return str(exc)
    if getattr(exc, "response", None):
        code = error_code(exc)
        if code in ("PreconditionFailed", "412"):
            return "the object was replaced during the run; it will be copied on the next run"
        return describe_client_error(exc)  # type: ignore[arg-type]
    if isinstance(exc, OSError):
        if getattr(exc, "errno", None) == 28:
            return "no space left on the destination disk"
        detail = exc.strerror or str(exc)
        return f"{detail}: {exc.filename}" if getattr(exc, "filename", None) else detail
    return str(exc) or type(exc).__name__


Copier = Callable[[Entry], None]


def pick_copier(
    source: Store,
    dest: Store,
    options: ExecuteOptions,
    reporter: Reporter,
    stop: threading.Event,
) -> Copier:
    """The copy operation for this pair of stores: the one place that asks what they are.

    Local → S3 uploads from the file (parts read from disk in parallel); S3 →
    S3 on one endpoint copies server-side when allowed; every other pair
    streams from the source's `open_read` into the destination's `write`.
    Copies that move bytes through s32s announce them to a reporter paced by
    the run's bandwidth limiter; server-side copies move none and are never
    held back.
    """
    if isinstance(source, S3Store) and isinstance(dest, S3Store) and options.server_side_copy:
        return functools.partial(_server_copy, source, dest, reporter)
    moving = paced(reporter, options.bandwidth)
    if isinstance(source, LocalStore) and isinstance(dest, S3Store):
        return functools.partial(_upload, source, dest, moving, stop)
    if isinstance(source, S3Store) and isinstance(dest, LocalStore):
        return functools.partial(_download, source, dest, moving, stop)
    return functools.partial(_stream_copy, source, dest, moving, stop)


def _upload(
    source: LocalStore, dest: S3Store, reporter: Reporter, stop: threading.Event, entry: Entry
) -> None:
    check_s3_key(dest.object_key(entry.key))
    path = str(source.path_of(entry.key))
    current = source.stat(entry.key)
    if current is None:
        raise FileNotFoundError(2, "the file vanished before it could be copied", path)
    dest.upload_file(path, entry.key, current.size, current.mtime_ns, reporter.advanced, stop=stop)
    after = source.stat(entry.key)
    if after is None or (after.size, after.mtime_ns) != (current.size, current.mtime_ns):
        raise FileChangedError(
            "the file kept changing while it was uploaded; it will be copied on the next run"
        )


def _download(
    source: S3Store, dest: LocalStore, reporter: Reporter, stop: threading.Event, entry: Entry
) -> None:
    """S3 → disk: large objects as parallel ranged GETs into a kept partial file.

    An object written by another tool records no mtime: like aws and rclone,
    its upload time is stamped on the file, so the next run in either
    direction sees no change.
    """
    if not source.reads_in_parts(entry):
        _stream_copy(source, dest, reporter, stop, entry, stamp_upload_time=True)
        return
    partial = dest.partial_download(entry.key)
    mtime_ns = source.download_in_parts(entry, partial, reporter.advanced, stop)
    stamp = mtime_ns if mtime_ns is not None else entry.modified_ns
    dest.commit_partial(entry.key, partial, stamp)
    source.record_seen(entry.key, entry.etag, entry.size, mtime_ns)


def _server_copy(source: S3Store, dest: S3Store, reporter: Reporter, entry: Entry) -> None:
    dest.copy_from(source, entry, reporter.advanced)


class _Watched:
    """A body that stops when the run is asked to, and counts what passed for the progress."""

    def __init__(self, body: BinaryIO, stop: threading.Event) -> None:
        self.body = body
        self.stop = stop

    def read(self, amount: int = -1) -> bytes:
        if self.stop.is_set():
            raise Interrupted()
        return self.body.read(amount)


def _stream_copy(
    source: Store,
    dest: Store,
    reporter: Reporter,
    stop: threading.Event,
    entry: Entry,
    *,
    stamp_upload_time: bool = False,
) -> None:
    opened = source.open_read(entry)
    mtime_ns = opened.mtime_ns
    if mtime_ns is None and stamp_upload_time:
        mtime_ns = entry.modified_ns
    sent = 0

    def advanced(byte_count: int) -> None:
        nonlocal sent
        sent += byte_count
        reporter.advanced(byte_count)

    try:
        body = cast(BinaryIO, _Watched(opened.body, stop))
        dest.write(
            entry.key, body, entry.size, mtime_ns, advanced, content_type=opened.content_type
        )
    except BaseException:
        reporter.advanced(-sent)  # a failed copy takes back the bytes it counted
        raise
    finally:
        opened.body.close()


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
        self.concurrency = controller_for(options.workers)
        self._copy = pick_copier(source, dest, options, reporter, self.stop)

    # running ---------------------------------------------------------------
    def _with_retries(self, action: Action) -> None:
        """Copy one file; botocore retries its requests, the engine a broken body or changed file."""
        assert action.source is not None
        entry = action.source
        with_retries(
            lambda: self._copy(entry),
            attempts=self.options.attempts,
            backoff_base=self.options.backoff_base,
            stop=self.stop,
        )

    def _run_one(self, action: Action) -> str | ArchivedObject | None:
        if self.stop.is_set():
            return "not started: the run was interrupted"
        self.reporter.started(action)
        started = time.monotonic()
        outcome: str | ArchivedObject | None = None
        try:
            self._with_retries(action)
        except Interrupted:
            outcome = "interrupted"
        except Exception as exc:
            assert action.source is not None
            archived = archived_object(exc, action.source)
            outcome = (
                describe_failure(exc) if archived is None else self._archived(action, archived)
            )
        self.concurrency.completed(time.monotonic() - started, action.size)
        self.reporter.finished(
            action, outcome.describe() if isinstance(outcome, ArchivedObject) else outcome
        )
        return outcome

    def _archived(self, action: Action, archived: ArchivedObject) -> ArchivedObject:
        """An archived source object: not copied; its restore requested when asked."""
        days = self.options.restore_archived_days
        if days is None or not isinstance(self.source, S3Store):
            return archived
        restore = request_restore(
            self.source.client,
            self.source.url.bucket,
            self.source.object_key(action.key),
            archived,
            days,
        )
        return ArchivedObject(archived.storage_class, restore)

    def run(self, plan: Plan, report: Report) -> Report:
        started = time.monotonic()
        if self.options.cleanup_uploads:
            self._clean_leftovers()
        self._make_dirs(plan, report)
        self._copy_all(plan, report)
        if self.stop.is_set():
            report.deletes_skipped = "the run was interrupted"
        elif report.failed and (plan.deletes or plan.rmdirs):
            report.deletes_skipped = f"{len(report.failed)} file(s) failed, so nothing was deleted"
        else:
            self._delete_all(plan, report)
            self._remove_dirs(plan, report)
        if not report.failed and not self.stop.is_set():
            self._clean_leftovers()
        self.source.save_seen()
        self.dest.save_seen()
        summary = self.concurrency.summary()
        report.concurrency = summary.to_dict()
        if plan.copies:
            log.info(
                "Copied with %s concurrency: up to %d transfers at once, %d at the end (max %d).",
                summary.mode,
                summary.peak,
                summary.final,
                summary.maximum,
            )
        report.seconds = time.monotonic() - started
        return report

    def _clean_leftovers(self) -> None:
        """Drop what interrupted runs kept to resume (after a clean run, or first on request)."""
        try:
            self.dest.clean_leftovers()
        except Exception as exc:  # a leftover costs storage, never correctness
            log.warning("could not clean up unfinished transfers: %s", describe_failure(exc))

    def _copy_all(self, plan: Plan, report: Report) -> None:
        """Copy with as many files in flight as the controller allows, tallying each as it finishes.

        Finished futures arrive on a queue: waiting on the whole window for
        every completion would cost a lock per pending future each time.
        """
        if not plan.copies:
            return
        finished: queue.SimpleQueue[Future[str | ArchivedObject | None]] = queue.SimpleQueue()
        controller = self.concurrency
        with (
            ThreadPoolExecutor(
                max_workers=controller.maximum, thread_name_prefix="s32s-copy"
            ) as pool,
            self._watching_throttling(controller),
        ):
            pending: dict[Future[str | ArchivedObject | None], Action] = {}
            actions = iter(plan.copies)
            try:
                while True:
                    while len(pending) < controller.limit and not self.stop.is_set():
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

    @contextlib.contextmanager
    def _watching_throttling(self, controller: ConcurrencyController) -> Iterator[None]:
        """Tell the controller of every throttled attempt, including those botocore retries."""
        if not controller.adaptive:
            yield
            return
        from s32s.aws.clients import watch_throttling

        found = (getattr(store, "client", None) for store in (self.source, self.dest))
        clients = {id(client): client for client in found if client is not None}
        stops = [watch_throttling(client, controller.throttled) for client in clients.values()]
        try:
            yield
        finally:
            for stop_watching in stops:
                stop_watching()

    @staticmethod
    def _tally(action: Action, error: str | ArchivedObject | None, report: Report) -> None:
        if isinstance(error, ArchivedObject):
            report.archived[action.key] = error.describe()
        elif error:
            report.failed[action.key] = error
        else:
            report.copied += 1
            report.bytes_copied += action.size

    def _make_dirs(self, plan: Plan, report: Report) -> None:
        for action in plan.mkdirs:
            try:
                self.dest.make_folder(action.key)
                report.folders_created += 1
            except FolderMarkersUnsupported as exc:
                report.warnings.append(str(exc))
                return
            except Exception as exc:
                report.failed[f"{action.key}/"] = describe_failure(exc)

    def _delete_all(self, plan: Plan, report: Report) -> None:
        if not plan.deletes:
            return
        try:
            failures = self.dest.delete_many([action.key for action in plan.deletes])
        except Exception as exc:
            failures = {action.key: describe_failure(exc) for action in plan.deletes}
        for action in plan.deletes:
            error = failures.get(action.key)
            self.reporter.finished(action, error)
            if error:
                report.failed[action.key] = f"not deleted: {error}"
            else:
                report.deleted += 1
                report.bytes_deleted += action.size

    def _remove_dirs(self, plan: Plan, report: Report) -> None:
        report.folders_removed = self.dest.remove_folders([action.key for action in plan.rmdirs])


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
