"""A second backup after a small change, beside `s32s sync` of the same change.

    .venv/bin/python benchmarks/backup_incremental.py [--endpoint wan|loopback] [--files 2000]

Writes `--files` files of 4 KiB, takes a first `s32s backup create`, changes
`--changed` of them, then times, each on the same endpoint through the request
counter of benchmarks/wanproxy.py (on loopback with no delay and no rate cap):

- `backup`: the second `s32s backup create` (uploads the changed files, copies
  the others server-side from the last snapshot);
- `sync`: `s32s sync` of the same change to a prefix that held the old tree.

Prints one JSON document: seconds and requests by kind for each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CREDENTIALS, Endpoint, LinkProxy, free_port, run_delta  # noqa: E402

BUCKET = "backup-bench"


def s32s(url: str, *args: str) -> float:
    """Run the installed s32s against `url`; its wall time in seconds."""
    executable = Path(sys.executable).with_name("s32s")
    env = {**os.environ, **CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}
    started = time.monotonic()
    subprocess.run(
        [str(executable), "-q", "--endpoint-url", url, *args],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def measured(proxy: LinkProxy, *args: str) -> dict[str, object]:
    before = proxy.counts()
    seconds = s32s(proxy.url, *args)
    delta = run_delta(before, proxy.counts())
    return {"seconds": round(seconds, 2), "requests": delta["requests"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", choices=["wan", "loopback"], default="wan")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--changed", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="s32s-backup-bench-"))
    port = free_port()
    if args.endpoint == "wan":
        rclone = str(Path(sys.executable).with_name("rclone"))
        server = Endpoint.rclone(rclone, work / "server" / "data", port)
        rtt, rate = 100.0, 25.0
    else:
        server = Endpoint.moto(port)
        rtt, rate = 0.0, 0.0
    server.wait_ready(30)
    proxy = LinkProxy(server.url, rtt, rate)
    try:
        source = work / "source"
        source.mkdir()
        for index in range(args.files):
            (source / f"f{index:05d}").write_bytes(os.urandom(4096))
        _make_bucket(proxy.url)
        location = f"s3://{BUCKET}/backups"
        s32s(proxy.url, "backup", "create", str(source), location)
        s32s(proxy.url, "sync", str(source), f"s3://{BUCKET}/mirror")
        time.sleep(1.1)  # a new snapshot name (whole seconds)
        for index in range(args.changed):
            (source / f"f{index:05d}").write_bytes(os.urandom(4096))
        result = {
            "endpoint": args.endpoint,
            "files": args.files,
            "changed": args.changed,
            "backup": measured(proxy, "backup", "create", str(source), location),
            "sync": measured(proxy, "sync", str(source), f"s3://{BUCKET}/mirror"),
        }
        print(json.dumps(result, indent=2))
    finally:
        proxy.stop()
        server.stop()


def _make_bucket(url: str) -> None:
    import boto3

    boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=BUCKET)


if __name__ == "__main__":
    main()
