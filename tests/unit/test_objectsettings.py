"""Object settings: Content-Type guesses, validation, merging, SSE-C key files, secrets kept out of logs."""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.sync.objectsettings import (
    ObjectSettings,
    guess_content_type,
    load_sse_c_key,
    settings_from_keys,
)

KEY = bytes(range(32))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html"),
        ("site/app.JS", "text/javascript"),
        ("style.css", "text/css"),
        ("img/photo.jpg", "image/jpeg"),
        ("logo.svg", "image/svg+xml"),
        ("font.woff2", "font/woff2"),
        ("pic.webp", "image/webp"),
        ("data.json", "application/json"),
        ("doc.pdf", "application/pdf"),
        ("archive.tar.gz", "application/gzip"),
        ("README", None),
        ("dir.d/noext", None),
        ("file.unknown-extension", None),
    ],
)
def test_content_type_from_the_file_name(name: str, expected: str | None) -> None:
    assert guess_content_type(name) == expected


def test_write_arguments_carry_every_setting() -> None:
    settings = ObjectSettings(storage_class="standard_ia", sse="AWS:KMS", sse_kms_key_id="alias/k")
    assert settings.write_args("a/b.html") == {
        "ContentType": "text/html",
        "StorageClass": "STANDARD_IA",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/k",
    }
    assert settings.sse_c_args() == {}
    assert settings.marker_args() == {
        "StorageClass": "STANDARD_IA",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/k",
    }


def test_the_source_content_type_wins_and_guessing_can_be_off() -> None:
    assert ObjectSettings().write_args("x.html", "text/plain") == {"ContentType": "text/plain"}
    assert ObjectSettings(guess_content_type=False).write_args("x.html") == {}
    assert ObjectSettings().write_args("x.html", "") == {}  # the source had none: none is kept


def test_sse_c_goes_on_reads_writes_parts_and_copies() -> None:
    settings = ObjectSettings(sse_c_key=KEY)
    reading = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}
    source = {"CopySourceSSECustomerAlgorithm": "AES256", "CopySourceSSECustomerKey": KEY}
    assert settings.sse_c_args() == reading
    assert settings.write_args("k") == reading
    assert settings.copy_args(settings) == reading | source
    assert settings.part_copy_args(settings) == reading | source
    assert ObjectSettings().copy_args(settings) == source  # into a bucket without SSE-C
    assert settings.copy_args(ObjectSettings()) == reading


def test_the_key_never_shows_in_repr() -> None:
    text = repr(ObjectSettings(sse_c_key=KEY))
    assert KEY.hex() not in text and base64.b64encode(KEY).decode() not in text
    assert str(KEY) not in text and "ObjectSettings(" in text


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        ({"storage_class": "COLD"}, "not an S3 storage class"),
        ({"sse": "aes128"}, "not a server-side encryption"),
        ({"sse_kms_key_id": "alias/k"}, "needs --sse aws:kms"),
        ({"sse": "AES256", "sse_kms_key_id": "alias/k"}, "needs --sse aws:kms"),
        ({"sse": "AES256", "sse_c_key": KEY}, "cannot be used together"),
        ({"sse_c_key": b"short"}, "32 bytes"),
    ],
)
def test_bad_settings_are_refused(arguments: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ObjectSettings(**arguments)  # type: ignore[arg-type]
    assert fragment in caught.value.message


def test_flags_override_a_maps_settings_and_encryption_is_one_choice() -> None:
    mapped = ObjectSettings(storage_class="GLACIER_IR", sse="aws:kms", sse_kms_key_id="alias/map")
    assert mapped.overridden_by(ObjectSettings()) == mapped
    assert (
        mapped.overridden_by(ObjectSettings(storage_class="STANDARD")).storage_class == "STANDARD"
    )
    switched = mapped.overridden_by(ObjectSettings(sse="AES256"))
    assert (switched.sse, switched.sse_kms_key_id, switched.storage_class) == (
        "AES256",
        None,
        "GLACIER_IR",
    )
    customer = mapped.overridden_by(ObjectSettings(sse_c_key=KEY))
    assert (customer.sse, customer.sse_c_key) == (None, KEY)
    assert not mapped.overridden_by(ObjectSettings(guess_content_type=False)).guess_content_type


def test_etags_are_md5_only_without_kms_or_customer_keys() -> None:
    assert ObjectSettings(sse="AES256").etags_are_content_md5
    assert not ObjectSettings(sse="aws:kms").etags_are_content_md5
    assert not ObjectSettings(sse_c_key=KEY).etags_are_content_md5


def test_map_keys_name_the_map_in_errors() -> None:
    settings = settings_from_keys(
        {"storage_class": "onezone_ia", "sse": "AES256"}, "maps.json: map #0"
    )
    assert (settings.storage_class, settings.sse) == ("ONEZONE_IA", "AES256")
    with pytest.raises(ConfigError) as caught:
        settings_from_keys({"storage_class": "COLD"}, "maps.json: map #0 'site'")
    assert caught.value.message.startswith("maps.json: map #0 'site': key 'storage_class'")
    with pytest.raises(ConfigError, match="non-empty string"):
        settings_from_keys({"sse": 3}, "maps.json: map #0")
    with pytest.raises(ConfigError, match=r"maps\.json: map #1: .*needs --sse aws:kms"):
        settings_from_keys({"sse_kms_key_id": "k"}, "maps.json: map #1")


@pytest.mark.parametrize(
    "content",
    [KEY, base64.b64encode(KEY) + b"\n", KEY.hex().encode() + b"\n", KEY.hex().upper().encode()],
)
def test_key_files_hold_raw_base64_or_hex_keys(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    path.chmod(0o600)
    assert load_sse_c_key(path) == KEY


@pytest.mark.parametrize("content", [b"", b"too short", base64.b64encode(b"x" * 16), b"z" * 64])
def test_a_bad_key_file_is_refused_without_quoting_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "key"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_sse_c_key(path)
    assert "does not hold a 256-bit key" in caught.value.message
    if content:
        assert content.decode(errors="replace") not in str(caught.value)


def test_a_missing_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_sse_c_key(tmp_path / "absent")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_key_file_others_can_read_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "key"
    path.write_bytes(KEY)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="s32s"):
        assert load_sse_c_key(path) == KEY
    assert "chmod 600" in caplog.text


def test_botocore_debug_logs_never_show_the_key(
    moto_server: object, caplog: pytest.LogCaptureFixture
) -> None:
    """A PUT with SSE-C over HTTP, logged by botocore at DEBUG, carries the key only as ***."""
    import boto3

    settings = ObjectSettings(sse_c_key=KEY)
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server.url)  # type: ignore[attr-defined]
    client.create_bucket(Bucket="bkt")
    with caplog.at_level(logging.DEBUG, logger="botocore"):
        client.put_object(Bucket="bkt", Key="k", Body=b"x", **settings.write_args("k"))
    assert "x-amz-server-side-encryption-customer-key" in caplog.text  # the header was logged
    encoded = base64.b64encode(KEY).decode()
    assert encoded not in caplog.text and str(KEY) not in caplog.text
    assert "***" in caplog.text
