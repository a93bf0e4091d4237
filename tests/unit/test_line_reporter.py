"""The plain per-file lines written for logs and cron."""

from __future__ import annotations

import pytest

from s32s.cli.progress import LineReporter
from s32s.sync.plan import Action, Kind


def test_lines_name_each_file_and_neutralise_control_characters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reporter = LineReporter("/data/", "s3://b/site", quiet=False)
    reporter.finished(Action(Kind.COPY, "a b/é.txt", 3), None)
    reporter.finished(Action(Kind.DELETE, "old\x1b[2Jname"), None)
    reporter.finished(Action(Kind.COPY, "bad\nkey", 1), "access denied")
    assert capsys.readouterr().err.splitlines() == [
        "copy: /data/a b/é.txt to s3://b/site/a b/é.txt",
        "delete: s3://b/site/old?[2Jname",
        "failed: bad?key: access denied",
    ]


def test_quiet_keeps_only_failures(capsys: pytest.CaptureFixture[str]) -> None:
    reporter = LineReporter("/data", "s3://b/site", quiet=True)
    reporter.finished(Action(Kind.COPY, "ok.txt", 3), None)
    reporter.finished(Action(Kind.COPY, "no.txt", 3), "the file vanished")
    assert capsys.readouterr().err == "failed: no.txt: the file vanished\n"
