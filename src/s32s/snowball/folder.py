"""The Snowball folder: manifest, sbe_config.yaml and keys.yaml (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.errors import ConfigError
from s32s.yamlfile import read_yaml

CONFIG_NAME = "sbe_config.yaml"
KEYS_NAME = "keys.yaml"
MANIFEST_SUFFIX = "manifest.bin"


@dataclass(frozen=True)
class SnowballFolder:
    """What one Snowball folder says about its device. `unlock_code` is a secret."""

    path: Path
    manifest: Path
    endpoint_url: str
    unlock_code: str = field(repr=False)

    @property
    def name(self) -> str:
        """The folder's name: the default name of the AWS profile."""
        return self.path.name

    @property
    def keys_file(self) -> Path:
        return self.path / KEYS_NAME

    @property
    def config_file(self) -> Path:
        return self.path / CONFIG_NAME


@dataclass(frozen=True)
class DeviceKeys:
    """The device's S3 credentials. `secret_access_key` is a secret."""

    access_key_id: str
    secret_access_key: str = field(repr=False)


def resolve_folder(path: Path) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"Snowball folder {folder} does not exist or is not a folder.",
            "Pass the folder that holds the job's manifest and sbe_config.yaml.",
        )
    return folder


def find_manifest(folder: Path) -> Path:
    """The one `*manifest.bin` in `folder` (not in subfolders)."""
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(MANIFEST_SUFFIX))
    if not found:
        raise ConfigError(
            f"No *{MANIFEST_SUFFIX} file in {folder}.",
            "Download the job's manifest from the AWS Snow Family console into this folder.",
        )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise ConfigError(
            f"{folder} holds several manifests ({names}).",
            "Keep only the manifest of this device's job in the folder.",
        )
    return found[0]


def _read_yaml_mapping(path: Path, *, hint: str) -> dict[str, Any]:
    data = read_yaml(path, hint=hint)
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold `key: value` lines.", hint)
    return data


def _required_text(data: dict[str, Any], path: Path, key: str, example: str) -> str:
    value = data.get(key)
    if value is None or not str(value).strip():
        raise ConfigError(
            f"{path} has no `{key}`.",
            f"Add a line such as `{key}: {example}`.",
        )
    return str(value).strip()


def normalize_endpoint(endpoint: str) -> str:
    """The device endpoint as the client wants it: `https://` plus the address."""
    endpoint = endpoint.strip().rstrip("/")
    if "://" not in endpoint:
        endpoint = f"https://{endpoint}"
    return endpoint


def load_folder(path: Path) -> SnowballFolder:
    """Find the manifest and read sbe_config.yaml; every problem names the file and key."""
    folder = resolve_folder(path)
    manifest = find_manifest(folder)
    config_file = folder / CONFIG_NAME
    data = _read_yaml_mapping(
        config_file,
        hint="Create it with the lines `unlock_key: <29-character code>` and `endpoint_url: https://DEVICE-IP`.",
    )
    unlock_code = _required_text(data, config_file, "unlock_key", '"12345-abcde-12345-ABCDE-12345"')
    endpoint = _required_text(data, config_file, "endpoint_url", "https://192.168.1.50")
    return SnowballFolder(
        path=folder,
        manifest=manifest,
        endpoint_url=normalize_endpoint(endpoint),
        unlock_code=unlock_code,
    )


def write_keys(folder: Path, keys: DeviceKeys) -> Path:
    """Write keys.yaml (the `sbe_*.py` format) with mode 0600."""
    import yaml

    from s32s.atomicfile import write_atomically

    target = folder / KEYS_NAME
    text = yaml.safe_dump(
        {"aws_access_key_id": keys.access_key_id, "aws_secret_access_key": keys.secret_access_key},
        default_flow_style=False,
        sort_keys=False,
    )
    write_atomically(target, text, private=True)
    return target


def read_keys(folder: Path) -> DeviceKeys:
    """Read keys.yaml written by `unlock` (or by the old sbe_unlock.py)."""
    path = folder / KEYS_NAME
    hint = f"Run `s32s snowball unlock {folder}` first: it writes keys.yaml."
    data = _read_yaml_mapping(path, hint=hint)
    return DeviceKeys(
        access_key_id=_required_text(data, path, "aws_access_key_id", "AKIA..."),
        secret_access_key=_required_text(data, path, "aws_secret_access_key", "<secret>"),
    )
