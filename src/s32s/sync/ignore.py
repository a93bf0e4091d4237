"""Ignore rules of path maps (DESIGN §2).

A rule is matched against the path relative to the map root, written with `/`
(`spam/dir/picture.jpg`). `*` matches any run of characters, `/` included; no
other character is special. So `string*` means "starts with", `*string` "ends
with", `*string*` "contains", and a rule with no `*` must equal the path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


@lru_cache(maxsize=4096)
def _compile(rule: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in rule.split("*")), re.DOTALL)


def rule_matches(rule: str, path: str) -> bool:
    """True when `path` (relative, `/`-separated) is matched by one ignore `rule`."""
    return _compile(rule).fullmatch(path) is not None


class IgnoreRules:
    """A compiled set of ignore rules."""

    def __init__(self, rules: Iterable[str] = ()) -> None:
        self.rules = tuple(rules)
        pattern = "|".join(f"(?:{_compile(rule).pattern})" for rule in self.rules)
        self._regex = re.compile(pattern, re.DOTALL) if self.rules else None

    def __bool__(self) -> bool:
        return bool(self.rules)

    def matches(self, path: str) -> bool:
        return self._regex is not None and self._regex.fullmatch(path) is not None


class SelectedRules(IgnoreRules):
    """Ignore rules and include rules together: a path is skipped when an ignore rule
    matches it or, when include rules are given, none of them does (restore's `--include`)."""

    def __init__(self, ignore: Iterable[str] = (), include: Iterable[str] = ()) -> None:
        super().__init__(ignore)
        self.include = IgnoreRules(include)

    def __bool__(self) -> bool:
        return bool(self.rules) or bool(self.include)

    def matches(self, path: str) -> bool:
        if super().matches(path):
            return True
        return bool(self.include) and not self.include.matches(path)
