"""The snowballEdge wrapper: finding the client, parsing its output, masking secrets."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from s32s.errors import ExternalToolError
from s32s.snowball.client import (
    ClientAuth,
    SnowballClient,
    find_client,
    parse_json_output,
    parse_secret_block,
    redact,
)
from tests.snowball_fake import (
    ACCESS_KEY,
    ENDPOINT,
    SECRET_KEY,
    UNLOCK_CODE,
    FakeSnowball,
    activate_fake,
    install_fake,
    make_folder,
)


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}\n")
    path.chmod(0o755)
    return path


def test_find_client_prefers_option_then_env_then_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bin").mkdir()
    on_path = _script(tmp_path / "bin" / "snowballEdge", "")
    from_env = _script(tmp_path / "env-client", "")
    explicit = _script(tmp_path / "explicit-client", "")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.delenv("S32S_SNOWBALL_CLIENT", raising=False)
    assert find_client() == on_path
    monkeypatch.setenv("S32S_SNOWBALL_CLIENT", str(from_env))
    assert find_client() == from_env
    assert find_client(str(explicit)) == explicit


def test_missing_client_says_where_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("S32S_SNOWBALL_CLIENT", raising=False)
    with pytest.raises(ExternalToolError, match="not found on PATH") as info:
        find_client()
    assert "aws.amazon.com/snowball" in (info.value.hint or "")
    with pytest.raises(ExternalToolError, match=r"given by \$S32S_SNOWBALL_CLIENT"):
        monkeypatch.setenv("S32S_SNOWBALL_CLIENT", str(tmp_path / "missing"))
        find_client()


def test_redact() -> None:
    assert redact("code abc and abc", ["abc", ""]) == "code **** and ****"


def test_json_after_a_notice_line() -> None:
    assert parse_json_output('Notice: new version\n{\n  "A" : [ 1 ]\n}\n', "x") == {"A": [1]}
    with pytest.raises(ExternalToolError, match="did not print the JSON document"):
        parse_json_output("Rebooting device now.", "describe-device")


def test_secret_block() -> None:
    block = (
        f"[snowballEdge]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    assert parse_secret_block(block, ACCESS_KEY) == SECRET_KEY
    with pytest.raises(ExternalToolError, match="answered for access key") as info:
        parse_secret_block(block, "AKIAOTHER")
    assert SECRET_KEY not in str(info.value)
    with pytest.raises(ExternalToolError, match="no aws_secret_access_key line"):
        parse_secret_block("[snowballEdge]\n", ACCESS_KEY)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSnowball:
    return activate_fake(tmp_path, monkeypatch)


def test_client_error_is_shown_without_the_unlock_code(tmp_path: Path, fake: FakeSnowball) -> None:
    fake.set(unlock_code="00000-00000-00000-00000-00000")
    folder = make_folder(tmp_path)
    client = SnowballClient(fake.executable)
    auth = ClientAuth.inline(next(folder.glob("*manifest.bin")), UNLOCK_CODE, ENDPOINT)
    with pytest.raises(ExternalToolError) as info:
        client.describe_device(auth)
    message = str(info.value)
    assert "`snowballEdge describe-device` failed (exit 1)" in message
    assert "Authentication failed: the unlock code **** does not match" in message
    assert UNLOCK_CODE not in message
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_timeout_does_not_leak_the_command_line(tmp_path: Path) -> None:
    slow = _script(tmp_path / "snowballEdge", "import time; time.sleep(10)")
    client = SnowballClient(slow, command_timeout=0.3)
    auth = ClientAuth.inline(tmp_path / "m-manifest.bin", UNLOCK_CODE, ENDPOINT)
    with pytest.raises(ExternalToolError, match=r"describe-device` did not answer within 0.3 s"):
        client.describe_device(auth)


def test_unexecutable_client(tmp_path: Path) -> None:
    plain = tmp_path / "snowballEdge"
    plain.write_text("")
    with pytest.raises(ExternalToolError, match="not an executable file"):
        find_client(str(plain))


def test_configure_answers_prompts_on_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = install_fake(tmp_path / "c")
    monkeypatch.setenv("FAKE_SNOWBALL_STATE", str(fake.state_file))
    manifest = next(make_folder(tmp_path).glob("*manifest.bin"))
    result = SnowballClient(fake.executable).configure(manifest, UNLOCK_CODE, ENDPOINT, profile="p")
    assert "Default Endpoint:" in result.stdout
    assert fake.calls() == [["configure", "--profile", "p"]]


def test_configure_with_unexpected_prompts(tmp_path: Path) -> None:
    other = _script(tmp_path / "snowballEdge", "print('Region: ')")
    with pytest.raises(ExternalToolError, match="did not ask for Snowball Edge Manifest Path"):
        SnowballClient(other).configure(tmp_path / "m", UNLOCK_CODE, ENDPOINT)
