"""Helpers for tests: running the CLI in-process and through the installed executable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def invoke_cli(
    args: list[str], *, input: str | None = None, env: dict[str, str] | None = None
) -> CliResult:
    """`s32s ARGS` through click's CliRunner, with stdout and stderr apart."""
    from click.testing import CliRunner

    from s32s.cli import cli
    from s32s.cli.output import error_console

    error_console.cache_clear()
    runner = CliRunner()
    result = runner.invoke(
        cli, args, input=input, env=env, catch_exceptions=False, prog_name="s32s"
    )
    error_console.cache_clear()
    return CliResult(result.exit_code, result.stdout, result.stderr)


def s32s_executable() -> str:
    """The installed `s32s` next to the running interpreter."""
    candidate = os.path.join(os.path.dirname(sys.executable), "s32s")
    return candidate if os.path.exists(candidate) else (shutil.which("s32s") or "s32s")


def run_executable(
    args: list[str],
    *,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: str | None = None,
) -> CliResult:
    """Run the installed `s32s` in a subprocess, as a user or cron would."""
    completed = subprocess.run(
        [s32s_executable(), *args],
        input=input,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        cwd=cwd,
    )
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s32s test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "server.pem", directory / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
