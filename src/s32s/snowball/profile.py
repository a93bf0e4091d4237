"""Write the device's keys as a named profile in the AWS shared files.

The credentials file gets `[NAME]` with the access key and secret; the config
file gets `[profile NAME]` with `region = snow` and `output = json` (and
`endpoint_url` when given). Only that section changes: every other profile,
comment and blank line of both files stays as it was, like `aws configure set`.
Both files are written atomically with mode 0600.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from s32s.atomicfile import write_atomically
from s32s.errors import ConfigError
from s32s.inifile import set_keys
from s32s.snowball.folder import DeviceKeys

SNOW_REGION = "snow"
_VALID_NAME = re.compile(r"^[A-Za-z0-9_.@+\-]+$")


@dataclass(frozen=True)
class ProfileResult:
    name: str
    credentials_file: Path
    config_file: Path
    endpoint_url: str | None


def aws_files() -> tuple[Path, Path]:
    """The shared credentials and config files, honouring the AWS_* variables."""
    home = Path.home()
    credentials = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or str(
        home / ".aws" / "credentials"
    )
    config = os.environ.get("AWS_CONFIG_FILE") or str(home / ".aws" / "config")
    return Path(credentials).expanduser(), Path(config).expanduser()


def check_profile_name(name: str) -> str:
    if not _VALID_NAME.match(name):
        raise ConfigError(
            f"{name!r} cannot be an AWS profile name.",
            "Use letters, digits and - _ . @ + only: pass --name, or rename the folder.",
        )
    return name


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"AWS file {path} cannot be read: {exc}.", "Fix its permissions or encoding."
        ) from None


def write_profile(
    name: str,
    keys: DeviceKeys,
    *,
    endpoint_url: str | None = None,
    credentials_file: Path | None = None,
    config_file: Path | None = None,
) -> ProfileResult:
    """Write profile `name` (region snow, output json) into the AWS shared files."""
    check_profile_name(name)
    default_credentials, default_config = aws_files()
    credentials_file = credentials_file or default_credentials
    config_file = config_file or default_config
    credentials, _ = set_keys(
        _read(credentials_file),
        name,
        {"aws_access_key_id": keys.access_key_id, "aws_secret_access_key": keys.secret_access_key},
    )
    settings = {"region": SNOW_REGION, "output": "json"}
    if endpoint_url:
        settings["endpoint_url"] = endpoint_url
    config_header = name if name == "default" else f"profile {name}"
    config, _ = set_keys(_read(config_file), config_header, settings)
    write_atomically(credentials_file, credentials, private=True)
    write_atomically(config_file, config, private=True)
    return ProfileResult(name, credentials_file, config_file, endpoint_url)
