"""Bucket-to-bucket transfers from a YAML config, with JSON transfer logs (DESIGN §2).

The config keeps the format of `s3_transfer.py`::

    src:  {bucket: b1, bucket_prefix: data/, region: us-east-1,
           endpoint_urls: [http://10.0.0.1:8080, http://10.0.0.2:8080],
           access_key: ${SRC_KEY}, secret_access_key: ${SRC_SECRET}}   # or profile: name
    dst:  {bucket: b2, bucket_prefix: copy/, region: snow, endpoint_urls: [https://192.168.1.50:8443]}
    log:  {local_directory: ./logs, bucket: logs, bucket_prefix: transfers}
    workers: 16                     # optional: without it, concurrency adapts to the link

`dst` may also say how objects are written (`storage_class`, `sse`,
`sse_kms_key_id`, `sse_c_key_file`), and `src` which SSE-C key reads its
objects (`sse_c_key_file`); the command's flags override them.

The transfer itself is the sync engine's S3 → S3 job: it copies what is
missing at the destination or differs in size or (comparable) ETag, never
deletes, copies server-side when both sides share endpoints and credentials,
and otherwise streams each object from a GET into a (multipart) PUT.
"""

from __future__ import annotations

import os
import re
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.errors import ConfigError
from s32s.paths import S3Url
from s32s.sync.bwlimit import BandwidthLimiter
from s32s.sync.compare import CompareOptions
from s32s.sync.concurrency import pool_size
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob
from s32s.sync.objectsettings import (
    DEFAULT_SETTINGS,
    ObjectSettings,
    load_sse_c_key,
    settings_from_keys,
)
from s32s.sync.plan import Action, Plan, PlanOptions
from s32s.sync.s3 import S3Store
from s32s.sync.state import MetadataCache
from s32s.transfers.endpoints import RotatingClient
from s32s.transfers.log import LogSide, S3LogTarget, TransferLog
from s32s.yamlfile import read_yaml

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SIDE_KEYS = {
    "bucket",
    "bucket_prefix",
    "region",
    "endpoint_urls",
    "access_key",
    "secret_access_key",
    "profile",
    "session_token",
    "verify_ssl",
}
_LOG_KEYS = _SIDE_KEYS | {"local_directory"}
_SRC_KEYS = _SIDE_KEYS | {"sse_c_key_file"}
_DST_KEYS = _SRC_KEYS | {"storage_class", "sse", "sse_kms_key_id"}
_TOP_KEYS = {"src", "dst", "log", "workers"}


@dataclass(frozen=True)
class Side:
    """One bucket of a transfer, and how to reach it."""

    name: str
    bucket: str
    prefix: str = ""
    region: str | None = None
    endpoint_urls: tuple[str, ...] = ()
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    verify_ssl: bool | None = None
    settings: ObjectSettings = DEFAULT_SETTINGS

    @property
    def url(self) -> S3Url:
        return S3Url(self.bucket, self.prefix.strip("/"))

    def log_side(self) -> LogSide:
        return LogSide(self.bucket, self.prefix, self.region, self.endpoint_urls)

    def credentials_id(self) -> tuple[str | None, ...]:
        return (self.profile, self.access_key, self.secret_key, self.session_token)

    def factory(
        self, base: AwsOptions, endpoint_url: str | None, workers: int | None
    ) -> ClientFactory:
        options = AwsOptions(
            profile=self.profile
            if self.profile
            else (base.profile if not self.access_key else None),
            region=self.region or base.region,
            endpoint_url=endpoint_url or base.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            session_token=self.session_token,
            verify_tls=self.verify_ssl if self.verify_ssl is not None else base.verify_tls,
            max_attempts=3 if len(self.endpoint_urls) > 1 else base.max_attempts,
            connect_timeout=5.0 if len(self.endpoint_urls) > 1 else base.connect_timeout,
        )
        return ClientFactory(options.for_workers(workers))


@dataclass(frozen=True)
class TransferConfig:
    path: Path
    src: Side
    dst: Side
    log_directory: Path | None
    log_side: Side | None
    workers: int | None  # None: concurrency adapts to the link
    warnings: tuple[str, ...] = ()


def _expand(value: Any, where: str, path: Path) -> Any:
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"{path}: {where} uses ${{{name}}}, but the environment variable {name} is not set.",
                    f"Set {name} before running, or write the value in the file.",
                )
            return os.environ[name]

        return _VARIABLE.sub(substitute, value)
    if isinstance(value, list):
        return [_expand(item, where, path) for item in value]
    return value


