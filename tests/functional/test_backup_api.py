"""The backup calls from Python, as a script would make them, against moto's server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_backup_round_trip_from_python(moto_server: Any, s3_http: Any, tmp_path: Path) -> None:
    import s32s as api

    s3_http.create_bucket(Bucket="api-bkt")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.tmp").write_text("b")
    where = {"endpoint_url": moto_server.url}
    location = "s3://api-bkt/backups"
    first = api.backup_create(str(folder), location, ignore=["*.tmp"], **where)
    assert first.complete and first.files == 1 and first.exit_code == 0
    snapshots = api.backup_list(location, **where)
    assert [s.name for s in snapshots] == [first.snapshot] and snapshots[0].complete
    assert api.backup_check(location, read_data=True, **where).exit_code == 0

    target = tmp_path / "restored"
    assert api.backup_restore(location, "latest", str(target), **where).exit_code == 0
    assert (target / "a.txt").read_text() == "a"
    (target / "extra.txt").write_text("x")
    refused = api.backup_restore(location, "latest", str(target), delete=True, **where)
    assert refused.exit_code == 3 and (target / "extra.txt").exists()

    refused_prune = api.backup_prune(location, keep_last=0, **where)
    assert refused_prune.exit_code == 3 and refused_prune.plan.remove
    assert len(api.backup_list(location, **where)) == 1
    pruned = api.backup_prune(location, keep_last=0, yes=True, **where)
    assert pruned.removed == [first.snapshot] and api.backup_list(location, **where) == []

    report = api.bucket_setup("api-bkt", versioning=True, expire=["backups/=30"], **where)
    assert [c.setting for c in report.changes] == ["versioning", "lifecycle expiry"]


def test_bad_arguments_raise_the_errors_the_cli_reports(moto_server: Any, s3_http: Any) -> None:
    import s32s as api
    from s32s.errors import ConfigError

    s3_http.create_bucket(Bucket="api-bkt")
    with pytest.raises(ConfigError, match="does not exist"):
        api.backup_create("/no/such/folder", "s3://api-bkt/b", endpoint_url=moto_server.url)
    with pytest.raises(ValueError, match="not a duration"):
        api.backup_prune("s3://api-bkt/b", keep_within="a month", endpoint_url=moto_server.url)


def test_check_from_python(moto_server: Any, s3_http: Any, tmp_path: Path) -> None:
    import s32s

    s3_http.create_bucket(Bucket="api-bkt")
    s3_http.put_object(Bucket="api-bkt", Key="data/remote.txt", Body=b"r")
    (tmp_path / "local.txt").write_text("l")
    result = s32s.check(str(tmp_path), "s3://api-bkt/data", endpoint_url=moto_server.url)
    assert not result.same and result.exit_code == 1
    assert (result.only_in_source, result.only_in_destination) == (["local.txt"], ["remote.txt"])
