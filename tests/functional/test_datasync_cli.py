"""`s32s datasync ...` as users type it: groups, AWS CLI spellings, secrets, exit codes, apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_executable
from tests.unit.datasync_fakes import AGENT_ARN, KEY, ActivationServer, HybridDataSync, stubbed

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline.yaml"
ROLE = "arn:aws:iam::123456789012:role/ds"


@pytest.fixture
def ds(cli, moto_server):
    def run(*args: str, env: dict[str, str] | None = None):
        return cli(
            "--endpoint-url", moto_server.url, "--region", "us-east-1", "datasync", *args, env=env
        )

    return run


def test_help_shows_groups_and_mentions_aliases_once(cli) -> None:
    result = cli("datasync", "--help")
    assert result.exit_code == 0
    for group in ("agent", "location", "task", "apply"):
        assert f"  {group} " in result.stdout
    assert result.stdout.count("create-task") == 1
    assert "AWS CLI spellings run the same commands" in result.stdout


def test_every_option_has_help() -> None:
    import click

    from s32s.cli.datasync import datasync_group

    def walk(command: click.Command, path: str) -> list[str]:
        missing = [
            f"{path} {param.opts[0]}"
            for param in command.params
            if isinstance(param, click.Option) and not param.hidden and not param.help
        ]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                missing += walk(sub, f"{path} {name}")
        return missing

    assert walk(datasync_group, "datasync") == []


def create_locations(ds) -> tuple[str, str]:
    s3 = ds(
        "create-location-s3",
        "--s3-bucket-arn",
        "arn:aws:s3:::bkt",
        "--s3-config",
        f"BucketAccessRoleArn={ROLE}",
    )
    assert s3.exit_code == 0, s3.output
    smb = ds(
        "location",
        "smb",
        "--server",
        "192.168.1.100",
        "--subdirectory",
        "/data",
        "--user",
        "u",
        "--agent-arn",
        AGENT_ARN,
        env={"S32S_SMB_PASSWORD": "hunter2"},
    )
    assert smb.exit_code == 0, smb.output
    assert "hunter2" not in smb.output
    return smb.stdout.strip(), s3.stdout.strip()


def test_aws_spellings_create_and_start_a_task(ds) -> None:
    smb, s3 = create_locations(ds)
    created = ds(
        "create-task",
        "--source-location-arn",
        smb,
        "--destination-location-arn",
        s3,
        "--name",
        "hourly",
        "--schedule",
        "ScheduleExpression=rate(1 hour)",
        "--excludes",
        "FilterType=SIMPLE_PATTERN,Value=/processed/*",
    )
    assert created.exit_code == 0, created.output
    task = created.stdout.strip()
    listed = ds("list-tasks")
    assert "hourly" in listed.stdout
    started = ds("start-task-execution", "--task-arn", task, "--wait", "--interval", "0")
    assert started.exit_code == 0, started.output
    assert "TRANSFERRING" in started.stderr and "SUCCESS" in started.stderr
    as_json = ds("task", "start", task, "--wait", "--interval", "0")
    assert as_json.exit_code == 0
    locations = ds("list-locations")
    assert "smb://192.168.1.100" in locations.stdout


def test_json_output_is_one_document(cli, moto_server) -> None:
    result = cli("--endpoint-url", moto_server.url, "--json", "datasync", "location", "list")
    assert result.exit_code == 0 and result.json == {"Locations": []}


def test_smb_password_is_never_a_flag_and_needs_env_without_terminal(ds) -> None:
    flagged = ds(
        "create-location-smb",
        "--server-hostname",
        "h",
        "--subdirectory",
        "/d",
        "--user",
        "u",
        "--agent-arns",
        AGENT_ARN,
        "--password",
        "pw",
    )
    assert flagged.exit_code == 2 and "does not take the SMB password as a flag" in flagged.stderr
    missing = ds(
        "location",
        "smb",
        "--server",
        "h",
        "--subdirectory",
        "/d",
        "--user",
        "u",
        "--agent-arn",
        AGENT_ARN,
    )
    assert missing.exit_code == 2 and "S32S_SMB_PASSWORD is not set" in missing.stderr


def test_create_role_makes_a_bucket_only_role(ds, moto_server) -> None:
    import boto3

    result = ds(
        "location", "s3", "--bucket", "bkt", "--subdirectory", "/in", "--create-role", "ds-bkt"
    )
    assert result.exit_code == 0, result.output
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_server.url)
    assert iam.list_attached_role_policies(RoleName="ds-bkt")["AttachedPolicies"] == []
    document = iam.get_role_policy(RoleName="ds-bkt", PolicyName="s32s-datasync-bucket-access")[
        "PolicyDocument"
    ]
    resources = {statement["Resource"] for statement in document["Statement"]}
    assert resources == {"arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["task", "start", "task-123"], "is not a DataSync task ARN"),
        (["describe-agent", "--agent-arn", "agent-1"], "is not a DataSync agent ARN"),
        (
            [
                "task",
                "update",
                "arn:aws:datasync:us-east-1:111222333444:task/task-0123456789abcdef0",
                "--schedule",
                "cron(*/10 * * * ? *)",
            ],
            "minutes field must be one number",
        ),
        (
            [
                "describe-task-execution",
                "--task-execution-arn",
                "arn:aws:datasync:eu-west-1:111222333444:task/task-0123456789abcdef0/execution/exec-0123456789abcdef0",
            ],
            "is in region eu-west-1",
        ),
    ],
)
def test_bad_input_exits_2_with_one_clear_message(ds, args: list[str], message: str) -> None:
    result = ds(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_agent_activate_asks_the_agent_then_create_agent(cli, monkeypatch) -> None:
    client, stubber = stubbed()
    stubber.add_response(
        "create_agent", {"AgentArn": AGENT_ARN}, {"ActivationKey": KEY, "AgentName": "office"}
    )
    monkeypatch.setattr("s32s.cli.datasync.datasync_client", lambda app, region: client)
    server = ActivationServer("redirect")
    try:
        result = cli(
            "datasync", "agent", "activate", "--agent-ip", server.address, "--agent-name", "office"
        )
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == AGENT_ARN
    assert KEY not in result.output
    stubber.assert_no_pending_responses()


def test_access_denied_is_exit_2(cli, monkeypatch) -> None:
    client, stubber = stubbed()
    stubber.add_client_error("list_agents", "AccessDeniedException", "not authorized", 400)
    monkeypatch.setattr("s32s.cli.datasync.datasync_client", lambda app, region: client)
    result = cli("datasync", "list-agents")
    assert result.exit_code == 2
    assert "Access denied: these credentials may not call DataSync ListAgents." in result.stderr


def test_apply_twice_from_the_command_line(cli, moto_server, monkeypatch) -> None:
    hybrid = HybridDataSync(moto_server.url)
    monkeypatch.setattr("s32s.cli.datasync.datasync_client", lambda app, region: hybrid)
    base = ["--endpoint-url", moto_server.url, "--json", "datasync", "apply", str(EXAMPLE)]
    agents = {
        "Agents": [{"AgentArn": AGENT_ARN, "Name": "office-datasync-agent", "Status": "ONLINE"}]
    }
    for _ in range(3):
        hybrid.stubber.add_response("list_agents", agents, {})
    dry = cli(*base, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.json["changes"] and hybrid.changes() == []
    first = cli(*base, env={"S32S_SMB_PASSWORD": "pw"})
    assert first.exit_code == 0, first.output
    assert [step["action"] for step in first.json["steps"]] == [
        "reuse",
        "create",
        "create",
        "create",
        "create",
    ]
    second = cli(*base)
    assert second.exit_code == 0, second.output
    assert second.json["changes"] is False
    assert [s["arn"] for s in second.json["steps"]] == [s["arn"] for s in first.json["steps"]]


def test_apply_unknown_key_exits_2(cli, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE.read_text().replace("  schedule:", "  scheduel:"))
    result = cli("datasync", "apply", str(path))
    assert result.exit_code == 2
    assert "task.scheduel: unknown key" in result.stderr


def test_cron_style_create_task_through_the_installed_executable(moto_server, cli) -> None:
    import boto3

    ds = boto3.client("datasync", region_name="us-east-1", endpoint_url=moto_server.url)
    s3 = ds.create_location_s3(
        S3BucketArn="arn:aws:s3:::b", S3Config={"BucketAccessRoleArn": ROLE}
    )["LocationArn"]
    result = run_executable(
        [
            "--endpoint-url",
            moto_server.url,
            "--region",
            "us-east-1",
            "datasync",
            "create-task",
            "--source-location-arn",
            s3,
            "--destination-location-arn",
            s3,
            "--name",
            "cron",
        ],
        timeout=60,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().startswith("arn:aws:datasync:us-east-1:")
