"""Path maps: which local folder goes to which S3 prefix (DESIGN §2).

A map file is a JSON list of objects with the keys `name`, `description`,
`s3`, `master`, `slave`, `ignore`, `files`, and how its objects are written:
`storage_class`, `sse`, `sse_kms_key_id` (the command's flags override them). A maps path is an S3 `.json`
object, an S3 prefix (every `.json` object below it), a local file or a local
folder. Every problem names the file, the map (index and name) and the key;
unknown keys only warn. Maps are validated whole before anything moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.errors import MapError
from s32s.paths import S3Url, is_absolute_local_path, normalize_local_path, parse_s3_url
from s32s.sync.ignore import IgnoreRules
from s32s.sync.objectsettings import DEFAULT_SETTINGS, ObjectSettings, settings_from_keys

MODES = ("master", "slave")
_SETTINGS_KEYS = ("storage_class", "sse", "sse_kms_key_id")
_KNOWN_KEYS = {"name", "description", "s3", "master", "slave", "ignore", "files", *_SETTINGS_KEYS}


@dataclass(frozen=True)
class PathMap:
    """One validated map."""

    name: str
    s3: S3Url
    master: str | None = None
    slave: str | None = None
    description: str = ""
    ignore: tuple[str, ...] = ()
    files: tuple[str, ...] | None = None
    source: str = ""
    index: int = 0
    settings: ObjectSettings = DEFAULT_SETTINGS

    def local_for(self, mode: str) -> str | None:
        return self.master if mode == "master" else self.slave

    @property
    def ignore_rules(self) -> IgnoreRules:
        return IgnoreRules(self.ignore)

    @property
    def is_file_list(self) -> bool:
        return self.files is not None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "description": self.description}
        data["s3"] = str(self.s3)
        data["master"] = self.master
        data["slave"] = self.slave
        data["ignore"] = list(self.ignore)
        data["files"] = list(self.files) if self.files is not None else None
        for key in _SETTINGS_KEYS:
            value = getattr(self.settings, key)
            if value is not None:
                data[key] = value
        data["source"] = self.source
        return data


@dataclass
class MapSet:
    """The maps loaded from one maps path, with any warnings."""

    location: str
    maps: list[PathMap] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def select(self, names: Iterable[str]) -> list[PathMap]:
        """The maps named (all maps when `names` is empty); unknown names are an error."""
        wanted = list(names)
        if not wanted:
            return list(self.maps)
        by_name = {m.name: m for m in self.maps}
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise MapError(
                f"No map named {', '.join(map(repr, unknown))} in {self.location}.",
                f"Known maps: {known}.",
            )
        return [by_name[name] for name in wanted]


def _where(source: str, index: int, name: object) -> str:
    label = f" {name!r}" if isinstance(name, str) and name else ""
    return f"{source}: map #{index}{label}"


def _require_str(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MapError(f"{where}: key {key!r} must be a non-empty string, not {value!r}.")
    return value.strip()


def _local_folder(value: object, where: str, key: str) -> str:
    text = normalize_local_path(_require_str(value, where, key))
    if text.startswith("~"):
        raise MapError(
            f"{where}: key {key!r} is {text!r}; `~` is not expanded in maps.",
            "Write the absolute path of the folder.",
        )
    if not is_absolute_local_path(text):
        raise MapError(
            f"{where}: key {key!r} is the relative path {text!r}.",
            "Write the absolute path of the folder (for example /srv/site or C:/site).",
        )
    return text


def _string_list(value: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise MapError(f"{where}: key {key!r} must be a list of strings.")
    return tuple(item for item in value)


def _relative_files(value: object, where: str) -> tuple[str, ...]:
    files = []
    for item in _string_list(value, where, "files"):
        path = normalize_local_path(item).lstrip("/")
        if (
            not path
            or ".." in path.split("/")
            or is_absolute_local_path(normalize_local_path(item))
        ):
            raise MapError(
                f"{where}: key 'files' holds {item!r}, which is not a relative path inside the folder.",
                "List paths relative to the map's folder, without `..`.",
            )
        files.append(path)
    return tuple(files)


def parse_map(
    raw: object, *, source: str, index: int, mode: str | None
) -> tuple[PathMap, list[str]]:
    """Validate one map object. `mode` names the local key that is required."""
    where = _where(source, index, raw.get("name") if isinstance(raw, dict) else None)
    if not isinstance(raw, dict):
        raise MapError(
            f"{where} is a {type(raw).__name__}, not an object.", "Each map is a JSON object {...}."
        )
    warnings = [
        f"{where}: unknown key {key!r} is ignored." for key in raw if key not in _KNOWN_KEYS
    ]
    name = _require_str(raw.get("name"), where, "name")
    if "s3" not in raw:
        raise MapError(f"{where}: key 's3' is missing.", "Give the S3 path as bucket/prefix.")
    try:
        s3 = parse_s3_url(_require_str(raw["s3"], where, "s3"), what=f"{where}: key 's3'")
    except MapError:
        raise
    except Exception as exc:
        raise MapError(str(exc)) from None
    locals_: dict[str, str | None] = {}
    for key in MODES:
        if raw.get(key) is None:
            if key == mode:
                raise MapError(f"{where}: key {key!r} is missing; it is required in {mode} mode.")
            locals_[key] = None
        else:
            locals_[key] = _local_folder(raw[key], where, key)
    description = raw.get("description") or ""
    if not isinstance(description, str):
        raise MapError(f"{where}: key 'description' must be a string.")
    ignore = _string_list(raw["ignore"], where, "ignore") if raw.get("ignore") is not None else ()
    files = _relative_files(raw["files"], where) if raw.get("files") is not None else None
    settings = (
        settings_from_keys(raw, where)
        if any(key in raw for key in _SETTINGS_KEYS)
        else DEFAULT_SETTINGS
    )
    pathmap = PathMap(
        name=name,
        s3=s3,
        master=locals_["master"],
        slave=locals_["slave"],
        description=description,
        ignore=ignore,
        files=files,
        source=source,
        index=index,
        settings=settings,
    )
    return pathmap, warnings


def parse_map_file(text: str, *, source: str, mode: str | None) -> tuple[list[PathMap], list[str]]:
    """Parse the JSON text of one map file."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MapError(
            f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            "Fix the file; a map file is a JSON list of objects.",
        ) from None
    if not isinstance(data, list):
        raise MapError(
            f"{source}: a map file must be a JSON list of maps, not a {type(data).__name__}.",
            'Wrap the map(s) in [ ... ], e.g. [{"name": "site", "s3": "bucket/site", ...}].',
        )
    maps: list[PathMap] = []
    warnings: list[str] = []
    for index, raw in enumerate(data):
        pathmap, map_warnings = parse_map(raw, source=source, index=index, mode=mode)
        maps.append(pathmap)
        warnings += map_warnings
    return maps, warnings


