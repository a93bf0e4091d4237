"""Changing keys of an INI file in place: s32s.ini and the AWS shared config and credentials files.

configparser drops comments and blank lines when it writes; users edit these
files by hand, so s32s changes only the lines of the keys it sets (keeping
each line's indentation and separator) and adds the missing ones after the
last line of their section, like `aws configure set`. Everything else stays
as it was.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:[;#].*)?$")
_KEY = re.compile(r"^(\s*)([^=:;#\s\[][^=:]*?)(\s*[=:]\s*)")


def _same_header(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def set_keys(
    text: str, section: str, values: dict[str, str], *, add_missing: bool = True
) -> tuple[str, set[str]]:
    """`text` with `values` set in `[section]`, and the keys that were there already.

    Keys match case-insensitively, as configparser reads them. With
    `add_missing`, keys not found are added (and the section too, at the end).
    """
    lines = text.splitlines()
    wanted = {key.lower(): (key, value) for key, value in values.items()}
    start = next(
        (
            index
            for index, line in enumerate(lines)
            if (header := _HEADER.match(line)) and _same_header(header.group(1), section)
        ),
        None,
    )
    if start is None:
        if not add_missing:
            return text, set()
        while lines and not lines[-1].strip():
            lines.pop()
        block = [f"[{section}]", *(f"{key} = {value}" for key, value in values.items())]
        return "\n".join([*lines, *([""] if lines else []), *block]) + "\n", set()
    end = next(
        (index for index in range(start + 1, len(lines)) if _HEADER.match(lines[index])),
        len(lines),
    )
    body = lines[start + 1 : end]
    found: set[str] = set()
    for index, line in enumerate(body):
        match = _KEY.match(line)
        if match and match.group(2).lower() in wanted:
            key, value = wanted[match.group(2).lower()]
            body[index] = f"{match.group(1)}{match.group(2)}{match.group(3)}{value}"
            found.add(key)
    if add_missing:
        last = len(body)
        while last > 0 and not body[last - 1].strip():
            last -= 1
        body[last:last] = [f"{key} = {value}" for key, value in values.items() if key not in found]
    return "\n".join([*lines[: start + 1], *body, *lines[end:]]) + "\n", found
