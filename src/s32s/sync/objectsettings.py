"""How objects are written and read: Content-Type, storage class, encryption.

One `ObjectSettings` value belongs to each S3 store. It turns into the extra
arguments of every request kind S3 needs them on, in one place per kind, so
the store's request code stays the same whatever the settings:

| request                               | what the settings add                                   |
|---------------------------------------|---------------------------------------------------------|
| PutObject, CreateMultipartUpload      | ContentType, StorageClass, SSE (AES256 / KMS) or SSE-C  |
| UploadPart, GetObject, HeadObject     | SSE-C (S3 refuses these without the key)                |
| CopyObject                            | StorageClass, SSE or SSE-C; the source's SSE-C key      |
| UploadPartCopy                        | SSE-C; the source's SSE-C key                           |

Settings decide how an object is *written*: an object whose content is
unchanged is not uploaded again because the settings changed (as with
`aws s3 sync` and rclone). The SSE-C key is never shown: not in `repr`, not
in logs (botocore's debug log is filtered while a key is loaded).
"""

from __future__ import annotations

import base64
import binascii
import logging
import mimetypes
import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from s32s.errors import ConfigError

logger = logging.getLogger(__name__)

#: The storage classes S3 accepts on a write (PutObject's StorageClass).
STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
)
#: Server-side encryption with keys S3 or KMS holds.
SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
SSE_C_KEY_BYTES = 32

# Web types the standard table lacks or names differently on some platforms.
_WEB_TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/vnd.microsoft.icon",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".wasm": "application/wasm",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".m4a": "audio/mp4",
    ".flac": "audio/flac",
    ".7z": "application/x-7z-compressed",
    ".gz": "application/gzip",
    ".zst": "application/zstd",
}


def _build_types() -> mimetypes.MimeTypes:
    # A fresh MimeTypes holds Python's built-in table only: the same answer on
    # every machine, never the Windows registry's or /etc/mime.types' opinion.
    table = mimetypes.MimeTypes()
    for extension, content_type in _WEB_TYPES.items():
        table.add_type(content_type, extension)
    return table


_TYPES = _build_types()


def guess_content_type(key: str) -> str | None:
    """The Content-Type for a file name, from its extension; None when unknown."""
    name = key.rsplit("/", 1)[-1]
    if "." not in name:
        return None
    extension = "." + name.rsplit(".", 1)[-1].lower()
    known = _TYPES.types_map[True].get(extension)
    if known is not None:
        return known
    guessed, _ = _TYPES.guess_type(name, strict=False)
    return guessed


def normalize_storage_class(value: str, where: str = "--storage-class") -> str:
    """STANDARD_IA from `standard_ia`; a `ConfigError` naming the accepted values otherwise."""
    upper = value.strip().upper().replace("-", "_")
    if upper not in STORAGE_CLASSES:
        raise ConfigError(
            f"{where}: {value!r} is not an S3 storage class.",
            f"Accepted values: {', '.join(STORAGE_CLASSES)}.",
        )
    return upper


def normalize_sse(value: str, where: str = "--sse") -> str:
    """AES256 or aws:kms (aws:kms:dsse) whatever the case; a `ConfigError` otherwise."""
    for algorithm in SSE_ALGORITHMS:
        if value.strip().lower() == algorithm.lower():
            return algorithm
    raise ConfigError(
        f"{where}: {value!r} is not a server-side encryption S3 knows.",
        f"Accepted values: {', '.join(SSE_ALGORITHMS)} (SSE-C takes --sse-c-key-file).",
    )


