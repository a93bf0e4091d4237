"""s32s.ini: load, validate and save (DESIGN §2).

The file format is S32S's. Both its spellings are read: the `skip_*` keys of
later versions and the `order_maps` / `show_*` keys of S32S 1.6, whose meaning
is inverted. s32s never rewrites the user's file behind their back: `save` and
`set_value` are only called by `init` and by explicit menu actions, and
`set_value` edits one line in place so comments survive.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field
from pathlib import Path

from s32s.atomicfile import write_atomically
from s32s.errors import ConfigError
from s32s.inifile import set_keys
from s32s.notify.targets import Target, parse_targets
from s32s.sync.bwlimit import RateSchedule, parse_bwlimit

CONFIG_ENV = "S32S_CONFIG"
DEFAULT_CONFIG_NAME = "s32s.ini"

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")
_ACCEPTED_BOOLEANS = "True or False (also yes/no, on/off, 1/0)"

# key in [MAIN] -> (attribute, inverted)
_MAIN_BOOLEANS: dict[str, tuple[str, bool]] = {
    "ismaster": ("is_master", False),
    "skip_order_maps": ("skip_order_maps", False),
    "skip_delete_alert": ("skip_delete_alert", False),
    "skip_tranfer_detail": ("skip_transfer_detail", False),
    "skip_transfer_detail": ("skip_transfer_detail", False),
    "order_maps": ("skip_order_maps", True),
    "show_delete_alert": ("skip_delete_alert", True),
    "show_transfer_detail": ("skip_transfer_detail", True),
    "show_tranfer_detail": ("skip_transfer_detail", True),
}
_KNOWN = {
    "MAIN": {*_MAIN_BOOLEANS, "time_sleep_after_rm", "bwlimit", "notify"},
    "MASTER": {"maps_s3_path"},
    "SLAVE": {"maps_s3_path"},
}


@dataclass(frozen=True)
class Config:
    """The settings of one s32s.ini."""

    path: Path | None = None
    is_master: bool = True
    skip_order_maps: bool = False
    skip_delete_alert: bool = False
    skip_transfer_detail: bool = False
    time_sleep_after_rm: float = 3.0
    bwlimit: RateSchedule | None = None  # for every run that moves data, unless --bwlimit
    master_maps: str | None = None
    slave_maps: str | None = None
    custom_commands: dict[str, str] = field(default_factory=dict)
    notify: tuple[Target, ...] = ()  # where finished runs are announced (DESIGN §3)
    warnings: tuple[str, ...] = ()

    @property
    def mode(self) -> str:
        return "master" if self.is_master else "slave"

    def maps_for(self, mode: str) -> str | None:
        return self.master_maps if mode == "master" else self.slave_maps


def resolve_config_path(option: str | os.PathLike[str] | None) -> Path:
    """`--config`, else `$S32S_CONFIG`, else `./s32s.ini`."""
    if option:
        return Path(option)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return Path.cwd() / DEFAULT_CONFIG_NAME


def _parse_bool(path: Path, section: str, key: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(
        f"{path}: [{section}] {key} = {value!r} is not a boolean.",
        f"Accepted values: {_ACCEPTED_BOOLEANS}.",
    )


def _parse_seconds(path: Path, key: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise ConfigError(
            f"{path}: [MAIN] {key} = {value!r} is not a number of seconds.",
            "Accepted values: a number of seconds, 0 or more (for example 3).",
        )
    return seconds


def _read_parser(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            f"Config file {path} does not exist.",
            "Create it with `s32s init`, or point to one with --config or $S32S_CONFIG.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} cannot be read: {exc}.") from None
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        first_line = str(exc).splitlines()[0]
        raise ConfigError(
            f"Config file {path} is not a valid ini file: {first_line}",
            "Compare it with s32s.ini.example.",
        ) from None
    return parser


def load_config(path: Path) -> Config:
    """Read and validate an s32s.ini. Raises ConfigError naming file, section and key."""
    parser = _read_parser(path)
    values: dict[str, object] = {"path": path}
    warnings: list[str] = []
    for section in parser.sections():
        known = _KNOWN.get(section.upper())
        if known is None and section.upper() != "CUSTOMCOMMAND":
            warnings.append(f"{path}: unknown section [{section}] is ignored.")
            continue
        if known is None:
            continue
        for key in parser[section]:
            if key.lower() not in known:
                warnings.append(f"{path}: unknown key [{section}] {key} is ignored.")

    if parser.has_section("MAIN"):
        main = parser["MAIN"]
        for key, raw in main.items():
            spec = _MAIN_BOOLEANS.get(key.lower())
            if spec:
                attribute, inverted = spec
                values[attribute] = _parse_bool(path, "MAIN", key, raw) != inverted
            elif key.lower() == "time_sleep_after_rm":
                values["time_sleep_after_rm"] = _parse_seconds(path, key, raw)
            elif key.lower() == "bwlimit" and raw.strip():
                values["bwlimit"] = parse_bwlimit(raw, f"{path}: [MAIN] {key}")
            elif key.lower() == "notify":
                values["notify"] = parse_targets(raw, where=f"{path}: [MAIN] {key}")
    for section, attribute in (("MASTER", "master_maps"), ("SLAVE", "slave_maps")):
        if parser.has_section(section):
            value = parser[section].get("maps_s3_path", "").strip()
            values[attribute] = value or None
    if parser.has_section("CUSTOMCOMMAND"):
        commands = {}
        for name, command in parser["CUSTOMCOMMAND"].items():
            if not command.strip():
                raise ConfigError(
                    f"{path}: [CUSTOMCOMMAND] {name} is empty.",
                    "Give it a command line, or remove the key.",
                )
            commands[name] = command.strip()
        values["custom_commands"] = commands
    values["warnings"] = tuple(warnings)
    return Config(**values)  # type: ignore[arg-type]


def render_config(config: Config) -> str:
    """The text of a fresh s32s.ini holding `config`, with a comment for each key."""

    def flag(value: bool) -> str:
        return "True" if value else "False"

    sleep = config.time_sleep_after_rm
    lines = [
        "[MAIN]",
        "; True on the machine that pushes (master), False on machines that pull (slaves)",
        f"ismaster = {flag(config.is_master)}",
        "; True: keep maps in file order instead of sorting them by name",
        f"skip_order_maps = {flag(config.skip_order_maps)}",
        "; True: do not ask before deleting (same as --yes)",
        f"skip_delete_alert = {flag(config.skip_delete_alert)}",
        "; True: no transfer summary",
        f"skip_tranfer_detail = {flag(config.skip_transfer_detail)}",
        "; seconds to wait after removing a local directory",
        f"time_sleep_after_rm = {int(sleep) if sleep == int(sleep) else sleep}",
        "; where to announce finished runs: sqs://QUEUE, a queue URL or sns:arn:aws:sns:… (comma-separated)",
        f"notify = {', '.join(str(target) for target in config.notify)}",
        "",
        "[MASTER]",
        "; where the master's path maps are: bucket/prefix, s3://bucket/prefix, or a local path",
        f"maps_s3_path = {config.master_maps or ''}",
        "",
        "[SLAVE]",
        "; where the slave's path maps are",
        f"maps_s3_path = {config.slave_maps or ''}",
        "",
        "[CUSTOMCOMMAND]",
        "; name = command line, run by `s32s run NAME` (no shell)",
    ]
    lines += [f"{name} = {command}" for name, command in config.custom_commands.items()]
    return "\n".join(lines) + "\n"


def save_config(config: Config, path: Path) -> None:
    write_atomically(path, render_config(config))


_SETTABLE = {
    ("MAIN", "ismaster"): "is_master",
    ("MAIN", "skip_order_maps"): "skip_order_maps",
    ("MAIN", "skip_delete_alert"): "skip_delete_alert",
    ("MAIN", "skip_tranfer_detail"): "skip_transfer_detail",
    ("MASTER", "maps_s3_path"): "master_maps",
    ("SLAVE", "maps_s3_path"): "slave_maps",
}
_INVERSE_SPELLING = {
    "skip_order_maps": "order_maps",
    "skip_delete_alert": "show_delete_alert",
    "skip_tranfer_detail": "show_transfer_detail",
}


def set_value(path: Path, section: str, key: str, value: str | bool) -> Config:
    """Change one key of an existing ini in place, keeping its comments and layout.

    A boolean written with S32S 1.6's inverted spelling is updated under that
    spelling. Returns the reloaded config.
    """
    if (section, key) not in _SETTABLE:
        raise ValueError(f"[{section}] {key} cannot be set")
    load_config(path)  # refuse to edit a file that is invalid already
    text = path.read_text(encoding="utf-8-sig")
    targets = {key: value} if isinstance(value, str) else {key: "True" if value else "False"}
    if isinstance(value, bool) and key in _INVERSE_SPELLING:
        targets[_INVERSE_SPELLING[key]] = "False" if value else "True"
    text, found = set_keys(text, section, targets, add_missing=False)
    if not found:
        text, _ = set_keys(text, section, {key: targets[key]})
    write_atomically(path, text)
    return load_config(path)