def _local_map_files(path: Path) -> list[tuple[str, str]]:
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        if not files:
            raise MapError(f"No .json map file in the folder {path}.")
    else:
        raise MapError(
            f"Maps path {path} does not exist.", "Check --maps or maps_s3_path in s32s.ini."
        )
    result = []
    for file in files:
        try:
            result.append((str(file), file.read_text(encoding="utf-8-sig")))
        except (OSError, UnicodeDecodeError) as exc:
            raise MapError(f"Map file {file} cannot be read: {exc}.") from None
    return result


def _s3_map_files(url: S3Url, factory: Any) -> list[tuple[str, str]]:
    from s32s.aws.clients import aws_errors, error_code

    s3 = factory.s3()
    with aws_errors(bucket=url.bucket, endpoint=factory.endpoint_url):
        keys: list[str] = []
        if url.prefix.lower().endswith(".json"):
            keys = [url.prefix]
        else:
            paginator = s3.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=url.bucket, Prefix=url.key_prefix()):
                keys += [
                    o["Key"] for o in page.get("Contents", []) if o["Key"].lower().endswith(".json")
                ]
            if not keys:
                raise MapError(
                    f"No .json map file under {url}.",
                    "Check the maps path, or upload a map file there (see maps/ for examples).",
                )
        files = []
        for key in sorted(keys):
            source = f"s3://{url.bucket}/{key}"
            try:
                body = s3.get_object(Bucket=url.bucket, Key=key)["Body"].read()
            except Exception as exc:
                if error_code(exc) in ("NoSuchKey", "404"):
                    raise MapError(f"Map file {source} does not exist.") from None
                raise
            try:
                files.append((source, body.decode("utf-8-sig")))
            except UnicodeDecodeError:
                raise MapError(f"Map file {source} is not UTF-8 text.") from None
    return files


def load_maps(location: str, *, mode: str | None, factory: Any = None, sort: bool = True) -> MapSet:
    """Load and validate every map at `location` (S3 path or local file/folder).

    `mode` ("master" or "slave") makes that mode's local folder key required;
    None validates both keys only when present. Names must be unique across
    all files; maps are sorted by name unless `sort` is False.
    """
    location = location.strip()
    if not location:
        raise MapError(
            "No maps path is set.", "Pass --maps, or set maps_s3_path in s32s.ini (`s32s init`)."
        )
    normalized = normalize_local_path(location)
    if normalized.startswith("~"):
        raise MapError(f"Maps path {location!r} starts with `~`.", "Write the absolute path.")
    looks_local = (
        is_absolute_local_path(normalized) or normalized.startswith(".") or Path(location).exists()
    )
    if looks_local and not location.lower().startswith("s3://"):
        files = _local_map_files(Path(location))
    else:
        if factory is None:
            from s32s.aws.clients import ClientFactory

            factory = ClientFactory()
        files = _s3_map_files(parse_s3_url(location, what="Maps path"), factory)
    mapset = MapSet(location=location)
    seen: dict[str, PathMap] = {}
    for source, text in files:
        maps, warnings = parse_map_file(text, source=source, mode=mode)
        mapset.warnings += warnings
        for pathmap in maps:
            if pathmap.name in seen:
                first = seen[pathmap.name]
                raise MapError(
                    f"Map name {pathmap.name!r} is used twice: {first.source} map #{first.index} "
                    f"and {pathmap.source} map #{pathmap.index}.",
                    "Map names must be unique across all map files.",
                )
            seen[pathmap.name] = pathmap
            mapset.maps.append(pathmap)
    if sort:
        mapset.maps.sort(key=lambda m: m.name)
    return mapset
