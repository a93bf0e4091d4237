from __future__ import annotations

import json
from pathlib import Path

import pytest

from s32s.errors import MapError
from s32s.maps.pathmap import load_maps, parse_map_file
from s32s.paths import S3Url, parse_s3_url

REPO = Path(__file__).resolve().parents[2]


def good(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "site",
        "s3": "bucket/spam/site",
        "master": "/srv/site",
        "slave": "/var/www",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def parse(maps: object, mode: str | None = "master") -> list:
    return parse_map_file(json.dumps(maps), source="maps.json", mode=mode)[0]


def test_example_maps_in_repository_load() -> None:
    mapset = load_maps(str(REPO / "maps"), mode="slave")
    names = [m.name for m in mapset.maps]
    assert names == ["configs", "site"]
    configs, site = mapset.maps
    assert configs.is_file_list and configs.files == ("app.conf", "certs/ca.pem", "cron/jobs.txt")
    assert configs.master == "C:/inetpub/configs"
    assert configs.settings.sse == "AES256" and site.settings.sse is None
    assert not site.is_file_list and site.ignore_rules.matches("cache/x/y.html")
    assert site.s3 == S3Url("my-bucket", "spam/site")
    assert mapset.warnings == []


def test_paths_are_normalised() -> None:
    pathmap = parse([good(s3="s3://bucket\\spam\\site/", master="C:\\data\\site\\")])[0]
    assert pathmap.s3 == S3Url("bucket", "spam/site")
    assert pathmap.master == "C:/data/site"


@pytest.mark.parametrize(
    ("maps", "fragment"),
    [
        ({"name": "x"}, "must be a JSON list"),
        (["not an object"], "map #0 is a str, not an object"),
        ([good(name=None)], "key 'name' must be a non-empty string"),
        ([good(name=3)], "key 'name' must be a non-empty string"),
        ([good(s3=None)], "map #0 'site': key 's3' is missing"),
        ([good(s3="")], "key 's3' must be a non-empty string"),
        ([good(master=None)], "key 'master' is missing; it is required in master mode"),
        ([good(master="~/site")], "`~` is not expanded"),
        ([good(master="site/here")], "relative path 'site/here'"),
        ([good(slave="relative")], "key 'slave' is the relative path"),
        ([good(ignore="*.tmp")], "key 'ignore' must be a list of strings"),
        ([good(files=["a", 3])], "key 'files' must be a list of strings"),
        ([good(files=["../etc/passwd"])], "not a relative path inside the folder"),
        ([good(files=["/etc/passwd"])], "not a relative path inside the folder"),
        ([good(description=["x"])], "key 'description' must be a string"),
        ([good(), good(name="other", s3="s3://")], "map #1 'other'"),
    ],
)
def test_bad_maps_name_file_index_and_key(maps: object, fragment: str) -> None:
    with pytest.raises(MapError) as info:
        parse(maps)
    assert "maps.json" in info.value.message
    assert fragment in info.value.message


def test_slave_mode_requires_only_slave() -> None:
    pathmap = parse([good(master=None)], mode="slave")[0]
    assert pathmap.slave == "/var/www" and pathmap.master is None


def test_unknown_keys_warn() -> None:
    _, warnings = parse_map_file(json.dumps([good(colour="red")]), source="m.json", mode="master")
    assert warnings == ["m.json: map #0 'site': unknown key 'colour' is ignored."]


def test_malformed_json_gives_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[\n  {"name": "x",\n   "s3": }\n]')
    with pytest.raises(MapError) as info:
        load_maps(str(bad), mode="master")
    assert f"{bad}: invalid JSON at line 3, column 10" in info.value.message


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text(json.dumps([good()]))
    (tmp_path / "b.json").write_text(json.dumps([good()]))
    with pytest.raises(MapError, match="'site' is used twice"):
        load_maps(str(tmp_path), mode="master")


def test_order_by_name_unless_skipped(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps([good(name="zeta"), good(name="alpha")]))
    assert [m.name for m in load_maps(str(tmp_path), mode="master").maps] == ["alpha", "zeta"]
    assert [m.name for m in load_maps(str(tmp_path), mode="master", sort=False).maps] == [
        "zeta",
        "alpha",
    ]


def test_local_errors(tmp_path: Path) -> None:
    with pytest.raises(MapError, match="does not exist"):
        load_maps(str(tmp_path / "missing"), mode="master")
    with pytest.raises(MapError, match=r"No \.json map file"):
        load_maps(str(tmp_path), mode="master")
    with pytest.raises(MapError, match="starts with `~`"):
        load_maps("~/maps", mode="master")
    with pytest.raises(MapError, match="No maps path"):
        load_maps("", mode="master")


def test_select_unknown_name_lists_known(tmp_path: Path) -> None:
    (tmp_path / "m.json").write_text(json.dumps([good()]))
    mapset = load_maps(str(tmp_path), mode="master")
    with pytest.raises(MapError) as info:
        mapset.select(["nope"])
    assert "Known maps: site" in (info.value.hint or "")


def test_s3_maps_from_prefix_and_file(mock_s3) -> None:
    from s32s.aws.clients import ClientFactory

    mock_s3.create_bucket(Bucket="bkt")
    mock_s3.put_object(Bucket="bkt", Key="maps/one.json", Body=json.dumps([good(name="one")]))
    mock_s3.put_object(
        Bucket="bkt", Key="maps/deeper/two.json", Body=json.dumps([good(name="two")])
    )
    mock_s3.put_object(Bucket="bkt", Key="maps/readme.txt", Body=b"not a map")
    factory = ClientFactory()
    assert [m.name for m in load_maps("bkt/maps", mode="master", factory=factory).maps] == [
        "one",
        "two",
    ]
    single = load_maps("s3://bkt/maps/deeper/two.json", mode="master", factory=factory)
    assert [m.source for m in single.maps] == ["s3://bkt/maps/deeper/two.json"]
    with pytest.raises(MapError, match=r"No .json map file under s3://bkt/empty"):
        load_maps("bkt/empty", mode="master", factory=factory)
    with pytest.raises(MapError, match="does not exist"):
        load_maps("bkt/maps/missing.json", mode="master", factory=factory)


def test_s3_missing_bucket(mock_s3) -> None:
    from s32s.aws.clients import ClientFactory
    from s32s.errors import AwsError

    with pytest.raises(AwsError, match="bucket 'nobucket' does not exist"):
        load_maps("nobucket/maps", mode="master", factory=ClientFactory())


def test_parse_s3_url() -> None:
    assert parse_s3_url("s3://b") == S3Url("b", "")
    assert parse_s3_url("b//x//y/") == S3Url("b", "x/y")
    assert str(S3Url("b", "x")) == "s3://b/x"
    with pytest.raises(Exception, match="does not name a bucket"):
        parse_s3_url("s3://")
