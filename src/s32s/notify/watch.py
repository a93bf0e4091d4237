"""`s32s slave pull --watch`: long-poll an SQS queue and pull the maps a message names.

The loop, one batch at a time:

1. **Receive.** Long-poll (up to 20 s). When a message arrives, keep
   receiving with short polls until the queue is quiet or `max_batch`
   messages are held: a burst (a master's push, an image producer writing
   a hundred files) becomes one batch.
2. **Read.** Each message is an s32s run message, an S3 Event Notification
   (possibly wrapped by SNS), or something else (`message.read_message`). It
   triggers the maps whose S3 path holds what changed. A message about one
   of the maps that changed nothing (a no-op run, S3's test event) is
   acknowledged without a pull; a message about nothing of ours is
   *unrelated*: left in the queue, or deleted when so configured.
3. **Pull** each triggered map once, whatever the number of messages.
4. **Delete** a message only when every map it triggered pulled
   successfully. A failed pull leaves its messages in the queue: they come
   back after the queue's visibility timeout, and the pull is retried then.

Errors reading the queue are logged and retried with exponential backoff
(1 s doubling to 60 s); the maps are re-read for every batch, so a map added
on the master is followed without a restart. The clock and the sleep are
injected, so tests drive the loop without waiting.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s32s.aws.clients import describe_error, error_code
from s32s.errors import AwsError, ConfigError
from s32s.notify.message import Incoming, read_message
from s32s.notify.send import client_for
from s32s.notify.targets import SQS, parse_target
from s32s.paths import S3Url

if TYPE_CHECKING:
    from s32s.aws.clients import ClientFactory

logger = logging.getLogger(__name__)

LONG_POLL_SECONDS = 20  # SQS's maximum
BATCH_DELETE = 10  # SQS's DeleteMessageBatch limit


@dataclass(frozen=True)
class WatchedMap:
    """A map the watcher may pull: its name and S3 path."""

    name: str
    s3: S3Url


@dataclass(frozen=True)
class WatchOptions:
    """How the watcher polls and what it does with messages that are not for it."""

    idle_exit: float | None = None  # stop after this many seconds without a message
    delete_unrelated: bool = False
    visibility_timeout: int | None = None  # None: the queue's own setting
    wait_seconds: int = LONG_POLL_SECONDS
    settle_seconds: int = 1  # short polls that gather the rest of a burst
    max_batch: int = 100
    first_backoff: float = 1.0
    max_backoff: float = 60.0


@dataclass
class WatchStats:
    """What a watch did, for the final summary and for tests."""

    received: int = 0
    pulls: int = 0
    failed_pulls: int = 0
    deleted: int = 0
    left: int = 0
    unrelated: int = 0
    receive_errors: int = 0
    pulled: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "pulls": self.pulls,
            "failed_pulls": self.failed_pulls,
            "deleted": self.deleted,
            "left_for_retry": self.left,
            "unrelated": self.unrelated,
            "receive_errors": self.receive_errors,
            "pulled": self.pulled,
        }


_MISSING_QUEUE = ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist")


def open_queue(text: str, factory: ClientFactory) -> tuple[Any, str]:
    """An SQS client and the queue URL for `--watch TEXT`; `ConfigError`/`AwsError` when unusable.

    The client retries little (the watch loop backs off itself) and waits
    longer than a long poll before it calls a read slow.
    """
    from s32s.aws.clients import translate_error

    target = parse_target(text, where="--watch")
    if target.kind != SQS:
        raise ConfigError(
            f"--watch needs an SQS queue, and {text!r} is an SNS topic.",
            "Subscribe a queue to the topic and watch the queue (docs/watch.md).",
        )
    client = client_for(
        target, factory.derive(max_attempts=2, read_timeout=LONG_POLL_SECONDS + 15.0)
    )
    if target.queue_url:
        return client, target.queue_url
    try:
        url: str = client.get_queue_url(QueueName=target.queue_name)["QueueUrl"]
    except Exception as exc:
        code = error_code(exc)
        if code in _MISSING_QUEUE:
            raise ConfigError(
                f"The SQS queue {target.queue_name!r} does not exist in this account and region.",
                "Create it (docs/watch.md), or check --region, --profile and --endpoint-url.",
            ) from None
        translated = translate_error(exc)
        if translated is None:
            raise
        raise AwsError(
            f"Cannot open the queue {text}: {translated.message}", translated.hint
        ) from exc
    return client, url


#: Pulls the named maps; returns, for each name, whether its pull succeeded.
PullMaps = Callable[[Sequence[str]], Mapping[str, bool]]


@dataclass
class _Held:
    """A received message and what it asks for."""

    receipt: str
    incoming: Incoming
    maps: tuple[str, ...] = ()
    acknowledged: bool = False  # about our maps, but nothing to pull


class QueueWatcher:
    """The loop described in the module docstring, over one SQS queue."""

    def __init__(
        self,
        client: Any,
        queue_url: str,
        load_maps: Callable[[], Sequence[WatchedMap]],
        pull: PullMaps,
        options: WatchOptions | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        stop: threading.Event | None = None,
    ) -> None:
        self.client = client
        self.queue_url = queue_url
        self.load_maps = load_maps
        self.pull = pull
        self.options = options or WatchOptions()
        self.clock = clock
        self.sleep = sleep
        self.stop = stop or threading.Event()
        self.stats = WatchStats()
        self._seen: set[str] = set()

    # the loop ---------------------------------------------------------------
    def run(self) -> WatchStats:
        """Watch until `stop` is set or, with `idle_exit`, the queue stayed quiet that long."""
        last_activity = self.clock()
        backoff = self.options.first_backoff
        while not self.stop.is_set():
            try:
                batch = self._gather(self._wait_for(last_activity))
            except Exception as exc:
                self.stats.receive_errors += 1
                if self._idle_for(last_activity):
                    logger.warning(
                        "Cannot read the queue %s: %s", self.queue_url, describe_error(exc)
                    )
                    break
                logger.warning(
                    "Cannot read the queue %s: %s Retrying in %g s.",
                    self.queue_url,
                    describe_error(exc),
                    backoff,
                )
                self.sleep(backoff)
                backoff = min(backoff * 2, self.options.max_backoff)
                continue
            backoff = self.options.first_backoff
            new = bool(batch) and self._first_deliveries(batch)
            if batch:
                self.handle(batch)
            if new:  # a message back for a retry does not keep an idle watch alive
                last_activity = self.clock()
            elif self._idle_for(last_activity):
                logger.info(
                    "No new message for %g s: stopping (--idle-exit).", self.options.idle_exit
                )
                break
        return self.stats

    def _first_deliveries(self, batch: list[dict[str, Any]]) -> bool:
        """True when the batch holds a message this watch has not received before."""
        ids = {message["MessageId"] for message in batch}
        new = bool(ids - self._seen)
        if len(self._seen) > 100_000:  # a long watch: forget the oldest, keep memory bounded
            self._seen.clear()
        self._seen.update(ids)
        return new

    def _idle_for(self, last_activity: float) -> bool:
        idle = self.options.idle_exit
        return idle is not None and self.clock() - last_activity >= idle

    def _wait_for(self, last_activity: float) -> int:
        """Long-poll seconds: the maximum, or what is left before an idle exit (at least 1)."""
        wait = self.options.wait_seconds
        if self.options.idle_exit is not None:
            left = self.options.idle_exit - (self.clock() - last_activity)
            wait = min(wait, max(1, math.ceil(left)))
        return wait

    # receiving --------------------------------------------------------------
    def _receive(self, wait: int) -> list[dict[str, Any]]:
        request: dict[str, Any] = {
            "QueueUrl": self.queue_url,
            "MaxNumberOfMessages": 10,
            "WaitTimeSeconds": wait,
        }
        if self.options.visibility_timeout is not None:
            request["VisibilityTimeout"] = self.options.visibility_timeout
        messages: list[dict[str, Any]] = self.client.receive_message(**request).get("Messages", [])
        return messages

    def _gather(self, wait: int) -> list[dict[str, Any]]:
        """One long poll; if it brought messages, short polls until the burst is over."""
        held: dict[str, dict[str, Any]] = {}
        for message in self._receive(wait):
            held[message["MessageId"]] = message
        while held and len(held) < self.options.max_batch and not self.stop.is_set():
            try:
                more = self._receive(self.options.settle_seconds)
            except Exception as exc:  # keep what we have; the next long poll reports the error
                logger.debug("Gathering a burst stopped: %s", exc)
                break
            known = len(held)
            for message in more:
                held[message["MessageId"]] = message  # a duplicate delivery: keep the newest handle
            if len(held) == known:  # quiet, or only messages we hold already came back
                break
        self.stats.received += len(held)
        return list(held.values())

    # handling ---------------------------------------------------------------
    def handle(self, messages: Iterable[dict[str, Any]]) -> None:
        """Read, pull once per triggered map, delete what was done (see the module docstring)."""
        held = [
            _Held(
                message["ReceiptHandle"],
                read_message(message.get("Body", "")),
            )
            for message in messages
        ]
        try:
            maps = list(self.load_maps())
        except Exception as exc:
            logger.error(
                "Cannot load the maps: %s %d message(s) stay in the queue for a retry.",
                describe_error(exc),
                len(held),
            )
            self.stats.left += len(held)
            return
        for item in held:
            self._classify(item, maps)
        wanted = {name for item in held for name in item.maps}
        names = [watched.name for watched in maps if watched.name in wanted]
        results = self._pull(names) if names else {}
        to_delete: list[_Held] = []
        for item in held:
            if item.maps:
                failed = [name for name in item.maps if not results.get(name)]
                if failed:
                    self.stats.left += 1
                    logger.warning(
                        "Left in the queue for a retry (pull of %s failed): %s",
                        ", ".join(failed),
                        item.incoming.summary,
                    )
                else:
                    to_delete.append(item)
            elif item.acknowledged:
                logger.info("Nothing to pull for: %s", item.incoming.summary)
                to_delete.append(item)
            else:
                self.stats.unrelated += 1
                action = "deleted" if self.options.delete_unrelated else "left in the queue"
                logger.info("Unrelated message %s: %s", action, item.incoming.summary)
                if self.options.delete_unrelated:
                    to_delete.append(item)
        self._delete(to_delete)

    @staticmethod
    def _classify(item: _Held, maps: Sequence[WatchedMap]) -> None:
        item.maps = tuple(watched.name for watched in maps if item.incoming.changed(watched.s3))
        item.acknowledged = not item.maps and any(
            item.incoming.is_about(watched.s3) for watched in maps
        )

    def _pull(self, names: list[str]) -> Mapping[str, bool]:
        """Pull each map on its own, so one that fails (or raises) does not fail the others."""
        results: dict[str, bool] = {}
        for name in names:
            logger.info("Pulling %s.", name)
            try:
                results[name] = bool(self.pull([name]).get(name))
            except KeyboardInterrupt:
                raise
            except Exception as exc:
                logger.error("The pull of %s failed: %s", name, describe_error(exc))
                results[name] = False
            self.stats.pulls += 1
            if results[name]:
                self.stats.pulled.append(name)
            else:
                self.stats.failed_pulls += 1
        return results

    def _delete(self, items: list[_Held]) -> None:
        for start in range(0, len(items), BATCH_DELETE):
            chunk = items[start : start + BATCH_DELETE]
            entries = [
                {"Id": str(index), "ReceiptHandle": item.receipt}
                for index, item in enumerate(chunk)
            ]
            try:
                answer = self.client.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                logger.warning(
                    "Could not delete %d handled message(s) (they will come back and be pulled again): %s",
                    len(chunk),
                    describe_error(exc),
                )
                continue
            failed = answer.get("Failed", [])
            for failure in failed:
                logger.warning(
                    "Could not delete a handled message: %s",
                    failure.get("Message", failure.get("Code")),
                )
            self.stats.deleted += len(chunk) - len(failed)
