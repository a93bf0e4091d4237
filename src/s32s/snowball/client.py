"""A thin wrapper around the AWS `snowballEdge` client executable.

Commands and output formats are the client's documented ones:

- `unlock-device`, `describe-device`, `list-access-keys` and
  `get-secret-access-key --access-key-id ID` take either `--profile NAME` (a
  profile saved by `snowballEdge configure`) or `--manifest-file`,
  `--unlock-code` and `--endpoint`;
- `describe-device` and `list-access-keys` print JSON;
- `get-secret-access-key` prints an INI block (`[snowballEdge]`,
  `aws_access_key_id = ...`, `aws_secret_access_key = ...`);
- `configure` asks for the manifest path, the unlock code and the default
  endpoint on its standard input.

About secrets: the client reads the unlock code only from its command line or
from a profile saved by `snowballEdge configure`; it has no environment
variable or file option for it. So with inline credentials the unlock code is
in the client's arguments while it runs, where other users of the machine can
see it. `ClientAuth.profile()` avoids that; `configure` always does, since it
answers prompts on standard input. Whatever the client prints is passed
through `redact()` before it reaches a message, a log line or an exception,
and commands are logged with their secrets masked.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.errors import ExternalToolError

log = logging.getLogger(__name__)

CLIENT_NAME = "snowballEdge"
CLIENT_ENV = "S32S_SNOWBALL_CLIENT"
DOWNLOAD_HINT = (
    "Install the Snowball Edge client (https://aws.amazon.com/snowball/resources/) and put "
    f"`{CLIENT_NAME}` on PATH, or pass --client PATH or set ${CLIENT_ENV}."
)
MASK = "****"
DEFAULT_COMMAND_TIMEOUT = 300.0

# Prompts of `snowballEdge configure`, in order.
CONFIGURE_PROMPTS = ("Snowball Edge Manifest Path", "Unlock Code", "Default Endpoint")


def find_client(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The client: `explicit` (--client), else $S32S_SNOWBALL_CLIENT, else PATH."""
    if explicit:
        return _check_executable(Path(explicit).expanduser(), "--client")
    from_env = os.environ.get(CLIENT_ENV, "").strip()
    if from_env:
        return _check_executable(Path(from_env).expanduser(), f"${CLIENT_ENV}")
    found = shutil.which(CLIENT_NAME)
    if found is None:
        raise ExternalToolError(f"The `{CLIENT_NAME}` client was not found on PATH.", DOWNLOAD_HINT)
    return Path(found)


def _check_executable(path: Path, source: str) -> Path:
    resolved = shutil.which(str(path)) if path.parent == Path() else None
    candidate = Path(resolved) if resolved else path
    if not candidate.is_file() or not os.access(candidate, os.X_OK):
        raise ExternalToolError(
            f"The Snowball Edge client given by {source} ({path}) is not an executable file.",
            DOWNLOAD_HINT,
        )
    return candidate


