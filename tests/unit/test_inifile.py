"""Setting keys of an INI file without touching its comments, layout or other sections."""

from __future__ import annotations

from s32s.inifile import set_keys


def test_new_section_is_appended_after_a_blank_line() -> None:
    text = "# mine\n[default]\nregion = eu-west-1\n\n\n"
    assert set_keys(text, "profile x", {"region": "snow"})[0] == (
        "# mine\n[default]\nregion = eu-west-1\n\n[profile x]\nregion = snow\n"
    )
    assert set_keys("", "x", {"a": "1"})[0] == "[x]\na = 1\n"


def test_existing_section_is_updated_in_place() -> None:
    text = (
        "[a]\nk = 1\n\n"
        "[ profile  x ]  ; comment\nregion = us-east-1\n# keep me\nca_bundle = /c.pem\n\n"
        "[b]\nk = 2\n"
    )
    updated, found = set_keys(text, "profile x", {"region": "snow", "output": "json"})
    assert found == {"region"}
    assert updated == (
        "[a]\nk = 1\n\n"
        "[ profile  x ]  ; comment\nregion = snow\n# keep me\nca_bundle = /c.pem\noutput = json\n\n"
        "[b]\nk = 2\n"
    )


def test_keys_keep_their_spelling_indentation_and_separator() -> None:
    text = "[MAIN]\n; comment\n  IsMaster   :  False\nnotify =\n"
    updated, found = set_keys(text, "MAIN", {"ismaster": "True"}, add_missing=False)
    assert updated == "[MAIN]\n; comment\n  IsMaster   :  True\nnotify =\n"
    assert found == {"ismaster"}


def test_without_add_missing_nothing_is_added() -> None:
    text = "[MAIN]\nnotify =\n"
    assert set_keys(text, "MAIN", {"ismaster": "True"}, add_missing=False) == (text, set())
    assert set_keys(text, "OTHER", {"k": "v"}, add_missing=False) == (text, set())
