"""Getting an activation key from a DataSync agent's own HTTP endpoint.

A freshly deployed agent answers on port 80 until it is activated. The
documented request is

    GET http://AGENT/?gatewayType=SYNC&activationRegion=REGION&endpointType=PUBLIC&no_redirect

With `no_redirect` the agent answers 200 with the key as the body; without it
(or with older agents) it answers a redirect whose `Location` carries
`activationKey=KEY` in its query string. Both answers are understood here.
Redirects are never followed: the key is in the redirect itself.

The key is a secret for 30 minutes (it binds the agent to whoever uses it
first), so it is never logged.
"""

from __future__ import annotations

import http.client
import logging
import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from s32s.errors import S32SError
from s32s.polling import Clock

log = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"[A-Z0-9]{5}(-[A-Z0-9]{5}){4}")
DEFAULT_PORT = 80


class ActivationError(S32SError):
    """The agent could not be reached or did not give an activation key."""


@dataclass(frozen=True)
class AgentAddress:
    """Where the agent listens: `IP` or `IP:PORT` (port 80 unless given)."""

    host: str
    port: int = DEFAULT_PORT

    @classmethod
    def parse(cls, text: str) -> AgentAddress:
        value = text.strip()
        if value.startswith(("http://", "https://")):
            value = urlsplit(value).netloc
        host, _, port = value.rpartition(":") if value.count(":") == 1 else (value, "", "")
        if not host:
            raise ActivationError(f"--agent-ip {text!r} is not an IP address or host name.")
        if port and not port.isdigit():
            raise ActivationError(f"--agent-ip {text!r}: the port {port!r} is not a number.")
        return cls(host, int(port) if port else DEFAULT_PORT)

    def __str__(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"


def activation_path(region: str) -> str:
    query = urlencode({"gatewayType": "SYNC", "activationRegion": region, "endpointType": "PUBLIC"})
    return f"/?{query}&no_redirect"


def key_from_response(status: int, location: str | None, body: str) -> str | None:
    """The activation key in an agent's answer, or None when there is none."""
    if 300 <= status < 400 and location:
        values = parse_qs(urlsplit(location).query).get("activationKey", [])
        if values and KEY_PATTERN.fullmatch(values[0].strip()):
            return values[0].strip()
        return None
    if status == 200:
        text = body.strip()
        if KEY_PATTERN.fullmatch(text):
            return text
    return None


def fetch_activation_key(
    address: AgentAddress,
    region: str,
    *,
    timeout: float = 10.0,
    attempts: int = 3,
    retry_delay: float = 5.0,
    clock: Clock | None = None,
) -> str:
    """Ask the agent for an activation key for `region`; retries network failures."""
    clock = clock or Clock()
    last_error = ""
    for attempt in range(1, attempts + 1):
        try:
            status, location, body = _get(address, activation_path(region), timeout)
        except (OSError, http.client.HTTPException) as exc:
            last_error = _describe_network_error(exc)
            log.debug("activation attempt %d to %s failed: %s", attempt, address, last_error)
            if attempt < attempts:
                clock.sleep(retry_delay)
            continue
        key = key_from_response(status, location, body)
        if key is None:
            raise ActivationError(
                f"The agent at {address} answered HTTP {status} without an activation key.",
                "Check that this is a DataSync agent that is not activated yet (its port 80 closes "
                "once it is), or get a key from the agent's local console and pass --activation-key.",
            )
        return key
    raise ActivationError(
        f"Cannot reach the DataSync agent at {address} on port {address.port} ({last_error}) after {attempts} attempts.",
        "Check the IP, that the agent VM is running and that port 80 is open from this machine, "
        "or get a key from the agent's local console and pass --activation-key.",
    )


def _get(address: AgentAddress, path: str, timeout: float) -> tuple[int, str | None, str]:
    connection = http.client.HTTPConnection(address.host, address.port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "text/plain"})
        response = connection.getresponse()
        body = response.read(4096).decode("utf-8", "replace")
        return response.status, response.getheader("Location"), body
    finally:
        connection.close()


def _describe_network_error(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return str(exc) or type(exc).__name__
