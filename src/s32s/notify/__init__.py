"""Run notifications (DESIGN §3): one JSON message per finished run to SQS or SNS,
and the watcher behind `s32s slave pull --watch`.

- `targets`: parse `sqs://NAME`, a queue name or URL, `sns:arn:aws:sns:…`.
- `message`: build the `s32s.run` message from a Report; read messages back
  (s32s's own, S3 Event Notifications, either one wrapped by SNS).
- `send`: deliver a message to every target; a failure is a warning.
- `watch`: long-poll a queue, coalesce, pull, delete only after success.
"""

from s32s.notify.message import RUN_EVENT, run_message
from s32s.notify.send import Notifier, notify_run
from s32s.notify.targets import Target, parse_target, parse_targets

__all__ = [
    "RUN_EVENT",
    "Notifier",
    "Target",
    "notify_run",
    "parse_target",
    "parse_targets",
    "run_message",
]
