"""Content hashes comparable with S3 ETags, for --checksum."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

from s32s.sync.s3 import MiB, part_size_for, preferred_part_size

_COMMON_PART_SIZES = (8 * MiB, 5 * MiB, 16 * MiB, 15 * MiB, 64 * MiB, 100 * MiB)


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def multipart_etag(path: Path, part_size: int) -> str:
    """The ETag S3 gives a multipart upload of this file in parts of `part_size`."""
    digests = []
    with open(path, "rb") as handle:
        while chunk := handle.read(part_size):
            digests.append(hashlib.md5(chunk, usedforsecurity=False).digest())
    combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(digests)}"


def guess_part_size(size: int, parts: int) -> list[int]:
    """Part sizes that would split `size` bytes into `parts` parts: s32s's own first."""
    candidates = [part_size_for(size, preferred_part_size()), *_COMMON_PART_SIZES]
    per_mib = math.ceil(size / parts / MiB) * MiB
    candidates.append(per_mib)
    return [c for c in dict.fromkeys(candidates) if math.ceil(size / c) == parts]


def local_etag_like(path: Path, size: int, remote_etag: str | None) -> str:
    """Hash a local file the way the remote ETag was made (plain MD5 or multipart)."""
    if remote_etag and "-" in remote_etag:
        parts = int(remote_etag.split("-")[1])
        for part_size in guess_part_size(size, parts):
            etag = multipart_etag(path, part_size)
            if etag == remote_etag:
                return etag
        return multipart_etag(path, part_size_for(size, preferred_part_size()))
    return file_md5(path)
