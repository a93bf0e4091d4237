from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s32s.sync.ignore import IgnoreRules, rule_matches

CASES = [
    ("spam/dir/picture.jpg", "spam/dir/picture.jpg", True),
    ("spam/dir/picture.jpg", "spam/dir/picture.jpeg", False),
    ("picture.jpg", "spam/dir/picture.jpg", False),  # equals means the whole relative path
    ("spam*", "spam/dir/picture.jpg", True),  # starts with; * crosses /
    ("spam*", "eggs/spam", False),
    ("*.jpg", "spam/dir/picture.jpg", True),  # ends with
    ("*.jpg", "spam/dir/picture.jpg.bak", False),
    ("*dir*", "spam/dir/picture.jpg", True),  # contains
    ("*dir*", "spam/picture.jpg", False),
    ("a*b*c", "axxbyyc", True),
    ("a*b*c", "acb", False),
    ("*", "", True),
    ("", "", True),
    ("", "a", False),
    ("file?.txt", "file1.txt", False),  # ? is not special
    ("file?.txt", "file?.txt", True),
    ("[ab].txt", "a.txt", False),  # brackets are not special
    ("[ab].txt", "[ab].txt", True),
    ("a.c", "abc", False),  # . is not special
    ("**", "x/y/z", True),
    ("spam/*", "spam/", True),
    ("/spam/*", "spam/x", False),
]


@pytest.mark.parametrize(("rule", "path", "expected"), CASES)
def test_rule_matches(rule: str, path: str, expected: bool) -> None:
    assert rule_matches(rule, path) is expected


def reference(rule: str, path: str) -> bool:
    """Plain definition: the parts between `*` appear in order, anchored at both ends."""
    parts = rule.split("*")
    if len(parts) == 1:
        return rule == path
    first, *middle, last = parts
    if not path.startswith(first):
        return False
    position = len(first)
    for part in middle:
        found = path.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return len(path) - position >= len(last) and path.endswith(last)


alphabet = st.sampled_from(list("ab/.*?[]\\\n"))
paths = st.text(alphabet=st.sampled_from(list("ab/.?[]\\\n")), max_size=12)
rules = st.text(alphabet=alphabet, max_size=8)


@given(rules, paths)
def test_matches_reference_definition(rule: str, path: str) -> None:
    assert rule_matches(rule, path) is reference(rule, path)


@given(st.lists(rules, max_size=4), paths)
def test_rule_set_is_any_of_its_rules(rule_list: list[str], path: str) -> None:
    assert IgnoreRules(rule_list).matches(path) is any(rule_matches(r, path) for r in rule_list)


@given(paths)
def test_rule_without_star_is_equality(path: str) -> None:
    literal = path.replace("*", "")
    assert rule_matches(literal, literal)
    assert not rule_matches(literal, literal + "x")


def test_empty_rule_set_matches_nothing() -> None:
    rules = IgnoreRules([])
    assert not rules
    assert not rules.matches("")
    assert not rules.matches("anything")