@dataclass(frozen=True)
class ObjectSettings:
    """How one store writes (and, with SSE-C, reads) its objects. Every field optional.

    `guess_content_type`: set Content-Type from the file name on uploads
    (copies between buckets keep the source's). `storage_class`: None leaves
    S3's default (STANDARD). `sse` / `sse_kms_key_id`: None leaves the
    bucket's default encryption. `sse_c_key`: the 32-byte customer key
    (SSE-C); it is sent on every request that reads or writes the data.
    """

    guess_content_type: bool = True
    storage_class: str | None = None
    sse: str | None = None
    sse_kms_key_id: str | None = None
    sse_c_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.storage_class is not None:
            object.__setattr__(self, "storage_class", normalize_storage_class(self.storage_class))
        if self.sse is not None:
            object.__setattr__(self, "sse", normalize_sse(self.sse))
        if self.sse_kms_key_id and not (self.sse or "").startswith("aws:kms"):
            raise ConfigError(
                "A KMS key id (--sse-kms-key-id, sse_kms_key_id) needs --sse aws:kms.",
                "Add --sse aws:kms (or sse: aws:kms), or drop the key id.",
            )
        if self.sse and self.sse_c_key is not None:
            raise ConfigError(
                f"--sse {self.sse} and --sse-c-key-file cannot be used together.",
                "An object is encrypted with S3's or KMS's keys, or with yours (SSE-C): choose one.",
            )
        if self.sse_c_key is not None and len(self.sse_c_key) != SSE_C_KEY_BYTES:
            raise ConfigError(f"An SSE-C key must be {SSE_C_KEY_BYTES} bytes (AES-256).")
        if self.sse_c_key is not None:
            _hide_from_botocore_logs(self.sse_c_key)

    @classmethod
    def from_options(
        cls,
        *,
        guess_mime_type: bool = True,
        storage_class: str | None = None,
        sse: str | None = None,
        sse_kms_key_id: str | None = None,
        sse_c_key_file: str | os.PathLike[str] | None = None,
    ) -> ObjectSettings:
        """Settings from the options as a user gives them (the key as a file path)."""
        return cls(
            guess_content_type=guess_mime_type,
            storage_class=storage_class,
            sse=sse,
            sse_kms_key_id=sse_kms_key_id,
            sse_c_key=load_sse_c_key(sse_c_key_file) if sse_c_key_file else None,
        )

    # combining -------------------------------------------------------------
    def overridden_by(self, other: ObjectSettings) -> ObjectSettings:
        """These settings (a map's, a transfer side's) with what `other` (the flags) sets.

        Encryption is one choice: when `other` names one (SSE or SSE-C), it
        replaces this one whole, KMS key id included.
        """
        result = replace(
            self,
            guess_content_type=self.guess_content_type and other.guess_content_type,
            storage_class=other.storage_class or self.storage_class,
        )
        if other.sse or other.sse_c_key is not None:
            result = replace(
                result,
                sse=other.sse,
                sse_kms_key_id=other.sse_kms_key_id,
                sse_c_key=other.sse_c_key,
            )
        return result

    @property
    def etags_are_content_md5(self) -> bool:
        """False when S3 makes ETags that are not the content's MD5 (SSE-KMS, SSE-C)."""
        return self.sse_c_key is None and not (self.sse or "").startswith("aws:kms")

    # request arguments, one method per request kind --------------------------
    def sse_c_args(self) -> dict[str, Any]:
        """For GetObject, HeadObject and UploadPart (S3 needs the key to touch the data)."""
        if self.sse_c_key is None:
            return {}
        # botocore base64-encodes the key and adds its MD5.
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": self.sse_c_key}

    def copy_source_args(self) -> dict[str, Any]:
        """Read this store's SSE-C object as a copy source (CopyObject, UploadPartCopy)."""
        if self.sse_c_key is None:
            return {}
        return {
            "CopySourceSSECustomerAlgorithm": "AES256",
            "CopySourceSSECustomerKey": self.sse_c_key,
        }

    def _encryption_args(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.sse:
            arguments["ServerSideEncryption"] = self.sse
        if self.sse_kms_key_id:
            arguments["SSEKMSKeyId"] = self.sse_kms_key_id
        return arguments | self.sse_c_args()

    def write_args(self, key: str, content_type: str | None = None) -> dict[str, Any]:
        """For PutObject and CreateMultipartUpload of `key`.

        `content_type` is the source's (S3 → S3 across endpoints); without it,
        the type is guessed from the key unless guessing is off.
        """
        arguments = self._encryption_args()
        if self.storage_class:
            arguments["StorageClass"] = self.storage_class
        if content_type is None and self.guess_content_type:
            content_type = guess_content_type(key)
        if content_type:
            arguments["ContentType"] = content_type
        return arguments

    def marker_args(self) -> dict[str, Any]:
        """For a folder marker's PutObject: encryption and class, no Content-Type."""
        arguments = self._encryption_args()
        if self.storage_class:
            arguments["StorageClass"] = self.storage_class
        return arguments

    def copy_args(self, source: ObjectSettings) -> dict[str, Any]:
        """For CopyObject into this store from `source` (metadata and Content-Type are copied)."""
        arguments = self._encryption_args() | source.copy_source_args()
        if self.storage_class:
            arguments["StorageClass"] = self.storage_class
        return arguments

    def part_copy_args(self, source: ObjectSettings) -> dict[str, Any]:
        """For UploadPartCopy into this store from `source`."""
        return self.sse_c_args() | source.copy_source_args()


DEFAULT_SETTINGS = ObjectSettings()


def settings_from_keys(raw: dict[str, Any], where: str) -> ObjectSettings:
    """The settings a path map or a transfer config's side names (`storage_class`, `sse`,
    `sse_kms_key_id`); each error names `where` and the key."""
    values: dict[str, str] = {}
    for key in ("storage_class", "sse", "sse_kms_key_id"):
        value = raw.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: key {key!r} must be a non-empty string, not {value!r}.")
        values[key] = value.strip()
    storage_class = values.get("storage_class")
    sse = values.get("sse")
    try:
        if storage_class is not None:
            storage_class = normalize_storage_class(storage_class, f"{where}: key 'storage_class'")
        if sse is not None:
            sse = normalize_sse(sse, f"{where}: key 'sse'")
        return ObjectSettings(
            storage_class=storage_class, sse=sse, sse_kms_key_id=values.get("sse_kms_key_id")
        )
    except ConfigError as exc:
        if exc.message.startswith(where):
            raise
        raise ConfigError(f"{where}: {exc.message}", exc.hint) from None


def load_sse_c_key(path: str | os.PathLike[str]) -> bytes:
    """Read an SSE-C key file: 32 raw bytes, or the key as 44 base64 or 64 hex characters.

    The key is never part of an error message. A key file that others can
    read is used, with a warning.
    """
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"The SSE-C key file {file} cannot be read: {exc.strerror or exc}.",
            "Give the path of a file holding the 256-bit key (--sse-c-key-file).",
        ) from None
    key = _decode_key(data)
    if key is None:
        raise ConfigError(
            f"The SSE-C key file {file} does not hold a 256-bit key.",
            "It must hold 32 raw bytes, or the key as 44 base64 or 64 hex characters "
            "(for example `openssl rand 32 > key.bin`).",
        )
    if os.name == "posix":
        mode = stat.S_IMODE(file.stat().st_mode)
        if mode & 0o077:
            logger.warning(
                "The SSE-C key file %s is readable by others (mode %o): run `chmod 600 %s`.",
                file,
                mode,
                file,
            )
    return key


