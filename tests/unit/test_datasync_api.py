"""The DataSync API layer: Stubber for what moto lacks (agents, NFS, executions
list), the moto server over HTTP for locations, tasks and executions."""

from __future__ import annotations

import boto3
import pytest

from s32s.datasync import api
from s32s.errors import AwsError, ConfigError, ExitCode
from s32s.polling import FakeClock
from tests.unit.datasync_fakes import AGENT_ARN, KEY, REGION, stubbed

ROLE = "arn:aws:iam::123456789012:role/ds"


@pytest.fixture
def ds(moto_server):
    return boto3.client("datasync", region_name=REGION, endpoint_url=moto_server.url)


def test_create_agent_sends_the_key_name_and_tags() -> None:
    client, stubber = stubbed()
    stubber.add_response(
        "create_agent",
        {"AgentArn": AGENT_ARN},
        {"ActivationKey": KEY, "AgentName": "office", "Tags": [{"Key": "site", "Value": "hq"}]},
    )
    assert api.create_agent(client, KEY, "office", {"site": "hq"}) == AGENT_ARN
    stubber.assert_no_pending_responses()


def test_create_agent_refuses_a_malformed_key_before_sending() -> None:
    client, stubber = stubbed()
    with pytest.raises(ConfigError, match="activation key is not in DataSync's form"):
        api.create_agent(client, "not-a-key", "office")
    stubber.assert_no_pending_responses()


def test_list_agents_follows_pages() -> None:
    client, stubber = stubbed()
    stubber.add_response(
        "list_agents", {"Agents": [{"AgentArn": AGENT_ARN, "Name": "a"}], "NextToken": "t"}, {}
    )
    stubber.add_response(
        "list_agents", {"Agents": [{"AgentArn": AGENT_ARN, "Name": "b"}]}, {"NextToken": "t"}
    )
    assert [a["Name"] for a in api.list_agents(client)] == ["a", "b"]


def test_wait_agent_online_polls_until_online() -> None:
    client, stubber = stubbed()
    for status in ("OFFLINE", "OFFLINE", "ONLINE"):
        stubber.add_response(
            "describe_agent", {"AgentArn": AGENT_ARN, "Status": status}, {"AgentArn": AGENT_ARN}
        )
    clock = FakeClock()
    seen: list[str] = []
    agent = api.wait_agent_online(
        client, AGENT_ARN, interval=5, clock=clock, on_update=lambda a: seen.append(a["Status"])
    )
    assert agent["Status"] == "ONLINE" and seen == ["OFFLINE", "OFFLINE", "ONLINE"]
    assert clock.slept == [5, 5]


def test_wait_agent_online_times_out_with_exit_1() -> None:
    client, stubber = stubbed()
    for _ in range(3):
        stubber.add_response(
            "describe_agent", {"AgentArn": AGENT_ARN, "Status": "OFFLINE"}, {"AgentArn": AGENT_ARN}
        )
    with pytest.raises(api.WaitTimeout) as caught:
        api.wait_agent_online(client, AGENT_ARN, timeout=10, interval=5, clock=FakeClock())
    assert "still OFFLINE after 10 seconds" in str(caught.value)
    assert caught.value.exit_code == ExitCode.PARTIAL_FAILURE


def test_nfs_location_request_is_valid_for_the_model() -> None:
    client, stubber = stubbed()
    expected = {
        "ServerHostname": "nas.local",
        "Subdirectory": "/exports/data",
        "OnPremConfig": {"AgentArns": [AGENT_ARN]},
        "MountOptions": {"Version": "NFS4_1"},
    }
    stubber.add_response(
        "create_location_nfs",
        {"LocationArn": AGENT_ARN.replace("agent/agent", "location/loc")},
        expected,
    )
    spec = api.NfsSpec("nas.local", "exports/data/", [AGENT_ARN], "NFS4_1")
    assert api.create_location_nfs(client, spec).endswith("loc-0123456789abcdef0")
    assert spec.uri == "nfs://nas.local/exports/data"


def test_access_denied_names_the_permission() -> None:
    client, stubber = stubbed()
    stubber.add_client_error("list_tasks", "AccessDeniedException", "User is not authorized", 400)
    with pytest.raises(AwsError) as caught:
        api.list_tasks(client)
    assert (
        str(caught.value.message)
        == "Access denied: these credentials may not call DataSync ListTasks."
    )
    assert "datasync:ListTasks" in (caught.value.hint or "")


def test_limit_errors_say_a_limit_was_reached() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "create_agent", "InvalidRequestException", "Agent limit exceeded for this account"
    )
    with pytest.raises(AwsError, match="a limit was reached"):
        api.create_agent(client, KEY, "x")


def test_list_task_executions_checks_the_task_arn() -> None:
    client, stubber = stubbed()
    task = "arn:aws:datasync:us-east-1:111222333444:task/task-0123456789abcdef0"
    stubber.add_response(
        "list_task_executions",
        {
            "TaskExecutions": [
                {
                    "TaskExecutionArn": task + "/execution/exec-0123456789abcdef0",
                    "Status": "SUCCESS",
                }
            ]
        },
        {"TaskArn": task},
    )
    assert api.list_task_executions(client, task)[0]["Status"] == "SUCCESS"
    with pytest.raises(ConfigError, match="is not a DataSync task ARN"):
        api.list_task_executions(client, "task-1")


