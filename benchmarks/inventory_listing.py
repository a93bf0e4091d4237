"""Source listing from an S3 Inventory report beside LIST, on the loopback moto endpoint.

    .venv/bin/python benchmarks/inventory_listing.py [--objects 1000000] [--list-objects 100000]

Writes an inventory report of `--objects` rows (manifest.json + gzip CSV files, the
documented layout) straight into a bucket of a moto server on 127.0.0.1, then, each
in a fresh process so that peak memory is its own:

- `inventory-stream`: `InventoryStore.list()` over the whole report, entries
  counted and dropped (what the listing itself costs);
- `inventory-held`: the same, every entry kept in a list, as `prepare()` holds a
  source listing to plan;
- `list`: `S3Store.list()` (ListObjectsV2 pages) over `--list-objects` objects
  seeded in moto's backend, timed and extrapolated linearly to `--objects`
  (writing a million objects into moto takes far too long).

Prints one JSON document with seconds, entries and peak RSS (MiB) per run.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(HERE))

BUCKET = "src-bkt"
REPORT_BUCKET = "inv-bkt"
PREFIX = "plan"
ROWS_PER_FILE = 250_000
REPORT = f"inventory/{BUCKET}/daily/2024-01-15T01-00Z"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_endpoint(list_objects: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    argv = [
        sys.executable,
        str(HERE / "seeded_endpoint.py"),
        str(port),
        BUCKET,
        PREFIX,
        str(list_objects),
        "16",
        str(1_700_000_000 * 10**9),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the moto endpoint did not start")


def client(url: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )


def write_report(s3: Any, rows: int) -> str:
    """The report in the documented layout; returns the manifest's URL."""
    from seeded_endpoint import tree_keys

    s3.create_bucket(Bucket=REPORT_BUCKET)
    files = []
    keys = tree_keys(rows)
    for start in range(0, rows, ROWS_PER_FILE):
        text = io.StringIO()
        writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for key in keys[start : start + ROWS_PER_FILE]:
            writer.writerow(
                [
                    BUCKET,
                    f"{PREFIX}/{key}",
                    "16",
                    "2024-01-14T10:00:00.000Z",
                    "3b0c1d4e5f6a7b8c9d0e1f2a3b4c5d6e",
                ]
            )
        body = gzip.compress(text.getvalue().encode(), compresslevel=6)
        key = f"inventory/{BUCKET}/daily/data/{start // ROWS_PER_FILE:04d}.csv.gz"
        s3.put_object(Bucket=REPORT_BUCKET, Key=key, Body=body)
        files.append({"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
    manifest = {
        "sourceBucket": BUCKET,
        "destinationBucket": f"arn:aws:s3:::{REPORT_BUCKET}",
        "version": "2016-11-30",
        "creationTimestamp": str(int(time.time() * 1000)),
        "fileFormat": "CSV",
        "fileSchema": "Bucket, Key, Size, LastModifiedDate, ETag",
        "files": files,
    }
    s3.put_object(Bucket=REPORT_BUCKET, Key=f"{REPORT}/manifest.json", Body=json.dumps(manifest))
    return f"s3://{REPORT_BUCKET}/{REPORT}/manifest.json"


def child(mode: str, url: str, manifest: str) -> None:
    """One measured run (in its own process): prints {seconds, entries, peak_rss_mib}."""
    from s32s.aws.clients import AwsOptions, ClientFactory
    from s32s.paths import S3Url
    from s32s.sync.s3 import S3Store
    from s32s.transfers.inventory import inventory_source

    s3 = ClientFactory(AwsOptions(endpoint_url=url, region="us-east-1")).s3()
    store = S3Store(S3Url(BUCKET, PREFIX), s3)
    started = time.perf_counter()
    if mode.startswith("inventory"):
        store = inventory_source(manifest, store, s3)
    held: list[Any] = []
    count = 0
    for entry in store.list():
        count += 1
        if mode == "inventory-held":
            held.append(entry)
    seconds = time.perf_counter() - started
    print(
        json.dumps({"seconds": round(seconds, 2), "entries": count, "peak_rss_mib": peak_rss_mib()})
    )


def peak_rss_mib() -> int:
    """This process's peak RSS. VmHWM belongs to the process image: `ru_maxrss` on Linux
    also counts what the parent held when it forked this child, before the exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def measure(mode: str, url: str, manifest: str) -> dict[str, Any]:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}
    output = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, manifest],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--list-objects", type=int, default=100_000)
    parser.add_argument(
        "--child", nargs=3, metavar=("MODE", "URL", "MANIFEST"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    process, url = start_endpoint(args.list_objects)
    try:
        manifest = write_report(client(url), args.objects)
        results = {
            mode: measure(mode, url, manifest)
            for mode in ("inventory-stream", "inventory-held", "list")
        }
    finally:
        process.terminate()
        process.wait()
    listed = results["list"]
    per_object = listed["seconds"] / max(listed["entries"], 1)
    results["list"]["extrapolated_seconds_for_objects"] = round(per_object * args.objects, 1)
    print(
        json.dumps(
            {"objects": args.objects, "list_objects": args.list_objects, **results}, indent=2
        )
    )


if __name__ == "__main__":
    main()
