"""Fakes for the DataSync tests: an agent's activation endpoint, stubbed clients,
and a client that sends to moto what moto implements and to a Stubber the rest."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

REGION = "us-east-1"
KEY = "ABCDE-12345-FGHIJ-67890-KLMNO"
AGENT_ARN = "arn:aws:datasync:us-east-1:111222333444:agent/agent-0123456789abcdef0"
_DATASYNC_MODEL = botocore.session.get_session().get_service_model("datasync")


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


class TaskFilingCabinet:
    """What DataSync keeps of a task's schedule and filters, which moto drops.

    It does not echo requests back: it keeps what DataSync keeps (a schedule
    is ENABLED when set, an empty expression removes it; one filter rule at
    most; an empty list clears the filters) and answers DescribeTask in the
    output shape of botocore's model, validated against it, with the fields
    DataSync adds (Schedule.Status, ScheduleDetails).
    """

    def __init__(self) -> None:
        self.tasks: dict[str, dict[str, Any]] = {}

    def record(self, arn: str, request: dict[str, Any]) -> None:
        task = self.tasks.setdefault(arn, {})
        if "Schedule" in request:
            expression = request["Schedule"]["ScheduleExpression"]
            if expression:
                task["Schedule"] = {"ScheduleExpression": expression, "Status": "ENABLED"}
                task["ScheduleDetails"] = {"StatusUpdateTime": datetime.now(timezone.utc)}
            else:
                task.pop("Schedule", None)
                task.pop("ScheduleDetails", None)
        for key in ("Includes", "Excludes"):
            if key in request:
                rules = request[key]
                if len(rules) > 1:
                    raise ClientError(
                        {
                            "Error": {
                                "Code": "InvalidRequestException",
                                "Message": f"{key}: only one filter rule is allowed.",
                            }
                        },
                        "CreateTask",
                    )
                if rules:
                    task[key] = [{"FilterType": "SIMPLE_PATTERN", "Value": rules[0]["Value"]}]
                else:
                    task.pop(key, None)

    def describe(self, arn: str, answer: dict[str, Any]) -> dict[str, Any]:
        answer = {**answer, **self.tasks.get(arn, {})}
        shape = _DATASYNC_MODEL.operation_model("DescribeTask").output_shape
        validate_parameters({k: v for k, v in answer.items() if k != "ResponseMetadata"}, shape)
        return answer


class HybridDataSync:
    """moto (over HTTP) for locations, tasks and executions; a Stubber for the
    operations moto lacks; a TaskFilingCabinet for the schedules and filters moto drops."""

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
        self.cabinet = TaskFilingCabinet()

    def get_paginator(self, operation: str) -> Any:
        self.calls.append(operation)
        return (self.stub_client if operation in self.STUBBED else self.moto).get_paginator(
            operation
        )

    def __getattr__(self, name: str) -> Any:
        target = self.stub_client if name in self.STUBBED else self.moto
        method = getattr(target, name)

        def recorded(**params: Any) -> Any:
            self.calls.append(name)
            result = method(**params)
            if name in ("create_task", "update_task"):
                self.cabinet.record(result.get("TaskArn") or params["TaskArn"], params)
            if name == "describe_task":
                result = self.cabinet.describe(params["TaskArn"], result)
            return result

        return recorded

    def changes(self) -> list[str]:
        return [c for c in self.calls if c.startswith(("create", "update", "tag", "put"))]
