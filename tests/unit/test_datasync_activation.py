"""The activation-key request against a fake agent endpoint on 127.0.0.1."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import pytest

from s32s.datasync.activation import ActivationError, AgentAddress, fetch_activation_key
from s32s.polling import FakeClock
from tests.unit.datasync_fakes import KEY, ActivationServer


@pytest.fixture
def agent_endpoint():
    servers: list[ActivationServer] = []

    def start(mode: str) -> ActivationServer:
        servers.append(ActivationServer(mode))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("mode", ["body", "redirect"])
def test_key_from_body_or_redirect(agent_endpoint, mode: str) -> None:
    server = agent_endpoint(mode)
    key = fetch_activation_key(AgentAddress.parse(server.address), "eu-west-1")
    assert key == KEY
    query = parse_qs(urlsplit(server.paths[0]).query, keep_blank_values=True)
    assert query["gatewayType"] == ["SYNC"]
    assert query["activationRegion"] == ["eu-west-1"]
    assert "no_redirect" in query


def test_an_answer_without_a_key_is_explained(agent_endpoint) -> None:
    server = agent_endpoint("other")
    with pytest.raises(ActivationError, match="answered HTTP 200 without an activation key"):
        fetch_activation_key(AgentAddress.parse(server.address), "us-east-1")


def test_unreachable_agent_is_retried_then_explained() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    clock = FakeClock()
    with pytest.raises(ActivationError) as caught:
        fetch_activation_key(
            AgentAddress("127.0.0.1", port), "us-east-1", attempts=3, clock=clock, timeout=2
        )
    assert "Cannot reach the DataSync agent at 127.0.0.1" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert clock.slept == [5.0, 5.0]


def test_agent_address_forms() -> None:
    assert AgentAddress.parse("192.168.1.50") == AgentAddress("192.168.1.50", 80)
    assert AgentAddress.parse("10.0.0.1:8080") == AgentAddress("10.0.0.1", 8080)
    assert AgentAddress.parse("http://10.0.0.1/") == AgentAddress("10.0.0.1", 80)
    with pytest.raises(ActivationError, match="port 'x' is not a number"):
        AgentAddress.parse("10.0.0.1:x")
