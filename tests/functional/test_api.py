"""Whole runs from Python (`s32s.sync`, `s32s.run_maps`, `s32s.transfer`), as a script makes
them, against S3 servers over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.errors import AwsError, ConfigError, SafeguardRefused
from tests.functional.test_transfer import buckets, keys, write_config  # noqa: F401 (fixture)
from tests.integration.test_resume import (
    BUCKET,
    PARTS,
    Calls,
    interrupt_push,
    records,
    small_parts,  # noqa: F401 (fixture)
    stored,
)


def make_folder(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


FILES = {"a.txt": "alpha", "docs/b.md": "# b", "skip.tmp": "scratch"}


def test_sync_up_and_down(s3_server: Any, s3_client: Any, tmp_path: Path) -> None:
    import s32s

    s3_client.create_bucket(Bucket="api-bkt")
    master = make_folder(tmp_path / "master", FILES)
    where = {"endpoint_url": s3_server.url}
    up = s32s.sync(str(master), "s3://api-bkt/site", ignore=["*.tmp"], workers=4, **where)
    assert (up.copied, up.ignored, up.exit_code) == (2, 1, 0)
    assert keys(s3_client, "api-bkt") == ["site/a.txt", "site/docs/b.md"]

    slave = tmp_path / "slave"
    down = s32s.sync("s3://api-bkt/site", str(slave), **where)
    assert down.copied == 2 and tree(slave) == {"a.txt": "alpha", "docs/b.md": "# b"}
    again = s32s.sync(str(master), "s3://api-bkt/site", ignore=["*.tmp"], **where)
    assert (again.copied, again.unchanged) == (0, 2)


def test_a_deletion_is_refused_without_yes_and_done_with_it(
    moto_server: Any, s3_http: Any, tmp_path: Path
) -> None:
    import s32s

    s3_http.create_bucket(Bucket="api-bkt")
    master = make_folder(tmp_path / "master", {"a.txt": "a", "b.txt": "b", "c.txt": "c"})
    where = {"endpoint_url": moto_server.url}
    s32s.sync(str(master), "s3://api-bkt/d", **where)
    (master / "a.txt").unlink()

    refused = s32s.sync(str(master), "s3://api-bkt/d", delete=True, **where)
    assert refused.exit_code == 3 and "no terminal to confirm" in refused.refused[0]
    assert refused.deleted == 0 and "d/a.txt" in keys(s3_http, "api-bkt")

    asked: list[list[str]] = []

    def decline(prepared: Any) -> bool:
        asked.append([action.key for action in prepared.plan.deletes])
        return False

    declined = s32s.sync(str(master), "s3://api-bkt/d", delete=True, confirm=decline, **where)
    assert asked == [["a.txt"]] and declined.refused == ["deletion not confirmed"]
    assert "d/a.txt" in keys(s3_http, "api-bkt")

    done = s32s.sync(str(master), "s3://api-bkt/d", delete=True, yes=True, **where)
    assert done.deleted == 1 and keys(s3_http, "api-bkt") == ["d/b.txt", "d/c.txt"]


def test_a_dry_run_changes_nothing(moto_server: Any, s3_http: Any, tmp_path: Path) -> None:
    import s32s

    s3_http.create_bucket(Bucket="api-bkt")
    s3_http.put_object(Bucket="api-bkt", Key="d/old.txt", Body=b"old")
    master = make_folder(tmp_path / "master", {"new.txt": "new"})
    report = s32s.sync(
        str(master), "s3://api-bkt/d", delete=True, dry_run=True, endpoint_url=moto_server.url
    )
    assert report.dry_run and report.would_copy == ["new.txt"]
    assert report.would_delete == ["old.txt"] and report.copied == report.deleted == 0
    assert keys(s3_http, "api-bkt") == ["d/old.txt"]


def test_a_missing_bucket_raises_a_clear_error(moto_server: Any, tmp_path: Path) -> None:
    import s32s

    master = make_folder(tmp_path / "master", {"a.txt": "a"})
    with pytest.raises(AwsError, match="no-such-bucket") as raised:
        s32s.sync(str(master), "s3://no-such-bucket/d", endpoint_url=moto_server.url)
    assert raised.value.exit_code == 2
    with pytest.raises(ConfigError, match="does not exist"):
        s32s.sync(str(tmp_path / "absent"), "s3://no-such-bucket/d", endpoint_url=moto_server.url)
    with pytest.raises(TypeError, match=r"unknown run option.*wrokers"):
        s32s.sync(str(master), "s3://x/d", wrokers=4)


def test_a_second_run_on_a_locked_destination_is_refused(
    moto_server: Any, s3_http: Any, tmp_path: Path
) -> None:
    """While a run writes to a destination, another run on it (same process here) is refused."""
    import s32s
    from s32s.sync.events import NullReporter

    s3_http.create_bucket(Bucket="api-bkt")
    master = make_folder(tmp_path / "master", {"a.txt": "a"})
    other = make_folder(tmp_path / "other", {"z.txt": "z"})
    where = {"endpoint_url": moto_server.url}
    seen: list[BaseException] = []

    class SecondRun(NullReporter):
        def started(self, action: Any) -> None:
            try:
                s32s.sync(str(other), "s3://api-bkt/d", **where)
            except SafeguardRefused as exc:
                seen.append(exc)

    first = s32s.sync(str(master), "s3://api-bkt/d", reporter=SecondRun(), **where)
    assert first.copied == 1 and len(seen) == 1
    assert "Another s32s run is already writing to s3://api-bkt/d" in str(seen[0])
    assert keys(s3_http, "api-bkt") == ["d/a.txt"]  # the refused run wrote nothing
    assert s32s.sync(str(other), "s3://api-bkt/d", **where).copied == 1  # the lock is released


def write_machines(tmp_path: Path, s3_client: Any, bucket: str) -> dict[str, Path]:
    """A master folder, a slave folder, one ini per machine and the map file on S3."""
    from s32s.maps.ini import Config, save_config

    master = make_folder(tmp_path / "master", FILES)
    slave = tmp_path / "slave"
    slave.mkdir()
    maps = [
        {
            "name": "site",
            "s3": f"{bucket}/site",
            "master": master.as_posix(),
            "slave": slave.as_posix(),
            "ignore": ["*.tmp"],
        }
    ]
    master_ini, slave_ini = tmp_path / "master.ini", tmp_path / "slave.ini"
    save_config(
        Config(is_master=True, master_maps=f"{bucket}/maps", time_sleep_after_rm=0), master_ini
    )
    save_config(
        Config(is_master=False, slave_maps=f"{bucket}/maps", time_sleep_after_rm=0), slave_ini
    )
    s3_client.put_object(Bucket=bucket, Key="maps/site.json", Body=json.dumps(maps).encode())
    return {"master": master, "slave": slave, "master_ini": master_ini, "slave_ini": slave_ini}


def test_run_maps_master_then_slave_with_maps_on_s3(
    s3_server: Any, s3_client: Any, tmp_path: Path
) -> None:
    import s32s

    s3_client.create_bucket(Bucket="api-bkt")
    paths = write_machines(tmp_path, s3_client, "api-bkt")
    where = {"endpoint_url": s3_server.url}

    (pushed,) = s32s.run_maps("master", config=paths["master_ini"], **where)
    assert (pushed.name, pushed.copied, pushed.exit_code) == ("site", 2, 0)
    (pulled,) = s32s.run_maps("slave", config=paths["slave_ini"], names=["site"], **where)
    assert pulled.copied == 2 and tree(paths["slave"]) == {"a.txt": "alpha", "docs/b.md": "# b"}
    (same,) = s32s.check_maps("slave", config=paths["slave_ini"], **where)
    assert same.same and same.identical == 2

    (paths["master"] / "a.txt").unlink()
    s32s.run_maps("master", config=paths["master_ini"], yes=True, **where)
    (refused,) = s32s.run_maps("slave", config=paths["slave_ini"], **where)
    assert refused.exit_code == 3 and (paths["slave"] / "a.txt").exists()
    (differs,) = s32s.check_maps("slave", config=paths["slave_ini"], **where)
    assert differs.only_in_destination == ["a.txt"] and differs.exit_code == 1
    (pulled,) = s32s.run_maps(
        "slave", config=paths["slave_ini"], yes=True, max_delete="all", **where
    )
    assert pulled.deleted == 1 and not (paths["slave"] / "a.txt").exists()

    with pytest.raises(ConfigError, match="nope"):
        s32s.run_maps("slave", config=paths["slave_ini"], names=["nope"], **where)


def test_transfer_with_a_config(
    buckets: Any,  # noqa: F811 (the fixture imported above)
    moto_server: Any,
    tmp_path: Path,
) -> None:
    import s32s

    config = write_config(tmp_path / "t.yaml", moto_server.url)
    dry = s32s.transfer(config, dry_run=True)
    assert dry.dry_run and len(dry.would_copy) == 20 and dry.log is None
    assert keys(buckets, "dst-bkt") == [] and not (tmp_path / "logs").exists()

    report = s32s.transfer(config, workers=4)
    assert report.copied == 20 and report.exit_code == 0 and report.log_status == "Completed"
    log = json.loads(Path(report.log or "").read_text())
    assert log["status"] == "Completed" and len(log["objects_moved"]) == 20
    assert len(keys(buckets, "dst-bkt", "copy/")) == 20
    assert keys(buckets, "log-bkt") == [f"transfers/{Path(report.log or '').name}"]


def test_a_finished_run_is_announced(moto_clients: dict[str, Any], tmp_path: Path) -> None:
    import s32s

    moto_clients["s3"].create_bucket(Bucket="api-bkt")
    queue = moto_clients["sqs"].create_queue(QueueName="runs")["QueueUrl"]
    master = make_folder(tmp_path / "master", {"a.txt": "a"})
    s32s.sync(
        str(master), "s3://api-bkt/d", notify=["sqs://runs"], endpoint_url=moto_clients["url"]
    )
    (message,) = moto_clients["sqs"].receive_message(QueueUrl=queue)["Messages"]
    body = json.loads(message["Body"])
    assert (body["command"], body["status"], body["copied"]) == ("sync", "ok", 1)
    assert body["destination"] == "s3://api-bkt/d"


def test_an_interrupted_push_resumes_through_the_api(
    moto_server: Any,
    s3_http: Any,
    tmp_path: Path,
    small_parts: Path,  # noqa: F811 (the fixture imported above)
    monkeypatch: Any,
) -> None:
    """The API run uses the engine's state folder: it sends only the parts the last run lacked."""
    import s32s

    s3_http.create_bucket(Bucket=BUCKET)
    factory = ClientFactory(AwsOptions(endpoint_url=moto_server.url, region="us-east-1"))
    master = tmp_path / "master"
    data = interrupt_push(factory, Calls(factory.s3()), master)
    (record,) = records(small_parts)
    kept = len(
        s3_http.list_parts(Bucket=BUCKET, Key="data/big.bin", UploadId=record["upload_id"])["Parts"]
    )
    counted: list[Calls] = []
    original = ClientFactory.client

    def counting_client(self: ClientFactory, service: str, **kwargs: Any) -> Any:
        client = original(self, service, **kwargs)
        if service == "s3":
            counted.append(Calls(client))
        return client

    monkeypatch.setattr(ClientFactory, "client", counting_client)
    report = s32s.sync(str(master), f"s3://{BUCKET}/data", endpoint_url=moto_server.url)
    assert report.copied == 1 and report.failed == {}
    calls = sum((c.counts for c in counted), start=type(counted[0].counts)())
    assert calls["CreateMultipartUpload"] == 0 and calls["UploadPart"] == PARTS - kept
    assert stored(s3_http) == data and records(small_parts) == []


