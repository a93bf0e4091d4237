"""moto's S3 server on 127.0.0.1, with a bucket prefix filled before it starts serving.

Writing 100,000 objects through moto's HTTP layer takes many minutes; putting them
straight into moto's in-memory backend takes seconds, and the server then answers
LIST and HEAD for them like for any other object. Each object carries rclone's
`mtime` metadata (seconds since the epoch with a fraction), the same record s32s
and rclone write, so every tool sees the tree as already in sync.

    python benchmarks/seeded_endpoint.py PORT BUCKET PREFIX COUNT SIZE MTIME_NS
"""

from __future__ import annotations

import sys


def seed(bucket: str, prefix: str, count: int, size: int, mtime_ns: int) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    backend.create_bucket(bucket, "us-east-1")
    seconds, fraction = divmod(mtime_ns, 1_000_000_000)
    metadata = {"x-amz-meta-mtime": f"{seconds}.{fraction:09d}"}
    body = b"x" * size
    for key in tree_keys(count):
        obj = backend.put_object(bucket, f"{prefix}/{key}", body, disable_notification=True)
        obj.set_metadata(dict(metadata))


def tree_keys(count: int, per_dir: int = 100) -> list[str]:
    """The relative paths of the seeded tree: `dNNNN/fNNNNNN`, `per_dir` files a folder."""
    return [f"d{i // per_dir:04d}/f{i:06d}" for i in range(count)]


def main(argv: list[str]) -> None:
    port, bucket, prefix, count, size, mtime_ns = argv
    seed(bucket, prefix, int(count), int(size), int(mtime_ns))
    import moto.server

    moto.server.main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main(sys.argv[1:])