def redact(text: str, secrets: Sequence[str]) -> str:
    """`text` with every secret replaced by ****."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


@dataclass(frozen=True)
class ClientAuth:
    """How the client reaches and authenticates to the device."""

    arguments: tuple[str, ...]
    secrets: tuple[str, ...] = field(default=(), repr=False)
    description: str = ""

    @classmethod
    def inline(cls, manifest: Path, unlock_code: str, endpoint: str) -> ClientAuth:
        return cls(
            arguments=(
                "--manifest-file",
                str(manifest),
                "--unlock-code",
                unlock_code,
                "--endpoint",
                endpoint,
            ),
            secrets=(unlock_code,),
            description=endpoint,
        )

    @classmethod
    def profile(cls, name: str, endpoint: str = "") -> ClientAuth:
        """A profile saved by `snowballEdge configure`: no secret on the command line."""
        return cls(
            arguments=("--profile", name),
            description=f"{endpoint or 'the device'} (client profile {name!r})",
        )


@dataclass(frozen=True)
class ClientResult:
    returncode: int
    stdout: str
    stderr: str


class SnowballClient:
    """Runs `snowballEdge` subcommands and parses their output."""

    def __init__(
        self, executable: Path, *, command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    ) -> None:
        self.executable = executable
        self.command_timeout = command_timeout

    # running -------------------------------------------------------------------
    def run(
        self,
        arguments: Sequence[str],
        *,
        secrets: Sequence[str] = (),
        stdin: str | None = None,
        check: bool = True,
    ) -> ClientResult:
        """Run the client; on failure raise ExternalToolError with its message, secrets masked."""
        command = [str(self.executable), *arguments]
        subcommand = arguments[0] if arguments else ""
        log.debug("running %s", redact(" ".join(command), secrets))
        try:
            completed = subprocess.run(
                command,
                input=stdin if stdin is not None else "",
                capture_output=True,
                text=True,
                timeout=self.command_timeout,
                check=False,
            )
        except FileNotFoundError:
            raise ExternalToolError(
                f"The Snowball Edge client {self.executable} cannot be run: it does not exist.",
                DOWNLOAD_HINT,
            ) from None
        except PermissionError:
            raise ExternalToolError(
                f"The Snowball Edge client {self.executable} cannot be run: permission denied.",
                f"Make it executable (chmod +x {self.executable}).",
            ) from None
        except OSError as exc:
            raise ExternalToolError(
                f"The Snowball Edge client {self.executable} cannot be run: {exc.strerror}.",
                DOWNLOAD_HINT,
            ) from None
        except subprocess.TimeoutExpired:
            # `from None`: the TimeoutExpired would show the command line and its secrets.
            raise ExternalToolError(
                f"`{CLIENT_NAME} {subcommand}` did not answer within {self.command_timeout:g} s.",
                "Check that the device is on, reachable from this machine, and try again.",
            ) from None
        result = ClientResult(
            completed.returncode,
            redact(completed.stdout, secrets),
            redact(completed.stderr, secrets),
        )
        if check and result.returncode != 0:
            raise ExternalToolError(
                f"`{CLIENT_NAME} {subcommand}` failed (exit {result.returncode}): "
                f"{client_message(result)}",
                _failure_hint(subcommand),
            )
        return result

    # commands ------------------------------------------------------------------
    def unlock_device(self, auth: ClientAuth) -> str:
        result = self.run(["unlock-device", *auth.arguments], secrets=auth.secrets)
        return result.stdout.strip()

    def describe_device(self, auth: ClientAuth) -> dict[str, Any]:
        result = self.run(["describe-device", *auth.arguments], secrets=auth.secrets)
        return parse_json_output(result.stdout, "describe-device")

    def list_access_keys(self, auth: ClientAuth) -> list[str]:
        result = self.run(["list-access-keys", *auth.arguments], secrets=auth.secrets)
        document = parse_json_output(result.stdout, "list-access-keys")
        keys = document.get("AccessKeyIds")
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ExternalToolError(
                f"`{CLIENT_NAME} list-access-keys` printed no AccessKeyIds list.",
                "Check the client's version, or run the command by hand to see its output.",
            )
        return keys

    def get_secret_access_key(self, auth: ClientAuth, access_key_id: str) -> str:
        # The secret is not known before the call; mask it in anything the caller raises.
        result = self.run(
            ["get-secret-access-key", "--access-key-id", access_key_id, *auth.arguments],
            secrets=auth.secrets,
        )
        return parse_secret_block(result.stdout, access_key_id)

    def configure(
        self, manifest: Path, unlock_code: str, endpoint: str, *, profile: str | None = None
    ) -> ClientResult:
        """Run `snowballEdge configure`, answering its prompts on standard input."""
        arguments = ["configure"]
        if profile:
            arguments += ["--profile", profile]
        answers = f"{manifest}\n{unlock_code}\n{endpoint}\n"
        result = self.run(arguments, secrets=(unlock_code,), stdin=answers)
        missing = [prompt for prompt in CONFIGURE_PROMPTS if prompt not in result.stdout]
        if missing:
            raise ExternalToolError(
                f"`{CLIENT_NAME} configure` did not ask for {', '.join(missing)}; "
                f"it printed: {client_message(result)}",
                "This client version asks other questions: run `snowballEdge configure` by hand.",
            )
        return result


def client_message(result: ClientResult) -> str:
    """The client's own explanation: stderr, else stdout, on one line."""
    text = (result.stderr.strip() or result.stdout.strip() or "no message").splitlines()
    message = " ".join(line.strip() for line in text if line.strip())
    return message if len(message) <= 400 else message[:397] + "..."


def _failure_hint(subcommand: str) -> str:
    if subcommand == "configure":
        return "Check the manifest path, the unlock code and the endpoint in sbe_config.yaml."
    return (
        "Check that the device is on and reachable at the endpoint, and that the manifest "
        "and unlock_key in sbe_config.yaml belong to this device's job."
    )


def parse_json_output(stdout: str, subcommand: str) -> dict[str, Any]:
    """The JSON object the client printed (any line before it, such as a notice, is skipped)."""
    start = stdout.find("{")
    if start >= 0:
        try:
            document, _ = json.JSONDecoder().raw_decode(stdout[start:])
        except json.JSONDecodeError:
            document = None
        if isinstance(document, dict):
            return document
    raise ExternalToolError(
        f"`{CLIENT_NAME} {subcommand}` did not print the JSON document s32s expects.",
        f"Run `{CLIENT_NAME} {subcommand}` by hand to see its output, or update the client.",
    )


_INI_LINE = re.compile(r"^\s*(aws_access_key_id|aws_secret_access_key)\s*=\s*(\S+)\s*$")


def parse_secret_block(stdout: str, access_key_id: str) -> str:
    """The secret key from the `[snowballEdge]` block of get-secret-access-key.

    Error messages never quote the output: it holds the secret.
    """
    values: dict[str, str] = {}
    for line in stdout.splitlines():
        match = _INI_LINE.match(line)
        if match:
            values[match.group(1)] = match.group(2)
    secret = values.get("aws_secret_access_key")
    if not secret:
        raise ExternalToolError(
            f"`{CLIENT_NAME} get-secret-access-key` printed no aws_secret_access_key line.",
            "Run the command by hand to check its output, or update the client.",
        )
    printed_id = values.get("aws_access_key_id")
    if printed_id and printed_id != access_key_id:
        raise ExternalToolError(
            f"`{CLIENT_NAME} get-secret-access-key` answered for access key {printed_id}, "
            f"not {access_key_id}.",
            "Run the command by hand to check its output.",
        )
    return secret
