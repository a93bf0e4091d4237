"""Deliver run messages to SQS queues and SNS topics.

Clients come from the one `ClientFactory` (profile, credentials, region,
endpoint), with few retries and short timeouts: a notification must not hold
a finished run for long. Every failure becomes a warning (logged, and
returned so it can join the run's report); the run's exit code never changes.

Endpoints: a queue URL on a non-AWS host is sent to that host; otherwise
botocore's service-specific variables `AWS_ENDPOINT_URL_SQS` /
`AWS_ENDPOINT_URL_SNS` win over the global `--endpoint-url`, so a master that
pushes to an S3-compatible server can still notify AWS.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from s32s.aws.clients import describe_error
from s32s.notify.message import FAILED, REFUSED, run_message
from s32s.notify.targets import SNS, SQS, Target

if TYPE_CHECKING:
    from s32s.aws.clients import ClientFactory
    from s32s.sync.events import Report

logger = logging.getLogger(__name__)

SERVICE_ENDPOINT_ENV = {SQS: "AWS_ENDPOINT_URL_SQS", SNS: "AWS_ENDPOINT_URL_SNS"}
FIFO_GROUP = "s32s"


def notification_factory(factory: ClientFactory) -> ClientFactory:
    """The factory's credentials and region with few retries and short timeouts."""
    return factory.derive(max_attempts=3, connect_timeout=5.0, read_timeout=15.0)


def client_for(target: Target, factory: ClientFactory) -> Any:
    """An SQS or SNS client for `target`: in the region its URL or ARN names, if any, and at
    the queue URL's own host, `AWS_ENDPOINT_URL_SQS`/`_SNS`, or the global endpoint."""
    if factory.options.is_snow:  # a Snowball Edge device has no SQS or SNS
        factory = factory.derive(region=None, endpoint_url=None)
    region = target.region
    if region and region != factory.options.region:
        factory = factory.derive(region=region)
    endpoint = target.endpoint_url or os.environ.get(SERVICE_ENDPOINT_ENV[target.kind])
    return factory.client(target.kind, endpoint_url=endpoint)


class Notifier:
    """Sends messages to a fixed set of targets. Thread-safe; queue URLs are looked up once."""

    def __init__(self, targets: Iterable[Target], factory: ClientFactory) -> None:
        self.targets = tuple(targets)
        self.factory = notification_factory(factory)
        self._queue_urls: dict[Target, str] = {}
        self._clients: dict[Target, Any] = {}
        self._lock = threading.Lock()

    def client(self, target: Target) -> Any:
        with self._lock:
            client = self._clients.get(target)
        if client is None:
            client = client_for(target, self.factory)
            with self._lock:
                client = self._clients.setdefault(target, client)
        return client

    def send(self, message: dict[str, Any]) -> list[str]:
        """Deliver `message` to every target; one warning sentence per target that failed."""
        body = json.dumps(message, separators=(",", ":"), sort_keys=False)
        warnings = []
        for target in self.targets:
            try:
                if target.kind == SNS:
                    self._publish(target, body, message)
                else:
                    self._send_to_queue(target, body, message)
            except Exception as exc:  # any failure: a warning, never a failed run
                warning = f"Could not notify {target}: {describe_error(exc)} The run itself is not affected."
                logger.warning("%s", warning)
                warnings.append(warning)
            else:
                logger.info(
                    "Notified %s of %s %s.", target, message.get("event"), message.get("name")
                )
        return warnings

    def _send_to_queue(self, target: Target, body: str, message: dict[str, Any]) -> None:
        with self._lock:
            url = self._queue_urls.get(target)
        if url is None:
            url = (
                target.queue_url
                or self.client(target).get_queue_url(QueueName=target.queue_name)["QueueUrl"]
            )
            with self._lock:
                self._queue_urls[target] = url
        request: dict[str, Any] = {
            "QueueUrl": url,
            "MessageBody": body,
            "MessageAttributes": _attributes(message),
        }
        if url.endswith(".fifo"):
            request["MessageGroupId"] = FIFO_GROUP
            request["MessageDeduplicationId"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.client(target).send_message(**request)

    def _publish(self, target: Target, body: str, message: dict[str, Any]) -> None:
        request: dict[str, Any] = {
            "TopicArn": target.topic_arn,
            "Message": body,
            "MessageAttributes": _attributes(message),
        }
        if (target.topic_arn or "").endswith(".fifo"):
            request["MessageGroupId"] = FIFO_GROUP
            request["MessageDeduplicationId"] = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.client(target).publish(**request)


def _attributes(message: dict[str, Any]) -> dict[str, Any]:
    """`event`, `command` and `status` as message attributes, for SNS subscription filter policies."""
    return {
        name: {"DataType": "String", "StringValue": str(message[name])}
        for name in ("event", "command", "status")
        if message.get(name) not in (None, "")
    }


def notify_run(
    command: str,
    report: Report,
    targets: Iterable[Target],
    factory: ClientFactory,
    *,
    log: str | None = None,
    status: str | None = None,
) -> list[str]:
    """Announce a finished run to `targets`; its failures join `report.warnings` and are returned.

    A dry run changed nothing and announces nothing.
    """
    targets = tuple(targets)
    if not targets or report.dry_run:
        return []
    warnings = Notifier(targets, factory).send(run_message(command, report, log=log, status=status))
    report.warnings.extend(warnings)
    return warnings


def notify_failure(
    command: str,
    name: str,
    source: str,
    destination: str,
    started: float,
    error: BaseException,
    targets: Iterable[Target],
    factory: ClientFactory,
    *,
    log: str | None = None,
) -> list[str]:
    """Announce a run that ended on an error before it had a report: `refused` or `failed`."""
    import time

    from s32s.errors import SafeguardRefused
    from s32s.sync.events import Report

    report = Report(name=name, source=source, destination=destination, started_at=started)
    report.seconds = max(time.time() - started, 0.0)
    status = REFUSED if isinstance(error, SafeguardRefused) else FAILED
    return notify_run(command, report, targets, factory, log=log, status=status)
