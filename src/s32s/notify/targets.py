"""Where a notification goes: an SQS queue or an SNS topic, parsed from what the user wrote.

Accepted spellings (`--notify URL`, `notify =` in [MAIN], `--watch`):

- `sqs://NAME` or a bare queue name (`site-updates`): a queue of the current
  account and region, looked up with GetQueueUrl;
- a queue URL (`https://sqs.eu-west-1.amazonaws.com/123456789012/site-updates`);
- `sns:arn:aws:sns:REGION:ACCOUNT:TOPIC` (or the bare ARN): an SNS topic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from s32s.errors import ConfigError

SQS = "sqs"
SNS = "sns"

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]{1,256})$")
_SQS_HOST = re.compile(r"^(?:sqs\.([a-z0-9-]+)|([a-z0-9-]+)\.queue)\.amazonaws\.com(\.cn)?$")
_SPELLINGS = (
    "sqs://NAME, an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), "
    "or sns:arn:aws:sns:REGION:ACCOUNT:TOPIC"
)


@dataclass(frozen=True)
class Target:
    """One queue or topic. Exactly one of `queue_name`, `queue_url`, `topic_arn` is set."""

    kind: str
    text: str
    queue_name: str | None = None
    queue_url: str | None = None
    topic_arn: str | None = None

    def __str__(self) -> str:
        return self.text

    @property
    def region(self) -> str | None:
        """The region written in a queue URL or topic ARN, when there is one."""
        if self.topic_arn:
            match = _TOPIC_ARN.match(self.topic_arn)
            return match.group(1) if match else None
        if self.queue_url:
            host = urlsplit(self.queue_url).hostname or ""
            match = _SQS_HOST.match(host)
            return (match.group(1) or match.group(2)) if match else None
        return None

    @property
    def endpoint_url(self) -> str | None:
        """For a queue URL on a non-AWS host (a local test server): that host, as the endpoint."""
        if not self.queue_url:
            return None
        parts = urlsplit(self.queue_url)
        if _SQS_HOST.match(parts.hostname or ""):
            return None
        return f"{parts.scheme}://{parts.netloc}"


def parse_target(text: str, *, where: str = "--notify") -> Target:
    """A `Target` for one spelling, or `ConfigError` naming `where` and the accepted forms."""
    raw = text.strip()
    lowered = raw.lower()
    if lowered.startswith(("sns:", "arn:")):
        arn = raw[4:] if lowered.startswith("sns:") else raw
        if not _TOPIC_ARN.match(arn):
            raise ConfigError(
                f"{where}: {text!r} is not an SNS topic ARN.",
                "Write it as sns:arn:aws:sns:REGION:ACCOUNT:TOPIC.",
            )
        return Target(SNS, raw, topic_arn=arn)
    if lowered.startswith("sqs://"):
        name = raw[len("sqs://") :].strip("/")
        return Target(SQS, raw, queue_name=_queue_name(name, text, where))
    if lowered.startswith(("https://", "http://")):
        parts = urlsplit(raw)
        segments = [segment for segment in parts.path.split("/") if segment]
        if not parts.hostname or len(segments) != 2:
            raise ConfigError(
                f"{where}: {text!r} is not an SQS queue URL.",
                f"Accepted: {_SPELLINGS}.",
            )
        _queue_name(segments[1], text, where)
        return Target(SQS, raw, queue_url=raw)
    if _QUEUE_NAME.match(raw):
        return Target(SQS, raw, queue_name=raw)
    raise ConfigError(f"{where}: {text!r} is not a queue or topic.", f"Accepted: {_SPELLINGS}.")


def _queue_name(name: str, text: str, where: str) -> str:
    if not _QUEUE_NAME.match(name):
        raise ConfigError(
            f"{where}: {text!r} does not hold a valid SQS queue name.",
            "Queue names are 1 to 80 letters, digits, `-` or `_` (FIFO queues end in .fifo).",
        )
    return name


def parse_targets(texts: str | tuple[str, ...] | list[str], *, where: str) -> tuple[Target, ...]:
    """Several targets: a sequence, or one string holding them separated by commas or spaces."""
    if isinstance(texts, str):
        texts = [part for part in re.split(r"[,\s]+", texts) if part]
    targets: list[Target] = []
    for text in texts:
        target = parse_target(text, where=where)
        if target not in targets:
            targets.append(target)
    return tuple(targets)
