"""The exceptions s32s raises and the exit code each one means.

Every error a user can cause or fix carries a plain message (what went wrong)
and, where useful, a hint (what to do). The CLI turns them into one or two
sentences and the exit code in one place (`s32s.cli.main`).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes of every s32s command (DESIGN §4)."""

    OK = 0
    PARTIAL_FAILURE = 1  # some items failed; the rest were done
    USAGE = 2  # bad usage, config, map or credentials: nothing changed
    REFUSED = 3  # a safeguard refused: nothing deleted
    INTERRUPTED = 130


class S32SError(Exception):
    """Base of all errors reported to the user without a traceback."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(S32SError):
    """The ini file, a map file or a YAML file is missing or invalid."""


class MapError(ConfigError):
    """A path map is invalid."""


class AwsError(S32SError):
    """Credentials, endpoint, bucket or permission problem talking to AWS."""


class SafeguardRefused(S32SError):
    """A data-safety rule refused the run; nothing was deleted."""

    exit_code = ExitCode.REFUSED


class ExternalToolError(S32SError):
    """An external program (such as the snowballEdge client) failed."""
