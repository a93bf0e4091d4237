"""What botocore's checksum settings cost: push and pull with each, on moto's server (loopback).

s32s sends and checks CRC32 checksums (`when_supported`) on AWS over HTTPS and
only where an operation requires one (`when_required`) on every other
endpoint (aws/clients.py `checksum_setting`). This forces each setting on the
S3 client and times a push of N files of 1 MiB, a push of one 64 MiB file (in
8 MiB parts), and the pull of both into an empty folder, alternating the
settings for `--repeat` rounds (the order alternates). Wall time and the CPU time of the s32s
process (moto runs in its own) are reported as medians. About 40 seconds
on 2 CPUs with the defaults.

    python benchmarks/checksums.py [--files 128] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from s32s.aws.clients import AwsOptions, ClientFactory
from s32s.maps.runner import StoreFactory
from s32s.motoendpoint import DEMO_CREDENTIALS, MotoEndpoint
from s32s.paths import S3Url
from s32s.sync.events import NullReporter
from s32s.sync.execute import ExecuteOptions
from s32s.sync.job import SyncJob, execute, prepare
from s32s.sync.local import LocalStore

MiB = 1024 * 1024
SETTINGS = ("when_required", "when_supported")


def timed_sync(factory: ClientFactory, source: object, dest: object) -> tuple[float, float]:
    job = SyncJob("bench", source, dest, execute_options=ExecuteOptions(workers=16))  # type: ignore[arg-type]
    wall, cpu = time.perf_counter(), time.process_time()
    report = execute(prepare(job), NullReporter())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if report.failed:
        raise SystemExit(f"the run failed: {report.failed}")
    return wall, cpu


def one_round(
    url: str, setting: str, trees: dict[str, Path], work: Path, round_: int
) -> dict[str, tuple[float, float]]:
    factory = ClientFactory(
        AwsOptions(endpoint_url=url, region="us-east-1", checksums=setting, max_pool_connections=16)
    )
    times = {}
    with StoreFactory(factory, 16) as stores:
        for name, tree in trees.items():
            remote = stores.s3(S3Url("bench", f"{setting}-{round_}/{name}"))
            times[f"push {name}"] = timed_sync(factory, LocalStore(tree), remote)
            target = work / f"pull-{setting}-{round_}-{name}"
            target.mkdir()
            times[f"pull {name}"] = timed_sync(factory, remote, LocalStore(target))
            shutil.rmtree(target)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=128, help="how many 1 MiB files (default 128)")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of each setting (default 5)")
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
        endpoint = MotoEndpoint().start()
        try:
            ClientFactory(
                AwsOptions(endpoint_url=endpoint.url, region="us-east-1")
            ).s3().create_bucket(Bucket="bench")
            results: dict[str, dict[str, list[tuple[float, float]]]] = {s: {} for s in SETTINGS}
            for round_ in range(args.repeat):
                for setting in SETTINGS[:: 1 if round_ % 2 == 0 else -1]:  # neither always first
                    for task, figures in one_round(
                        endpoint.url, setting, trees, work, round_
                    ).items():
                        results[setting].setdefault(task, []).append(figures)
        finally:
            endpoint.stop()
    print(f"| run | {' | '.join(f'{s} wall / CPU' for s in SETTINGS)} |")
    print(f"|---|{'---|' * len(SETTINGS)}")
    for task in results[SETTINGS[0]]:
        cells = []
        for setting in SETTINGS:
            runs = results[setting][task]
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            cells.append(f"{wall:.2f} s / {cpu:.2f} s")
        print(f"| {task} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