def test_new_role_is_retried_until_datasync_can_assume_it() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "create_location_s3",
        "InvalidRequestException",
        "Unable to assume role. Reason: Access denied",
    )
    stubber.add_response(
        "create_location_s3",
        {"LocationArn": "arn:aws:datasync:us-east-1:111222333444:location/loc-0123456789abcdef0"},
        {
            "S3BucketArn": "arn:aws:s3:::b",
            "S3Config": {"BucketAccessRoleArn": ROLE},
            "Subdirectory": "/in",
        },
    )
    clock = FakeClock()
    arn = api.create_location_s3(
        client, api.S3Spec("b", "in", ROLE), role_propagation=30, interval=5, clock=clock
    )
    assert arn.endswith("loc-0123456789abcdef0") and clock.slept == [5]


def test_role_errors_are_not_retried_for_an_existing_role() -> None:
    client, stubber = stubbed()
    stubber.add_client_error(
        "create_location_s3", "InvalidRequestException", "Unable to assume role"
    )
    with pytest.raises(AwsError, match="DataSync refused CreateLocationS3: Unable to assume role"):
        api.create_location_s3(client, api.S3Spec("b", None, ROLE), clock=FakeClock())


def test_locations_tasks_and_an_execution_on_moto(ds) -> None:
    s3 = api.create_location_s3(ds, api.S3Spec("bkt", "/in", ROLE))
    smb_spec = api.SmbSpec("192.168.1.100", "/data", [AGENT_ARN], "u", "DOM", "SMB3")
    smb = api.create_location_smb(ds, smb_spec, "secret")
    assert api.find_location(ds, smb_spec) == smb
    assert (
        api.find_location(ds, api.SmbSpec("192.168.1.100", "/data", [AGENT_ARN], "other")) is None
    )
    assert api.find_location(ds, api.S3Spec("bkt", "in/", ROLE)) == s3
    settings = api.TaskSettings(
        name="t",
        excludes=["/processed/*"],
        options={"VerifyMode": "none", "BytesPerSecond": "1MiB/s"},
    )
    task = api.create_task(ds, smb, s3, settings)
    described = api.describe_task(ds, task)
    assert described["Excludes"] == [{"FilterType": "SIMPLE_PATTERN", "Value": "/processed/*"}]
    assert described["Options"] == {"VerifyMode": "NONE", "BytesPerSecond": 1048576}
    execution = api.start_task_execution(ds, task)
    statuses: list[str] = []
    final = api.wait_execution(
        ds, execution, interval=0, on_update=lambda e: statuses.append(e["Status"])
    )
    assert final["Status"] == "SUCCESS" and statuses[-1] == "SUCCESS" and len(statuses) > 2
    api.check_outcome(final)


def test_task_arns_from_another_region_are_refused(ds) -> None:
    other = "arn:aws:datasync:eu-west-1:111222333444:location/loc-0123456789abcdef0"
    with pytest.raises(ConfigError, match="is in region eu-west-1"):
        api.create_task(ds, other, other, api.TaskSettings())


def test_outcome_of_a_failed_execution_is_exit_1() -> None:
    with pytest.raises(api.ExecutionFailed, match="ended in ERROR: disk full") as caught:
        api.check_outcome({"Status": "ERROR", "Result": {"ErrorDetail": "disk full"}})
    assert caught.value.exit_code == 1
    with pytest.raises(api.ExecutionFailed, match="2 file"):
        api.check_outcome({"Status": "SUCCESS", "FilesFailed": {"Transfer": 2}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, -1),
        ("unlimited", -1),
        ("10MB/s", 10_000_000),
        ("5MiB/s", 5 * 1024**2),
        (2048, 2048),
        ("100 KB", 100_000),
    ],
)
def test_bandwidth(value, expected) -> None:
    assert api.parse_bandwidth(value) == expected


def test_bad_option_values_are_explained() -> None:
    with pytest.raises(ConfigError, match="VerifyMode cannot be 'sometimes'"):
        api.check_options({"VerifyMode": "sometimes"})
    with pytest.raises(ConfigError, match="is not a bandwidth"):
        api.parse_bandwidth("fast")


def test_task_settings_differences() -> None:
    settings = api.TaskSettings(
        name="t", schedule="rate(1 hour)", excludes=["/a/*"], options={"VerifyMode": "NONE"}
    )
    same = {
        "Name": "t",
        "Schedule": {"ScheduleExpression": "rate(1 hour)"},
        "Excludes": [{"FilterType": "SIMPLE_PATTERN", "Value": "/a/*"}],
        "Options": {"VerifyMode": "NONE", "OverwriteMode": "ALWAYS"},
    }
    assert settings.differences(same) == []
    changed = {**same, "Schedule": None, "Options": {"VerifyMode": "POINT_IN_TIME_CONSISTENT"}}
    assert settings.differences(changed) == ["schedule", "option VerifyMode"]


@pytest.mark.parametrize(
    ("described_version", "wanted", "differs"),
    [("SMB3", "SMB3", False), ("SMB2", "SMB3", True), (None, "SMB3", True), ("SMB2", None, False)],
)
def test_mount_version_is_compared_only_when_asked_for(
    described_version: str | None, wanted: str | None, differs: bool
) -> None:
    described = {"AgentArns": [AGENT_ARN], "User": "u", "Domain": "DOM"}
    if described_version:
        described["MountOptions"] = {"Version": described_version}
    smb = api.SmbSpec("server", "/data", [AGENT_ARN], "u", "DOM", wanted)
    nfs = api.NfsSpec("server", "/data", [AGENT_ARN], wanted)
    nfs_described = {**described, "OnPremConfig": {"AgentArns": [AGENT_ARN]}}
    assert smb.differences(described) == (["SMB version"] if differs else [])
    assert nfs.differences(nfs_described) == (["NFS version"] if differs else [])
