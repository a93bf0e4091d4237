"""What botocore's checksum settings cost: push and pull with each, on moto's server (loopback).

s32s sends and checks CRC32 checksums (`when_supported`) on AWS over HTTPS and
only where an operation requires one (`when_required`) on every other
endpoint (aws/clients.py `checksum_setting`). This forces each setting on the
S3 client and times a push of N files of 1 MiB, a push of one 64 MiB file (in
8 MiB parts), and the pull of both into an empty folder, alternating the
settings for `--repeat` rounds (the order alternates), over HTTP and over
HTTPS (a self-signed certificate): botocore signs every payload with SHA-256
over HTTP, and over HTTPS only when no checksum goes with it. Wall time and
the CPU time of the s32s process (moto runs in its own) are reported as
medians. About a minute and a half on 2 CPUs with the defaults.

    python benchmarks/checksums.py [--files 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.motoendpoint import DEMO_CREDENTIALS, MotoEndpoint
from s32s.paths import S3Url
from s32s.sync.events import NullReporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from tests.helpers import make_certificate  # the tests' self-signed certificate

MiB = 1024 * 1024
SETTINGS = ("when_required", "when_supported")
Figures = dict[str, dict[str, list[tuple[float, float]]]]  # {setting: {run: [(wall, cpu)]}}


def timed_sync(source: Any, dest: Any) -> tuple[float, float]:
    job = SyncJob("bench", source, dest, execute_options=ExecuteOptions(workers=16))
    wall, cpu = time.perf_counter(), time.process_time()
    report = execute(prepare(job), NullReporter())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.failed:
        raise SystemExit(f"the run failed: {report.failed}")
    return wall, cpu


def factory_for(url: str, setting: str | None = None) -> ClientFactory:
    return ClientFactory(
        AwsOptions(
            endpoint_url=url,
            region="us-east-1",
            checksums=setting,
            max_pool_connections=16,
            verify_tls=False,  # the HTTPS endpoint's certificate is self-signed
        )
    )


def one_round(
    url: str, setting: str, trees: dict[str, Path], work: Path, round_: int
) -> dict[str, tuple[float, float]]:
    times = {}
    with StoreFactory(factory_for(url, setting), 16) as stores:
        for name, tree in trees.items():
            remote = stores.s3(S3Url("bench", f"{setting}-{round_}/{name}"))
            times[f"push {name}"] = timed_sync(LocalStore(tree), remote)
            target = work / f"pull-{setting}-{round_}-{name}"
            target.mkdir()
            times[f"pull {name}"] = timed_sync(remote, LocalStore(target))
            shutil.rmtree(target)
    return times


def measure(url: str, trees: dict[str, Path], work: Path, repeat: int) -> Figures:
    factory_for(url).s3().create_bucket(Bucket="bench")
    results: Figures = {setting: {} for setting in SETTINGS}
    for round_ in range(repeat):
        for setting in SETTINGS[:: 1 if round_ % 2 == 0 else -1]:  # neither always first
            for task, figures in one_round(url, setting, trees, work, round_).items():
                results[setting].setdefault(task, []).append(figures)
    return results


def start_tls_moto(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """moto's server over HTTPS on a free loopback port."""
    cert, key = make_certificate(folder)
    port = MotoEndpoint().port
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(
        [*command, "-c", str(cert), "-k", str(key)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"https://127.0.0.1:{port}"
    unverified = ssl.create_default_context()
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1, context=unverified).read()
            return process, url
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.terminate()
                raise SystemExit(f"moto's server did not start on {url}") from None
            time.sleep(0.1)


def print_rows(transport: str, results: Figures) -> None:
    for task in results[SETTINGS[0]]:
        cells = []
        for setting in SETTINGS:
            runs = results[setting][task]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{wall:.2f} s / {cpu:.2f} s")
        print(f"| {transport} | {task} | {' | '.join(cells)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=128, help="how many 1 MiB files (default 128)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each setting (default 3)")
    args = parser.parse_args()
    os.environ.update(DEMO_CREDENTIALS)
    with tempfile.TemporaryDirectory(prefix="s32s-checksums-") as scratch:
        work = Path(scratch)
        os.environ["S32S_STATE_DIR"] = str(work / "state")
        small, large = work / "small", work / "large"
        small.mkdir()
        large.mkdir()
        for index in range(args.files):
            (small / f"f{index:03d}.bin").write_bytes(os.urandom(MiB))
        (large / "big.bin").write_bytes(os.urandom(64 * MiB))
        trees = {f"{args.files} x 1 MiB": small, "1 x 64 MiB": large}
        print(f"| | run | {' | '.join(f'{s}: wall / CPU' for s in SETTINGS)} |")
        print(f"|---|---|{'---|' * len(SETTINGS)}")
        with MotoEndpoint() as endpoint:
            print_rows("HTTP", measure(endpoint.url, trees, work, args.repeat))
        process, url = start_tls_moto(work)
        try:
            print_rows("HTTPS", measure(url, trees, work, args.repeat))
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
