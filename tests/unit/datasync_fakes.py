"""Fakes for the DataSync tests: an agent's activation endpoint, stubbed clients,
and a client that sends to moto what moto implements and to a Stubber the rest."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
from botocore.stub import Stubber

REGION = "us-east-1"
KEY = "ABCDE-12345-FGHIJ-67890-KLMNO"
AGENT_ARN = "arn:aws:datasync:us-east-1:111222333444:agent/agent-0123456789abcdef0"


class ActivationServer:
    """A DataSync agent's port-80 endpoint on 127.0.0.1, as the real agent answers:
    mode `body` (no_redirect: 200 with the key), `redirect` (302 with activationKey in
    Location), or `other` (a page without a key)."""

    def __init__(self, mode: str = "body") -> None:
        self.mode = mode
        self.paths: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.paths.append(self.path)
                if server.mode == "redirect":
                    self.send_response(302)
                    self.send_header(
                        "Location",
                        f"https://console.aws.amazon.com/datasync/?activationKey={KEY}&activationRegion={REGION}",
                    )
                    self.end_headers()
                    return
                body = KEY if server.mode == "body" else "<html>Storage Gateway</html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def stubbed(service: str = "datasync") -> tuple[Any, Stubber]:
    """A real botocore client (requests validated against the model) with a Stubber."""
    client = boto3.client(service, region_name=REGION)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


class HybridDataSync:
    """moto (over HTTP) for locations, tasks and executions; a Stubber for the
    operations moto lacks. moto also drops Schedule and Includes, so they are
    remembered from CreateTask/UpdateTask and added to DescribeTask answers."""

    STUBBED = frozenset(
        {
            "create_agent",
            "list_agents",
            "describe_agent",
            "create_location_nfs",
            "describe_location_nfs",
            "list_task_executions",
            "tag_resource",
        }
    )

    def __init__(self, moto_url: str) -> None:
        self.moto = boto3.client("datasync", region_name=REGION, endpoint_url=moto_url)
        self.stub_client, self.stubber = stubbed()
        self.meta = self.moto.meta
        self.calls: list[str] = []
        self._remembered: dict[str, dict[str, Any]] = {}

    def __getattr__(self, name: str) -> Any:
        target = self.stub_client if name in self.STUBBED else self.moto
        method = getattr(target, name)

        def recorded(**params: Any) -> Any:
            self.calls.append(name)
            result = method(**params)
            if name in ("create_task", "update_task"):
                arn = result.get("TaskArn") or params["TaskArn"]
                kept = {k: params[k] for k in ("Schedule", "Includes") if k in params}
                self._remembered.setdefault(arn, {}).update(kept)
            if name == "describe_task":
                result.update(self._remembered.get(params["TaskArn"], {}))
            return result

        return recorded

    def changes(self) -> list[str]:
        return [c for c in self.calls if c.startswith(("create", "update", "tag", "put"))]
