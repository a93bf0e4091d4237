"""Reading the YAML files s32s takes: transfer configs, DataSync pipelines, Snowball folders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s32s.errors import ConfigError


def read_yaml(
    path: Path,
    *,
    label: str = "",
    hint: str | None = None,
    error: type[ConfigError] = ConfigError,
) -> Any:
    """The parsed document; a missing, unreadable or invalid file is one clear `error`.

    Of the parser's message only the line and column are kept: its text can
    quote the file (an unknown alias, its context), which may hold secrets.
    """
    import yaml

    name = f"{label} {path}".strip()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise error(f"{name} does not exist.", hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{name} cannot be read: {exc}.", hint) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise error(f"{path} is not valid YAML{where}.", hint) from None