def test_the_documented_example_runs(tmp_path: Path) -> None:
    """docs/api.md's script, run as a user would copy it (it starts its own endpoint)."""
    import re
    import subprocess
    import sys

    docs = Path(__file__).resolve().parents[2] / "docs" / "api.md"
    (script,) = re.findall(r"```python\n(.*?)```", docs.read_text(encoding="utf-8"), re.S)
    (tmp_path / "example.py").write_text(script, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "pushed 2, pulled 2" and lines[-1] == "deleted 1"
    assert lines[1].startswith("3 ") and "no terminal to confirm" in lines[1]


def test_object_options_are_run_options(moto_server: Any, s3_http: Any, tmp_path: Path) -> None:
    """Options added to RunOptions reach the objects with no signature of their own."""
    import s32s
    from s32s.sync.objectsettings import ObjectSettings

    s3_http.create_bucket(Bucket="api-bkt")
    master = make_folder(tmp_path / "master", {"page.html": "<p>hi</p>"})
    report = s32s.sync(
        str(master),
        "s3://api-bkt/d",
        object_settings=ObjectSettings(storage_class="STANDARD_IA"),
        bwlimit="100M",
        endpoint_url=moto_server.url,
    )
    assert report.copied == 1
    head = s3_http.head_object(Bucket="api-bkt", Key="d/page.html")
    assert head["StorageClass"] == "STANDARD_IA" and head["ContentType"] == "text/html"
    with pytest.raises(ConfigError, match="bwlimit"):
        s32s.sync(str(master), "s3://api-bkt/d", bwlimit="fast", endpoint_url=moto_server.url)
