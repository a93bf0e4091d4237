"""The image producer as a library: drawing, numbering, atomic writes, stop, S3 upload."""

from __future__ import annotations

import hashlib
import io
import os
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import Image

from s32s import atomicfile
from s32s.errors import AwsError, ConfigError
from s32s.images import producer as producer_module
from s32s.images.producer import (
    Producer,
    ProducerSettings,
    first_index,
    image_name,
    indices_in_names,
    parse_size,
    prepare_root,
    render_jpeg,
    write_atomic,
)
from s32s.paths import S3Url

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)


class FakeClock:
    """Advances one second per call; records nothing else."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(seconds=1)
        return current


def make_producer(tmp_path: Path, **settings: object) -> tuple[Producer, list[float]]:
    pauses: list[float] = []
    options = {"root": tmp_path, "interval": 0.0, "size": (64, 48), **settings}
    producer = Producer(ProducerSettings(**options), clock=FakeClock(), sleep=pauses.append)
    return producer, pauses


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- drawing -------------------------------------------------------------------


def test_render_gives_a_jpeg_of_the_asked_size() -> None:
    image = open_jpeg(render_jpeg(7, T0, (320, 200), 70))
    assert image.format == "JPEG"
    assert image.size == (320, 200)


def test_images_differ_in_pixels_not_only_in_bytes() -> None:
    first = open_jpeg(render_jpeg(1, T0, (160, 120)))
    second = open_jpeg(render_jpeg(2, T0, (160, 120)))
    assert first.tobytes() != second.tobytes()


def test_the_timestamp_is_drawn() -> None:
    # Same number, different time: only the caption can tell them apart.
    early = open_jpeg(render_jpeg(3, T0, (320, 240)))
    late = open_jpeg(render_jpeg(3, T0 + timedelta(hours=5), (320, 240)))
    assert early.tobytes() != late.tobytes()


def test_quality_changes_the_file_size() -> None:
    assert len(render_jpeg(1, T0, (320, 240), 20)) < len(render_jpeg(1, T0, (320, 240), 95))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("640x480", (640, 480)), (" 32 X 32 ", (32, 32)), ("8192x64", (8192, 64))],
)
def test_parse_size(text: str, expected: tuple[int, int]) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["640", "640x", "x480", "0x480", "31x480", "640x9000", "a x b"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


# --- numbering -----------------------------------------------------------------


def test_names_are_zero_padded_and_grow_past_five_digits() -> None:
    assert image_name("img_", 42) == "img_00042.jpg"
    assert image_name("cam-", 123456) == "cam-123456.jpg"


def test_only_matching_names_count() -> None:
    names = [
        "img_00003.jpg",
        "img_00010.jpg",
        "img_123456.jpg",
        "img_00099.jpg.tmp",
        ".img_00500.jpg.ab12cd34.tmp",
        "img_abc.jpg",
        "other_00700.jpg",
        "img_00800.jpeg",
    ]
    assert indices_in_names(names, "img_") == {3, 10, 123456}


def test_prefix_special_characters_are_literal() -> None:
    assert indices_in_names(["a.b00001.jpg", "axb00002.jpg"], "a.b") == {1}


def test_first_index_continues_after_highest() -> None:
    assert first_index(set(), None, None, "here") == 0
    assert first_index({0, 1, 7}, None, None, "here") == 8


def test_explicit_start_that_overwrites_is_refused() -> None:
    assert first_index({0, 1, 2}, 3, None, "here") == 3
    assert first_index({0, 10}, 5, 5, "here") == 5  # 5..9 are free
    with pytest.raises(ConfigError, match="number 10"):
        first_index({0, 10}, 5, 6, "here")
    with pytest.raises(ConfigError, match="--start auto"):
        first_index({0, 10}, 5, None, "here")


def test_numbering_continues_across_runs(tmp_path: Path) -> None:
    first, _ = make_producer(tmp_path, count=3)
    assert [i.name for i in first.run().images] == [
        "img_00000.jpg",
        "img_00001.jpg",
        "img_00002.jpg",
    ]
    (tmp_path / "img_00041.jpg").write_bytes(render_jpeg(41, T0, (64, 48)))
    second, _ = make_producer(tmp_path, count=2)
    assert [i.index for i in second.run().images] == [42, 43]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "img_00000.jpg",
        "img_00001.jpg",
        "img_00002.jpg",
        "img_00041.jpg",
        "img_00042.jpg",
        "img_00043.jpg",
    ]


def test_prefixes_number_independently(tmp_path: Path) -> None:
    make_producer(tmp_path, count=2)[0].run()
    run = make_producer(tmp_path, count=1, prefix="cam_")[0].run()
    assert [i.name for i in run.images] == ["cam_00000.jpg"]


# --- a run ---------------------------------------------------------------------


def test_run_writes_distinct_readable_jpegs_with_pauses_between(tmp_path: Path) -> None:
    producer, pauses = make_producer(tmp_path, count=4, interval=2.5)
    run = producer.run()
    assert not run.stopped and not run.failed
    digests = set()
    for image in run.images:
        assert image.path == tmp_path / image.name
        data = image.path.read_bytes()
        assert open_jpeg(data).size == (64, 48)
        assert image.size == len(data)
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == 4
    assert pauses == [2.5, 2.5, 2.5]  # none after the last image
    assert [i.timestamp for i in run.images] == [T0 + timedelta(seconds=n) for n in range(4)]


def test_stop_finishes_the_current_image_then_ends(tmp_path: Path) -> None:
    stop = threading.Event()
    calls = 0

    def clock() -> datetime:
        nonlocal calls
        calls += 1
        if calls == 2:  # Ctrl-C while the second image is being made
            stop.set()
        return T0

    pauses: list[float] = []
    settings = ProducerSettings(root=tmp_path, interval=1.0, size=(64, 48))
    run = Producer(settings, stop=stop, clock=clock, sleep=pauses.append).run()
    assert run.stopped
    assert [i.name for i in run.images] == ["img_00000.jpg", "img_00001.jpg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img_00000.jpg", "img_00001.jpg"]
    open_jpeg((tmp_path / "img_00001.jpg").read_bytes())
    assert pauses == [1.0]  # no pause after the stop request


def test_default_pause_is_cut_short_by_stop(tmp_path: Path) -> None:
    settings = ProducerSettings(root=tmp_path, interval=60.0, size=(64, 48))
    producer = Producer(settings, clock=FakeClock())
    timer = threading.Timer(0.2, producer.stop.set)
    timer.start()
    try:
        run = producer.run()
    finally:
        timer.cancel()
    assert run.stopped
    assert len(run.images) == 1


def test_settings_need_a_destination() -> None:
    with pytest.raises(ConfigError, match="--root DIR, --to"):
        ProducerSettings()


@pytest.mark.parametrize("prefix", ["a/b", "a\\b", ".hidden", "c:", "x*"])
def test_settings_reject_prefixes_that_are_not_file_names(prefix: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ProducerSettings(root=tmp_path, prefix=prefix)


def test_a_write_failure_is_reported_and_the_run_goes_on(tmp_path: Path, monkeypatch) -> None:
    real = producer_module.write_atomic

    def flaky(path: Path, data: bytes) -> None:
        if path.name == "img_00001.jpg":
            raise OSError(28, "No space left on device")
        real(path, data)

    monkeypatch.setattr(producer_module, "write_atomic", flaky)
    run = make_producer(tmp_path, count=3)[0].run()
    assert [i.error is None for i in run.images] == [True, False, True]
    assert "No space left on device" in (run.failed[0].error or "")
    assert run.failed[0].path is None


# --- atomic writes -------------------------------------------------------------


def test_write_atomic_renames_a_complete_hidden_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "img_00000.jpg"
    data = render_jpeg(0, T0, (64, 48))
    seen: list[tuple[str, bytes, bool]] = []
    real_replace = os.replace

    def spy(source: os.PathLike[str], destination: os.PathLike[str]) -> None:
        source_path = Path(source)
        seen.append((source_path.name, source_path.read_bytes(), Path(destination).exists()))
        real_replace(source, destination)

    monkeypatch.setattr(atomicfile.os, "replace", spy)
    write_atomic(target, data)
    [(tmp_name, tmp_bytes, existed)] = seen
    assert tmp_name.startswith(".img_00000.jpg.") and tmp_name.endswith(".s32s-tmp")
    assert indices_in_names([tmp_name], "img_") == set()
    assert tmp_bytes == data  # complete before the rename
    assert not existed  # the final name did not exist until the rename
    assert [p.name for p in tmp_path.iterdir()] == ["img_00000.jpg"]
    assert target.read_bytes() == data


def test_write_atomic_cleans_up_when_interrupted(tmp_path: Path, monkeypatch) -> None:
    def interrupted(source: object, destination: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomicfile.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "img_00000.jpg", b"data")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_written_images_follow_the_umask_not_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "img_00000.jpg", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "img_00000.jpg").stat().st_mode & 0o777 == 0o644


def test_concurrent_reader_never_opens_a_partial_image(tmp_path: Path, monkeypatch) -> None:
    """A thread polls the folder like a watcher and reads every image it finds.

    Each image is padded to several megabytes (JPEG readers ignore bytes after
    the end marker) and ends with a known trailer, so a file caught while
    still being written under its final name would show up as truncated.
    """
    trailer = b"--complete--"
    real_render = producer_module.render_jpeg

    def big_render(*args: object) -> bytes:
        return real_render(*args) + bytes(4 * 1024 * 1024) + trailer

    monkeypatch.setattr(producer_module, "render_jpeg", big_render)
    done = threading.Event()
    opened: set[str] = set()
    problems: list[str] = []

    def reader() -> None:
        while True:
            finished = done.is_set()
            for entry in os.scandir(tmp_path):
                if not entry.name.endswith(".jpg") or entry.name in opened:
                    continue
                data = Path(entry.path).read_bytes()
                if not data.endswith(trailer):
                    problems.append(f"{entry.name}: partial, {len(data)} bytes")
                    continue
                try:
                    open_jpeg(data)
                except Exception as exc:
                    problems.append(f"{entry.name}: {exc}")
                opened.add(entry.name)
            if finished:
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        run = make_producer(tmp_path, count=10, size=(320, 240))[0].run()
    finally:
        done.set()
        thread.join(timeout=30)
    assert problems == []
    assert len(run.images) == 10
    assert opened == {image.name for image in run.images}  # the reader saw every image


# --- root checks ---------------------------------------------------------------


def test_prepare_root_creates_missing_folders(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b"
    assert prepare_root(root) == root
    assert root.is_dir()
    assert list(root.iterdir()) == []  # the write probe is gone


def test_prepare_root_refuses_a_file(tmp_path: Path) -> None:
    root = tmp_path / "file.jpg"
    root.write_bytes(b"x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        prepare_root(root)


def test_prepare_root_refuses_a_path_below_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(ConfigError, match="Cannot create the folder"):
        prepare_root(tmp_path / "file" / "images")


def test_prepare_root_refuses_a_folder_it_cannot_write(tmp_path: Path, monkeypatch) -> None:
    def denied(path: Path, *, private: bool) -> tuple[Path, int]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomicfile, "_create_temporary", denied)
    with pytest.raises(ConfigError, match=r"Cannot write in .*Permission denied"):
        prepare_root(tmp_path)


# --- S3 ------------------------------------------------------------------------


def test_upload_only_and_numbering_from_the_bucket(mock_s3) -> None:
    mock_s3.create_bucket(Bucket="bkt")
    mock_s3.put_object(Bucket="bkt", Key="cams/img_00009.jpg", Body=b"old")
    mock_s3.put_object(Bucket="bkt", Key="cams/deeper/img_00500.jpg", Body=b"elsewhere")
    settings = ProducerSettings(target=S3Url("bkt", "cams"), count=2, interval=0, size=(64, 48))
    run = Producer(settings, s3=mock_s3, clock=FakeClock(), sleep=lambda s: None).run()
    assert [i.key for i in run.images] == ["cams/img_00010.jpg", "cams/img_00011.jpg"]
    assert all(i.path is None for i in run.images)
    body = mock_s3.get_object(Bucket="bkt", Key="cams/img_00011.jpg")
    assert body["ContentType"] == "image/jpeg"
    assert open_jpeg(body["Body"].read()).size == (64, 48)


def test_numbering_takes_the_highest_of_folder_and_bucket(mock_s3, tmp_path: Path) -> None:
    mock_s3.create_bucket(Bucket="bkt")
    mock_s3.put_object(Bucket="bkt", Key="img_00004.jpg", Body=b"old")
    (tmp_path / "img_00002.jpg").write_bytes(b"old")
    settings = ProducerSettings(root=tmp_path, target=S3Url("bkt"), count=1, size=(64, 48))
    run = Producer(settings, s3=mock_s3, clock=FakeClock()).run()
    [image] = run.images
    assert (image.index, image.key, image.path) == (5, "img_00005.jpg", tmp_path / "img_00005.jpg")


def test_a_missing_bucket_is_an_error_before_anything_is_written(mock_s3, tmp_path: Path) -> None:
    settings = ProducerSettings(root=tmp_path, target=S3Url("nope"), count=1)
    with pytest.raises(AwsError):
        Producer(settings, s3=mock_s3).prepare()
    assert list(tmp_path.iterdir()) == []


def test_an_upload_failure_keeps_the_local_copy_and_is_reported(mock_s3, tmp_path: Path) -> None:
    mock_s3.create_bucket(Bucket="bkt")
    settings = ProducerSettings(root=tmp_path, target=S3Url("bkt"), count=1, size=(64, 48))
    producer = Producer(settings, s3=mock_s3, clock=FakeClock())
    producer.prepare()
    mock_s3.delete_bucket(Bucket="bkt")
    [image] = producer.run().images
    assert image.key is None
    assert "cannot upload s3://bkt/img_00000.jpg" in (image.error or "")
    assert (tmp_path / "img_00000.jpg").is_file()