def _decode_key(data: bytes) -> bytes | None:
    if len(data) == SSE_C_KEY_BYTES:
        return data
    text = data.strip()
    if len(text) == 2 * SSE_C_KEY_BYTES:
        try:
            return bytes.fromhex(text.decode("ascii"))
        except (ValueError, UnicodeDecodeError):
            pass
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded if len(decoded) == SSE_C_KEY_BYTES else None


# keeping the key out of logs --------------------------------------------------
class _RedactSecrets(logging.Filter):
    """Replaces loaded SSE-C keys (raw and base64) in log records with `***`."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = _RedactSecrets()
# botocore's loggers that write request parameters or signed headers at DEBUG.
_BOTOCORE_LOGGERS = (
    "botocore.endpoint",
    "botocore.auth",
    "botocore.client",
    "botocore.handlers",
    "botocore.parsers",
)


def _hide_from_botocore_logs(key: bytes) -> None:
    encoded = base64.b64encode(key).decode("ascii")
    if encoded in _REDACTOR.secrets:
        return
    _REDACTOR.secrets.update({encoded, repr(key), key.hex()})
    for name in _BOTOCORE_LOGGERS:
        target = logging.getLogger(name)
        if _REDACTOR not in target.filters:
            target.addFilter(_REDACTOR)
