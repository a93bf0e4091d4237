"""`s32s produce` as a user types it: folder, S3 over HTTP, bad input, Ctrl-C."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.helpers import s32s_executable

FAST = ("--interval", "0", "--size", "64x48")


def jpeg_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix == ".jpg")


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_writes_distinct_jpegs_with_one_line_each(cli, tmp_path: Path) -> None:
    root = tmp_path / "share"
    result = cli(
        "produce", "--root", str(root), "--count", "3", "--size", "200x100", "--interval", "0"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    names = jpeg_names(root)
    assert names == ["img_00000.jpg", "img_00001.jpg", "img_00002.jpg"]
    assert sorted(p.name for p in root.iterdir()) == names  # no temporary file left
    contents = [(root / n).read_bytes() for n in names]
    assert all(decode(data).size == (200, 100) for data in contents)
    assert len({hashlib.sha256(data).hexdigest() for data in contents}) == 3
    lines = [line for line in result.stderr.splitlines() if line.startswith("img_")]
    assert [line.split()[0] for line in lines] == names
    assert str(root / "img_00002.jpg") in lines[-1]
    assert "Produced 3 images." in result.stderr


def test_numbering_continues_across_runs_and_json_lists_files(cli, tmp_path: Path) -> None:
    assert cli("produce", "--root", str(tmp_path), "--count", "2", *FAST).exit_code == 0
    result = cli("--json", "produce", "--root", str(tmp_path), "--count", "2", *FAST)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document = result.json
    assert document["produced"] == 2 and document["failed"] == 0
    assert document["interrupted"] is False
    assert [i["name"] for i in document["images"]] == ["img_00002.jpg", "img_00003.jpg"]
    assert document["images"][0]["path"] == str(tmp_path / "img_00002.jpg")
    assert document["images"][0]["timestamp"].endswith("Z")
    assert jpeg_names(tmp_path) == [f"img_{n:05d}.jpg" for n in range(4)]


def test_explicit_start_and_prefix(cli, tmp_path: Path) -> None:
    result = cli(
        "produce",
        "--root",
        str(tmp_path),
        "--count",
        "2",
        "--start",
        "100",
        "--prefix",
        "cam-",
        *FAST,
    )
    assert result.exit_code == 0, result.output
    assert jpeg_names(tmp_path) == ["cam-00100.jpg", "cam-00101.jpg"]
    clash = cli(
        "produce",
        "--root",
        str(tmp_path),
        "--count",
        "1",
        "--start",
        "101",
        "--prefix",
        "cam-",
        *FAST,
    )
    assert clash.exit_code == 2
    assert "--start 101 would overwrite existing images" in clash.stderr
    assert jpeg_names(tmp_path) == ["cam-00100.jpg", "cam-00101.jpg"]


def test_quiet_prints_nothing(cli, tmp_path: Path) -> None:
    result = cli("-q", "produce", "--root", str(tmp_path), "--count", "2", *FAST)
    assert result.exit_code == 0
    assert result.output == ""
    assert len(jpeg_names(tmp_path)) == 2


def test_live_display_on_a_terminal(cli, tmp_path: Path, monkeypatch) -> None:
    from rich.console import Console

    from s32s.cli import produce

    terminal = Console(file=io.StringIO(), force_terminal=True, width=120, color_system=None)
    monkeypatch.setattr(produce, "_console", lambda: terminal)
    result = cli("produce", "--root", str(tmp_path), "--count", "3", *FAST)
    assert result.exit_code == 0, result.output
    shown = terminal.file.getvalue()
    assert "3/3" in shown
    assert "img_00002.jpg" in shown
    assert "━" in shown  # a progress bar, since --count is known
    assert not any(line.startswith("img_") for line in result.stderr.splitlines())


# --- S3 over HTTP ----------------------------------------------------------------


def test_upload_only_to_moto_over_http(cli, s3_http, moto_server, tmp_path: Path) -> None:
    s3_http.create_bucket(Bucket="bkt")
    base = ("--endpoint-url", moto_server.url)
    first = cli(*base, "produce", "--to", "s3://bkt/cams", "--count", "2", *FAST)
    assert first.exit_code == 0, first.output
    assert "s3://bkt/cams/img_00001.jpg" in first.stderr
    second = cli(*base, "--json", "produce", "--to", "s3://bkt/cams/", "--count", "1", *FAST)
    assert second.exit_code == 0, second.output
    assert second.json["images"][0]["s3"] == "s3://bkt/cams/img_00002.jpg"
    assert second.json["root"] is None
    listing = s3_http.list_objects_v2(Bucket="bkt")
    keys = [item["Key"] for item in listing["Contents"]]
    assert keys == ["cams/img_00000.jpg", "cams/img_00001.jpg", "cams/img_00002.jpg"]
    bodies = [s3_http.get_object(Bucket="bkt", Key=k)["Body"].read() for k in keys]
    assert all(decode(body).size == (64, 48) for body in bodies)
    assert len(set(bodies)) == 3
    assert list(tmp_path.iterdir()) == []  # nothing local without --root


def test_upload_and_keep_the_folder(cli, s3_http, moto_server, tmp_path: Path) -> None:
    s3_http.create_bucket(Bucket="bkt")
    result = cli(
        "--endpoint-url", moto_server.url, "produce",
        "--root", str(tmp_path), "--to", "s3://bkt", "--count", "2", *FAST,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert jpeg_names(tmp_path) == ["img_00000.jpg", "img_00001.jpg"]
    for name in jpeg_names(tmp_path):
        remote = s3_http.get_object(Bucket="bkt", Key=name)["Body"].read()
        assert remote == (tmp_path / name).read_bytes()


def test_missing_bucket_is_exit_2_before_writing(cli, moto_server, tmp_path: Path) -> None:
    result = cli(
        "--endpoint-url", moto_server.url, "produce",
        "--root", str(tmp_path), "--to", "s3://no-such-bucket/x", "--count", "1", *FAST,
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no-such-bucket" in result.stderr and "does not exist" in result.stderr
    assert "Traceback" not in result.output
    assert jpeg_names(tmp_path) == []


# --- bad input -------------------------------------------------------------------


def test_root_that_is_a_file(cli, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("x")
    result = cli("produce", "--root", str(target), "--count", "1", *FAST)
    assert result.exit_code == 2
    assert "is a file, not a folder" in result.stderr
    assert target.read_text() == "x"


def test_root_below_a_file(cli, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    result = cli("produce", "--root", str(tmp_path / "notes.txt" / "images"), "--count", "1")
    assert result.exit_code == 2
    assert "Cannot create the folder" in result.stderr


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0,
    reason="needs POSIX permissions and a non-root user",
)
def test_root_that_cannot_be_written(cli, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        result = cli("produce", "--root", str(locked), "--count", "1")
    finally:
        locked.chmod(0o700)
    assert result.exit_code == 2
    assert "Cannot write in" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--size", "640"), "is not WIDTHxHEIGHT"),
        (("--size", "10x10"), "between 32 and 8192"),
        (("--quality", "0"), "--quality"),
        (("--quality", "101"), "--quality"),
        (("--interval", "-1"), "--interval"),
        (("--interval", "soon"), "--interval"),
        (("--count", "0"), "--count"),
        (("--start", "first"), "neither `auto` nor a whole number"),
        (("--start", "-3"), "neither `auto` nor a whole number"),
        (("--prefix", "a/b"), "contains '/'"),
        (("--prefix", ".img"), "starts with a dot"),
        (("--to", "bucket/prefix"), "is not an S3 URL"),
        (("--to", "s3://"), "does not name a bucket"),
    ],
)
def test_invalid_options_are_usage_errors(
    cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = cli("produce", "--root", str(tmp_path), "--count", "1", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_needs_a_root_or_a_target(cli) -> None:
    result = cli("produce", "--count", "1")
    assert result.exit_code == 2
    assert "Give --root DIR, --to s3://bucket/prefix, or both." in result.stderr


def test_every_option_has_help(cli) -> None:
    result = cli("produce", "--help")
    assert result.exit_code == 0
    for option in (
        "--root",
        "--to",
        "--interval",
        "--count",
        "--start",
        "--prefix",
        "--size",
        "--quality",
    ):
        line = next(line for line in result.stdout.splitlines() if line.strip().startswith(option))
        assert len(line.split(maxsplit=2)) == 3, line  # option, metavar, help text


# --- Ctrl-C ------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT delivery to a child is POSIX-only")
def test_ctrl_c_stops_cleanly_after_the_current_image(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [s32s_executable(), "--json", "produce", "--root", str(tmp_path), "--interval", "0.05"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while len(jpeg_names(tmp_path)) < 3:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no images were produced"
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    document = json.loads(stdout)
    assert document["interrupted"] is True
    names = jpeg_names(tmp_path)
    assert [i["name"] for i in document["images"]] == names
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary file left
    for name in names:
        decode((tmp_path / name).read_bytes())
