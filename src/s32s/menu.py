"""What the interactive menu understands, apart from how it is drawn.

The menu (`s32s.cli.menu`) reads one line per choice. This module turns that
line into a `Choice`, or a `MenuInputError` whose message tells the user what
to type instead, and lists the [MAIN] settings the menu can toggle. Nothing
here prompts, prints or touches S3.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Action(Enum):
    """One thing the menu can do."""

    RUN = "run"  # push (master) or pull (slave) one map
    RUN_ALL = "all"
    DETAILS = "details"
    RELOAD = "reload"
    OPEN = "open"
    SWITCH = "switch"
    SETTINGS = "settings"
    CUSTOM = "custom"
    QUIT = "quit"


# typed letter or word -> action (the number-taking actions are RUN and DETAILS)
_KEYS: dict[str, Action] = {
    "a": Action.RUN_ALL,
    "all": Action.RUN_ALL,
    "d": Action.DETAILS,
    "r": Action.RELOAD,
    "o": Action.OPEN,
    "s": Action.SWITCH,
    "t": Action.SETTINGS,
    "c": Action.CUSTOM,
    "q": Action.QUIT,
    "quit": Action.QUIT,
    "exit": Action.QUIT,
}

HELP = "Type a map number, a (all), d N (details), r, o, s, t, c or q."


@dataclass(frozen=True)
class Choice:
    """A parsed menu answer; `number` is the 1-based map number for RUN and DETAILS."""

    action: Action
    number: int | None = None


class MenuInputError(ValueError):
    """An answer the menu cannot act on; the message says what to type instead."""


def parse_choice(text: str, map_count: int) -> Choice | None:
    """The choice typed as `text`, or None for a blank line.

    `map_count` is how many maps are loaded, so a number out of range (or any
    number when no maps loaded) is refused here, before anything runs.
    """
    words = text.strip().lower().split()
    if not words:
        return None
    head, rest = words[0], words[1:]
    if head.isdigit() and not rest:
        return Choice(Action.RUN, _map_number(head, map_count))
    action = _KEYS.get(head)
    if action is None:
        raise MenuInputError(f"Unknown choice {text.strip()!r}. {HELP}")
    if action is Action.DETAILS:
        if len(rest) != 1:
            raise MenuInputError("Type d and a map number, for example: d 1.")
        return Choice(action, _map_number(rest[0], map_count))
    if rest:
        raise MenuInputError(f"{head!r} takes no argument. {HELP}")
    if action is Action.RUN_ALL and map_count == 0:
        raise MenuInputError(_no_maps())
    return Choice(action)


def _map_number(word: str, map_count: int) -> int:
    if map_count == 0:
        raise MenuInputError(_no_maps())
    if not word.isdigit() or not 1 <= int(word) <= map_count:
        raise MenuInputError(f"There is no map {word}: choose a number from 1 to {map_count}.")
    return int(word)


def _no_maps() -> str:
    return "No maps are loaded. Fix the maps path (o) or reload (r) first."


def other_mode(mode: str) -> str:
    return "slave" if mode == "master" else "master"


@dataclass(frozen=True)
class Setting:
    """A [MAIN] boolean the menu toggles: its ini key, its `Config` attribute and what True does."""

    key: str
    attribute: str
    meaning: str


SETTINGS: tuple[Setting, ...] = (
    Setting("skip_order_maps", "skip_order_maps", "keep maps in file order instead of by name"),
    Setting("skip_delete_alert", "skip_delete_alert", "do not ask before deleting (like --yes)"),
    Setting("skip_tranfer_detail", "skip_transfer_detail", "no transfer summary after a run"),
)


def parse_setting(text: str) -> Setting | None:
    """The setting numbered `text` (1-based), or None for a blank line (back to the menu)."""
    word = text.strip()
    if not word:
        return None
    if word.isdigit() and 1 <= int(word) <= len(SETTINGS):
        return SETTINGS[int(word) - 1]
    raise MenuInputError(
        f"There is no setting {word!r}: type 1 to {len(SETTINGS)}, or nothing to go back."
    )


def pick_custom_command(text: str, names: list[str]) -> str | None:
    """The custom command chosen by number or name, or None for a blank line (back)."""
    word = text.strip()
    if not word:
        return None
    if word.isdigit() and 1 <= int(word) <= len(names):
        return names[int(word) - 1]
    if word in names:
        return word
    raise MenuInputError(
        f"There is no custom command {word!r}: type its number or name, or nothing to go back."
    )
