"""Custom commands ([CUSTOMCOMMAND] in s32s.ini), run without a shell."""

from __future__ import annotations

import os
import shlex
import subprocess

from s32s.errors import ConfigError
from s32s.maps.ini import Config


def find_command(config: Config, name: str) -> list[str]:
    """The argument vector of custom command `name`."""
    if name not in config.custom_commands:
        known = ", ".join(sorted(config.custom_commands)) or "none"
        raise ConfigError(
            f"No custom command {name!r} in {config.path}.", f"Known commands: {known}."
        )
    try:
        argv = shlex.split(config.custom_commands[name], posix=(os.name == "posix"))
    except ValueError as exc:
        raise ConfigError(
            f"{config.path}: [CUSTOMCOMMAND] {name} cannot be parsed: {exc}."
        ) from None
    if not argv:
        raise ConfigError(f"{config.path}: [CUSTOMCOMMAND] {name} is empty.")
    return argv


def run_custom_command(argv: list[str]) -> int:
    """Run `argv` (no shell) with the terminal attached; return its exit code."""
    try:
        return subprocess.call(argv)
    except FileNotFoundError:
        raise ConfigError(
            f"Program {argv[0]!r} was not found.", "Check the command line in s32s.ini."
        ) from None
    except PermissionError:
        raise ConfigError(f"Program {argv[0]!r} cannot be executed (permission denied).") from None