def _side(raw: Any, name: str, path: Path, keys: set[str], *, bucket_required: bool = True) -> Side:
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: section {name!r} must be a mapping of keys, not {type(raw).__name__}."
        )
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise ConfigError(
            f"{path}: {name}: unknown key(s) {', '.join(unknown)}.",
            f"Known keys: {', '.join(sorted(keys))}.",
        )
    values = {key: _expand(value, f"{name}.{key}", path) for key, value in raw.items()}
    bucket = values.get("bucket")
    if bucket_required and (not isinstance(bucket, str) or not bucket.strip()):
        raise ConfigError(
            f"{path}: {name}.bucket is missing.", "Name the bucket, e.g. `bucket: my-bucket`."
        )
    urls = values.get("endpoint_urls") or []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(
        isinstance(u, str) and u.startswith(("http://", "https://")) for u in urls
    ):
        raise ConfigError(
            f"{path}: {name}.endpoint_urls must be a list of http:// or https:// URLs."
        )
    has_key = bool(values.get("access_key")) or bool(values.get("secret_access_key"))
    if has_key and not (values.get("access_key") and values.get("secret_access_key")):
        raise ConfigError(
            f"{path}: {name} has only one of access_key and secret_access_key.",
            "Give both, or use a profile.",
        )
    if has_key and values.get("profile"):
        raise ConfigError(f"{path}: {name} has both keys and a profile.", "Use one or the other.")
    for key in ("region", "profile", "bucket_prefix", "sse_c_key_file"):
        if values.get(key) is not None and not isinstance(values[key], str):
            raise ConfigError(f"{path}: {name}.{key} must be a string.")
    return Side(
        name=name,
        bucket=str(bucket or "").strip(),
        prefix=str(values.get("bucket_prefix") or ""),
        region=values.get("region"),
        endpoint_urls=tuple(urls),
        access_key=values.get("access_key"),
        secret_key=values.get("secret_access_key"),
        session_token=values.get("session_token"),
        profile=values.get("profile"),
        verify_ssl=values.get("verify_ssl"),
        settings=_side_settings(values, name, path),
    )


def _side_settings(values: dict[str, Any], name: str, path: Path) -> ObjectSettings:
    """How a side's objects are written and read (`storage_class`, `sse`, ..., `sse_c_key_file`)."""
    settings = settings_from_keys(values, f"{path}: {name}")
    key_file = values.get("sse_c_key_file")
    if key_file:
        try:
            settings = settings.overridden_by(
                ObjectSettings(sse_c_key=load_sse_c_key(path.parent / key_file))
            )
        except ConfigError as exc:
            raise ConfigError(f"{path}: {name}.sse_c_key_file: {exc.message}", exc.hint) from None
    return settings


def _plaintext_key_warning(path: Path, data: dict[str, Any]) -> list[str]:
    literal = [
        f"{section}.{key}"
        for section in ("src", "dst", "log")
        if isinstance(data.get(section), dict)
        for key in ("secret_access_key", "access_key")
        if isinstance(data[section].get(key), str)
        and not _VARIABLE.fullmatch(data[section][key].strip())
    ]
    if not literal or os.name != "posix":
        return []
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        return [
            f"{path} holds plaintext keys ({', '.join(literal)}) and is readable by others (mode {mode:o}): "
            f"run `chmod 600 {path}` or use ${{VAR}} references or a profile."
        ]
    return []


def load_transfer_config(path: Path) -> TransferConfig:
    """Read and validate a transfer config; every error names the file and the key."""
    data = read_yaml(path, label="Transfer config")
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping with the sections src, dst and log.")
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(unknown)}.", "Known: src, dst, log, workers."
        )
    for section in ("src", "dst"):
        if section not in data:
            raise ConfigError(
                f"{path}: section {section!r} is missing.", "See the transfer config in the README."
            )
    src = _side(data["src"], "src", path, _SRC_KEYS)
    dst = _side(data["dst"], "dst", path, _DST_KEYS)
    log_raw = data.get("log") or {}
    log_side = None
    log_directory = None
    if log_raw:
        if not isinstance(log_raw, dict):
            raise ConfigError(f"{path}: section 'log' must be a mapping of keys.")
        log_side = _side(log_raw, "log", path, _LOG_KEYS, bucket_required=False)
        directory = log_raw.get("local_directory")
        if directory is not None:
            log_directory = (
                path.parent / str(_expand(directory, "log.local_directory", path))
            ).resolve()
        if not log_side.bucket:
            log_side = None
    if log_directory is None and log_side is None:
        log_directory = (Path.cwd() / "logs").resolve()
    workers = data.get("workers")
    if workers is not None and (
        not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= 256
    ):
        raise ConfigError(f"{path}: workers must be a whole number from 1 to 256, not {workers!r}.")
    if src.url == dst.url and src.endpoint_urls == dst.endpoint_urls:
        raise ConfigError(f"{path}: src and dst are the same bucket and prefix.")
    return TransferConfig(
        path, src, dst, log_directory, log_side, workers, tuple(_plaintext_key_warning(path, data))
    )


