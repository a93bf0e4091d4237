"""The pipeline file: loading, bad input, and apply run twice (the second changes nothing)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from s32s.datasync import pipeline as pl
from s32s.errors import AwsError, ConfigError
from s32s.polling import FakeClock
from tests.unit.datasync_fakes import AGENT_ARN, KEY, REGION, HybridDataSync

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "pipeline.yaml"
AGENT_NAME = "office-datasync-agent"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


def example_with(tmp_path: Path, old: str, new: str) -> Path:
    text = EXAMPLE.read_text()
    assert old in text
    return write(tmp_path, text.replace(old, new))


def test_the_example_file_loads() -> None:
    declared = pl.load_pipeline(EXAMPLE)
    assert declared.source_kind == "smb"
    assert (
        declared.source["server"] == "192.168.1.100" and declared.source["subdirectory"] == "/data"
    )
    assert declared.task.schedule == "rate(1 hour)"
    assert declared.task.excludes == ["/processed/*"]
    assert declared.task.options["BytesPerSecond"] == -1


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  excludes:", "  exclude:", "task.exclude: unknown key"),
        ("rate(1 hour)", "rate(5 minutes)", "task.schedule: 'rate(5 minutes)' runs more often"),
        ("verify_mode: ONLY_FILES_TRANSFERRED", "verify_mode: SOMETIMES", "VerifyMode cannot be"),
        (
            "    role: s32s",
            "    role_arn: arn:aws:iam::123456789012:role/x\n    role: s32s",
            "exactly one of role",
        ),
        (
            "    version: AUTOMATIC",
            "    version: SMB9",
            "source.smb.version: 'SMB9' is not a version",
        ),
        (
            "  ip: 192.168.1.50",
            "  arn: arn:aws:datasync:us-east-1:1:agent/x",
            "agent.arn: 'arn:aws:datasync:us-east-1:1:agent/x' is not",
        ),
    ],
)
def test_bad_files_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        pl.load_pipeline(example_with(tmp_path, old, new))
    assert message in str(caught.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        pl.load_pipeline(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        pl.load_pipeline(write(tmp_path, "agent: [unclosed"))
    with pytest.raises(ConfigError, match="task: missing"):
        pl.load_pipeline(
            write(
                tmp_path,
                "agent: {name: a}\nsource: {nfs: {server: s, subdirectory: /x}}\ndestination: {s3: {bucket: b, role: r}}\n",
            )
        )


@pytest.fixture
def hybrid(moto_server) -> HybridDataSync:
    return HybridDataSync(moto_server.url)


@pytest.fixture
def iam(moto_server):
    return boto3.client("iam", region_name=REGION, endpoint_url=moto_server.url)


def hooks(**changes) -> pl.ApplyHooks:
    changes.setdefault("smb_password", lambda env: "secret")
    return pl.ApplyHooks(clock=FakeClock(), **changes)


def agent_exists(hybrid: HybridDataSync) -> None:
    hybrid.stubber.add_response(
        "list_agents",
        {"Agents": [{"AgentArn": AGENT_ARN, "Name": AGENT_NAME, "Status": "ONLINE"}]},
        {},
    )


def test_apply_twice_second_changes_nothing(hybrid, iam) -> None:
    declared = pl.load_pipeline(EXAMPLE)
    agent_exists(hybrid)
    first = pl.apply_plan(pl.make_plan(declared, hybrid, iam), hybrid, iam, hooks())
    assert [s.action for s in first.steps.values()] == [
        "reuse",
        "create",
        "create",
        "create",
        "create",
    ]
    assert all(step.arn for step in first.steps.values())
    policy = iam.get_role_policy(
        RoleName="s32s-datasync-office-data-archive", PolicyName="s32s-datasync-bucket-access"
    )
    assert (
        policy["PolicyDocument"]["Statement"][0]["Resource"] == "arn:aws:s3:::office-data-archive"
    )

    hybrid.calls.clear()
    agent_exists(hybrid)
    second_plan = pl.make_plan(declared, hybrid, iam)
    assert not second_plan.changes, second_plan.to_dict()
    pl.apply_plan(
        second_plan, hybrid, iam, hooks(smb_password=lambda env: pytest.fail("no password needed"))
    )
    assert hybrid.changes() == []
    assert [s.arn for s in second_plan.steps.values()] == [s.arn for s in first.steps.values()]
    hybrid.stubber.assert_no_pending_responses()


def test_changed_schedule_updates_the_task_only(hybrid, iam, tmp_path: Path) -> None:
    agent_exists(hybrid)
    pl.apply_plan(pl.make_plan(pl.load_pipeline(EXAMPLE), hybrid, iam), hybrid, iam, hooks())
    hybrid.calls.clear()
    agent_exists(hybrid)
    changed = pl.load_pipeline(example_with(tmp_path, "rate(1 hour)", "rate(2 hours)"))
    plan = pl.apply_plan(pl.make_plan(changed, hybrid, iam), hybrid, iam, hooks())
    assert plan.steps["task"].action == "update" and plan.steps["task"].changes == ["schedule"]
    assert hybrid.changes() == ["update_task"]
    assert (
        hybrid.describe_task(TaskArn=plan.steps["task"].arn)["Schedule"]["ScheduleExpression"]
        == "rate(2 hours)"
    )


def test_activation_path_fetches_a_key_and_waits_for_online(hybrid, iam) -> None:
    hybrid.stubber.add_response("list_agents", {"Agents": []}, {})
    plan = pl.make_plan(pl.load_pipeline(EXAMPLE), hybrid, iam)
    assert plan.steps["agent"].action == "activate" and plan.steps["source"].action == "create"
    hybrid.stubber.add_response(
        "create_agent",
        {"AgentArn": AGENT_ARN},
        {
            "ActivationKey": KEY,
            "AgentName": AGENT_NAME,
            "Tags": [{"Key": "site", "Value": "office"}],
        },
    )
    for status in ("OFFLINE", "ONLINE"):
        hybrid.stubber.add_response(
            "describe_agent", {"AgentArn": AGENT_ARN, "Status": status}, {"AgentArn": AGENT_ARN}
        )
    asked: list[tuple[str, str]] = []
    pl.apply_plan(
        plan, hybrid, iam, hooks(fetch_key=lambda ip, region: asked.append((ip, region)) or KEY)
    )
    assert asked == [("192.168.1.50", "us-east-1")]
    assert plan.steps["agent"].arn == AGENT_ARN and plan.steps["task"].arn
    hybrid.stubber.assert_no_pending_responses()


def test_region_mismatch_between_file_and_client(tmp_path: Path, moto_server, iam) -> None:
    client = boto3.client("datasync", region_name="eu-west-1", endpoint_url=moto_server.url)
    with pytest.raises(
        ConfigError, match="region is us-east-1, but DataSync is being used in eu-west-1"
    ):
        pl.make_plan(pl.load_pipeline(EXAMPLE), client, iam)


def test_agent_arn_in_another_region(tmp_path: Path, hybrid, iam) -> None:
    other = AGENT_ARN.replace("us-east-1", "eu-west-1")
    path = example_with(tmp_path, "  ip: 192.168.1.50", f"  arn: {other}")
    with pytest.raises(ConfigError, match=r"agent\.arn\) is in region eu-west-1"):
        pl.make_plan(pl.load_pipeline(path), hybrid, iam)


def test_task_with_other_locations_stops_before_changing_anything(
    hybrid, iam, tmp_path: Path
) -> None:
    agent_exists(hybrid)
    pl.apply_plan(pl.make_plan(pl.load_pipeline(EXAMPLE), hybrid, iam), hybrid, iam, hooks())
    hybrid.calls.clear()
    agent_exists(hybrid)
    moved = pl.load_pipeline(
        example_with(
            tmp_path,
            "    subdirectory: /data\n    storage",
            "    subdirectory: /other\n    storage",
        )
    )
    with pytest.raises(ConfigError, match="copies between other locations") as caught:
        pl.make_plan(moved, hybrid, iam)
    assert "Nothing was changed" in str(caught.value)
    assert hybrid.changes() == []


def test_failure_midway_says_what_was_created(hybrid, iam, monkeypatch) -> None:
    agent_exists(hybrid)
    plan = pl.make_plan(pl.load_pipeline(EXAMPLE), hybrid, iam)

    def denied(*args, **kwargs):
        raise AwsError("Access denied: these credentials may not call DataSync CreateTask.")

    monkeypatch.setattr(pl.api, "create_task", denied)
    with pytest.raises(AwsError) as caught:
        pl.apply_plan(plan, hybrid, iam, hooks())
    hint = caught.value.hint or ""
    assert "Created before the failure: source location arn:" in hint
    assert "IAM role arn:aws:iam::" in hint and "destination location arn:" in hint
    assert "Running apply again reuses them" in hint


def test_unknown_storage_class_names_the_allowed_ones(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE.read_text().replace("storage_class: STANDARD", "storage_class: cold"))
    with pytest.raises(
        pl.PipelineError, match=r"storage_class.*'COLD' is not a storage class"
    ) as caught:
        pl.load_pipeline(path)
    assert "DEEP_ARCHIVE" in (caught.value.hint or "")