def _client_for(side: Side, base: AwsOptions, workers: int | None) -> Any:
    if len(side.endpoint_urls) <= 1:
        endpoint = side.endpoint_urls[0] if side.endpoint_urls else None
        return side.factory(base, endpoint, workers).s3()
    clients = {url: side.factory(base, url, workers).s3() for url in side.endpoint_urls}
    return RotatingClient(clients, label=f"{side.name} ({side.bucket})")


def shares_endpoint_and_credentials(src: Side, dst: Side) -> bool:
    return (
        set(src.endpoint_urls) == set(dst.endpoint_urls)
        and src.credentials_id() == dst.credentials_id()
        and ((src.region or "") == (dst.region or "") or not src.endpoint_urls)
    )


def build_job(
    config: TransferConfig,
    base: AwsOptions,
    part_pool: Any,
    workers: int | None = None,
    *,
    inventory: str | None = None,
    settings: ObjectSettings = DEFAULT_SETTINGS,
    bandwidth: BandwidthLimiter | None = None,
    skip_archived: bool = False,
    restore_archived_days: int | None = None,
) -> SyncJob:
    """The engine job for a transfer: copy missing or different objects, delete nothing.

    With `inventory` (the S3 URL of an S3 Inventory `manifest.json`) the
    source is listed from that report instead of LIST (read with the source's
    credentials); see `s32s.transfers.inventory`. `settings` (the command's
    flags) override what each side of the config says.
    """
    workers = workers or config.workers
    src_client = _client_for(config.src, base, workers)
    dst_client = _client_for(config.dst, base, workers)
    server_side = shares_endpoint_and_credentials(config.src, config.dst)
    if server_side:
        dst_client = src_client

    def store(side: Side, client: Any) -> S3Store:
        endpoint = ",".join(side.endpoint_urls) or base.endpoint_url
        cache = MetadataCache(None)  # transfers compare size and ETag: no metadata is read
        return S3Store(
            side.url,
            client,
            cache=cache,
            part_pool=part_pool,
            endpoint=endpoint,
            settings=side.settings.overridden_by(settings),
        )

    source = store(config.src, src_client)
    if inventory is not None:
        from s32s.transfers.inventory import inventory_source

        source = inventory_source(inventory, source, src_client)
    return SyncJob(
        name="transfer",
        source=source,
        dest=store(config.dst, dst_client),
        plan_options=PlanOptions(delete=False, compare=CompareOptions(mode="etag")),
        execute_options=ExecuteOptions(
            workers=workers,
            server_side_copy=server_side,
            bandwidth=bandwidth,
            skip_archived=skip_archived,
            restore_archived_days=restore_archived_days,
        ),
    )


def new_log(config: TransferConfig, workers: int | None) -> TransferLog:
    """The run's log; `max_workers` is the most objects the run may copy at once."""
    return TransferLog(
        src=config.src.log_side(), dst=config.dst.log_side(), max_workers=pool_size(workers)
    )


def log_target(config: TransferConfig) -> S3LogTarget | None:
    if config.log_side is None:
        return None
    return S3LogTarget(
        config.log_side.bucket, config.log_side.prefix, config.log_side.endpoint_urls
    )


def log_factory(config: TransferConfig, base: AwsOptions) -> ClientFactory | None:
    side = config.log_side
    if side is None:
        return None
    return side.factory(base, side.endpoint_urls[0] if side.endpoint_urls else None, 4)


class TransferLogReporter:
    """Feeds the engine's events into the transfer log."""

    def __init__(
        self,
        log: TransferLog,
        src: Side,
        dst: Side,
        *,
        engine: str | None = None,
        totals_from_plan: bool = True,
        archives: dict[str, str] | None = None,
    ) -> None:
        self.log = log
        self.engine = engine
        self.archives = archives if archives is not None else {}
        self.totals_from_plan = totals_from_plan
        self.src_prefix = src.url.key_prefix()
        self.dst_prefix = dst.url.key_prefix()
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def planned(self, name: str, plan: Plan) -> None:
        if not self.totals_from_plan:
            return  # part of a larger plan, whose totals are already set
        self.log.set_initial(
            synced_objects=plan.unchanged,
            unsynced_objects=len(plan.copies),
            total_bytes_to_move=plan.bytes_to_copy,
        )

    def started(self, action: Action) -> None:
        with self._lock:
            self._started[action.key] = time.time()

    def advanced(self, byte_count: int) -> None:
        pass

    def finished(self, action: Action, error: str | None) -> None:
        with self._lock:
            started = self._started.pop(action.key, time.time())
        source_key = f"{self.src_prefix}{action.key}"
        if error:
            self.log.record_failed(source_key, error)
        else:
            marks = {"engine": self.engine} if self.engine else {}
            if action.key in self.archives:
                marks["archive"] = self.archives[action.key]
            self.log.record_moved(
                source_key,
                f"{self.dst_prefix}{action.key}",
                action.size,
                started,
                time.time(),
                **marks,
            )
