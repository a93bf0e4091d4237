"""`s32s datasync ...`: agents, locations, tasks, executions and `apply`.

Commands are grouped (`agent`, `location`, `task`) and the AWS CLI spellings
users paste from AWS's documentation (`create-task`, `start-task-execution`,
...) are aliases of the same commands, with the AWS option names accepted as
second spellings (`--agent-name` for `--name`, `--source-location-arn` for
`--source`, ...). The library is `s32s.datasync`; nothing here calls boto3
directly.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import click

from s32s.cli.app import App, pass_app
from s32s.errors import ConfigError

SMB_PASSWORD_ENV = "S32S_SMB_PASSWORD"


def model_choice(shape: str) -> click.Choice:
    """The values of `shape` in botocore's DataSync model, as a case-insensitive choice."""
    from s32s.datasync.api import model_values

    return click.Choice(model_values(shape), case_sensitive=False)


# AWS CLI spelling -> the s32s command it runs
ALIASES: dict[str, tuple[str, ...]] = {
    "create-agent": ("agent", "activate"),
    "list-agents": ("agent", "list"),
    "describe-agent": ("agent", "describe"),
    "create-location-smb": ("location", "smb"),
    "create-location-nfs": ("location", "nfs"),
    "create-location-s3": ("location", "s3"),
    "list-locations": ("location", "list"),
    "create-task": ("task", "create"),
    "update-task": ("task", "update"),
    "list-tasks": ("task", "list"),
    "start-task-execution": ("task", "start"),
    "describe-task-execution": ("task", "execution"),
    "list-task-executions": ("task", "executions"),
}


class AliasGroup(click.Group):
    """A group that also answers to the AWS CLI spellings, without listing them twice."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        path = ALIASES.get(cmd_name)
        if path is None:
            return super().get_command(ctx, cmd_name)
        command: click.Command | None = self
        for part in path:
            assert isinstance(command, click.Group)
            command = command.get_command(ctx, part)
        return command

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_epilog(ctx, formatter)
        formatter.write_paragraph()
        formatter.write_text(
            "AWS CLI spellings run the same commands with the same options: "
            + ", ".join(ALIASES)
            + "."
        )


# shared helpers ---------------------------------------------------------------
def datasync_client(app: App, region: str | None) -> Any:
    """The DataSync client for `region` (else the global --region / profile)."""
    factory = app.factory.derive(region=region) if region else app.factory
    return factory.client("datasync")


def iam_client(app: App, region: str | None) -> Any:
    factory = app.factory.derive(region=region) if region else app.factory
    return factory.client("iam")


def region_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--region",
        "region",
        metavar="REGION",
        help="AWS region of the DataSync resources [default: the global --region, else your profile's].",
    )(function)


def parse_tags(values: tuple[str, ...]) -> dict[str, str]:
    """`k=v` or AWS shorthand `Key=k,Value=v`, repeatable."""
    tags: dict[str, str] = {}
    for value in values:
        pairs = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        if set(pairs) == {"Key", "Value"}:
            tags[pairs["Key"]] = pairs["Value"]
        elif "=" in value and "," not in value:
            key, _, val = value.partition("=")
            tags[key.strip()] = val.strip()
        else:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE.", param_hint="--tag")
    return tags


def shorthand(value: str | None, *, what: str) -> dict[str, str]:
    """AWS CLI shorthand `A=1,B=2` or a JSON object, as a dict of strings."""
    if not value:
        return {}
    text = value.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON ({exc.msg}).", param_hint=what) from None
        return {str(k): str(v) for k, v in data.items()}
    result = {}
    for part in text.split(","):
        key, sep, val = part.partition("=")
        if not sep:
            raise click.BadParameter(f"{part!r} is not KEY=VALUE.", param_hint=what)
        result[key.strip()] = val.strip()
    return result


def split_many(values: tuple[str, ...]) -> list[str]:
    """Repeatable options that also accept comma- or space-separated lists."""
    return [item for value in values for item in value.replace(",", " ").split() if item]


def filter_patterns(values: tuple[str, ...]) -> list[str]:
    """`--exclude PATTERN` or the AWS form `FilterType=SIMPLE_PATTERN,Value=a|b` / JSON."""
    patterns: list[str] = []
    for value in values:
        text = value.strip()
        if text.startswith("["):
            rules = json.loads(text)
            patterns.extend(p for rule in rules for p in str(rule.get("Value", "")).split("|"))
        elif text.startswith("FilterType=") or text.startswith("Value="):
            patterns.extend(shorthand(text, what="--exclude/--include").get("Value", "").split("|"))
        else:
            patterns.extend(text.split("|"))
    return [p for p in patterns if p]


def render(app: App, document: Any, title: str, columns: list[str], rows: list[list[Any]]) -> None:
    if app.json_output:
        app.emit_json(document)
        return
    from s32s.cli.output import stdout_console, table

    stdout_console().print(table(title, columns, rows))


def print_arn(app: App, key: str, arn: str, message: str) -> None:
    """A created resource: its ARN alone on stdout (for scripts), or JSON."""
    if app.json_output:
        app.emit_json({key: arn})
        return
    app.info(message)
    click.echo(arn)


def refuse_password_flag(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        raise click.UsageError(
            "s32s does not take the SMB password as a flag, where other users could see it in the "
            f"process list. Set {SMB_PASSWORD_ENV} (or the variable named by --password-env), or "
            "answer the hidden prompt."
        )


def read_secret(app: App, env_name: str, prompt: str) -> str:
    """A secret from `env_name`, else a hidden prompt on a terminal, else an error."""
    value = os.environ.get(env_name)
    if value:
        return value
    if app.interactive:
        return str(click.prompt(prompt, hide_input=True, err=True))
    raise ConfigError(
        f"No SMB password: {env_name} is not set and there is no terminal to ask on.",
        f"Set {env_name} in the environment of this command.",
    )


# root group ---------------------------------------------------------------------
@click.group("datasync", cls=AliasGroup)
def datasync_group() -> None:
    """AWS DataSync: agents, SMB/NFS/S3 locations, tasks, executions, and `apply`.

    Set up the on-premises share -> agent -> S3 pipeline with commands, or
    declare it in one YAML file and run `s32s datasync apply FILE`.
    """


# agents -------------------------------------------------------------------------
@datasync_group.group("agent")
def agent_group() -> None:
    """Activate, list, describe and wait for DataSync agents."""


@agent_group.command("activate")
@click.option(
    "--agent-ip",
    metavar="IP[:PORT]",
    help="Address of the agent VM; s32s asks it for an activation key on port 80.",
)
@click.option("--name", "--agent-name", "name", required=True, help="Name for the agent.")
@click.option(
    "--activation-key",
    metavar="KEY",
    help="Activation key from the agent's local console, instead of asking the agent over HTTP.",
)
@click.option(
    "--tag",
    "--tags",
    "tags",
    multiple=True,
    metavar="KEY=VALUE",
    help="Tag for the agent (repeatable; Key=k,Value=v also accepted).",
)
@click.option("--wait", is_flag=True, help="Then wait until the agent is ONLINE.")
@click.option(
    "--timeout",
    type=float,
    default=300,
    show_default=True,
    help="Seconds to wait for ONLINE with --wait.",
)
@region_option
@pass_app
def agent_activate(
    app: App,
    agent_ip: str | None,
    name: str,
    activation_key: str | None,
    tags: tuple[str, ...],
    wait: bool,
    timeout: float,
    region: str | None,
) -> None:
    """Activate a deployed agent (CreateAgent) and print its ARN.

    Without --activation-key the key is fetched from the agent itself
    (GET http://IP/?gatewayType=SYNC&activationRegion=REGION&no_redirect).
    """
    from s32s.datasync import activation, api

    client = datasync_client(app, region)
    if not activation_key:
        if not agent_ip:
            raise click.UsageError(
                "Give --agent-ip (to ask the agent for a key) or --activation-key."
            )
        address = activation.AgentAddress.parse(agent_ip)
        app.info(
            f"Asking the agent at {address} for an activation key for {api.region_of(client)}..."
        )
        activation_key = activation.fetch_activation_key(address, api.region_of(client))
    arn = api.create_agent(client, activation_key, name, parse_tags(tags))
    if wait:
        _wait_for_agent(app, client, arn, timeout)
    print_arn(app, "AgentArn", arn, f"[green]Activated[/] agent {name}.")


@agent_group.command("list")
@region_option
@pass_app
def agent_list(app: App, region: str | None) -> None:
    """List the agents of the region."""
    from s32s.datasync import api

    agents = api.list_agents(datasync_client(app, region))
    rows = [[a.get("Name", ""), a.get("Status", ""), a["AgentArn"]] for a in agents]
    render(app, {"Agents": agents}, "DataSync agents", ["name", "status", "ARN"], rows)


def _agent_arn_param(arn: str | None, agent_arn: str | None) -> str:
    value = arn or agent_arn
    if not value:
        raise click.UsageError("Give the agent ARN (argument or --agent-arn).")
    return value


@agent_group.command("describe")
@click.argument("arn", required=False)
@click.option("--agent-arn", help="The agent ARN (AWS CLI spelling of the argument).")
@region_option
@pass_app
def agent_describe(app: App, arn: str | None, agent_arn: str | None, region: str | None) -> None:
    """Show an agent's name, status and endpoint."""
    from s32s.datasync import api

    agent = api.describe_agent(datasync_client(app, region), _agent_arn_param(arn, agent_arn))
    rows = [[key, value] for key, value in agent.items() if key != "ResponseMetadata"]
    render(app, _clean(agent), "Agent", ["field", "value"], rows)


@agent_group.command("wait")
@click.argument("arn", required=False)
@click.option("--agent-arn", help="The agent ARN (AWS CLI spelling of the argument).")
@click.option(
    "--timeout",
    type=float,
    default=300,
    show_default=True,
    help="Seconds before giving up (exit 1).",
)
@click.option(
    "--interval", type=float, default=5, show_default=True, help="Seconds between checks."
)
@region_option
@pass_app
def agent_wait(
    app: App,
    arn: str | None,
    agent_arn: str | None,
    timeout: float,
    interval: float,
    region: str | None,
) -> None:
    """Wait until an agent is ONLINE (exit 1 on timeout)."""
    client = datasync_client(app, region)
    agent = _wait_for_agent(app, client, _agent_arn_param(arn, agent_arn), timeout, interval)
    if app.json_output:
        app.emit_json(_clean(agent))
    else:
        app.info(f"[green]Agent {agent.get('Name') or agent['AgentArn']} is ONLINE.[/]")


def _wait_for_agent(
    app: App, client: Any, arn: str, timeout: float, interval: float = 5
) -> dict[str, Any]:
    from s32s.cli.output import error_console
    from s32s.datasync import api

    if app.json_output or app.quiet or not error_console().is_terminal:
        return api.wait_agent_online(client, arn, timeout=timeout, interval=interval)
    with error_console().status(f"Waiting for agent {arn} to be ONLINE...") as status:
        return api.wait_agent_online(
            client,
            arn,
            timeout=timeout,
            interval=interval,
            on_update=lambda agent: status.update(
                f"Agent is {agent.get('Status', '?')}; waiting for ONLINE..."
            ),
        )


def _clean(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "ResponseMetadata"}


# locations ----------------------------------------------------------------------
@datasync_group.group("location")
def location_group() -> None:
    """Create and list SMB, NFS and S3 locations."""


def agent_arns_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--agent-arn",
        "--agent-arns",
        "agent_arns",
        multiple=True,
        required=True,
        metavar="ARN",
        help="Agent that reaches the server (repeatable, or comma-separated).",
    )(function)


def tag_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--tag",
        "--tags",
        "tags",
        multiple=True,
        metavar="KEY=VALUE",
        help="Tag (repeatable; Key=k,Value=v also accepted).",
    )(function)


@location_group.command("smb")
@click.option(
    "--server", "--server-hostname", "server", required=True, help="SMB server name or IP."
)
@click.option("--subdirectory", required=True, help="Share and folder, e.g. /data or /data/photos.")
@click.option("--user", required=True, help="User that can read the share.")
@click.option("--domain", help="Windows domain of the user.")
@click.option(
    "--version",
    "smb_version",
    type=model_choice("SmbVersion"),
    help="SMB protocol version [default: AUTOMATIC].",
)
@click.option("--mount-options", help="AWS CLI spelling of --version: Version=SMB3.")
@click.option(
    "--password-env",
    default=SMB_PASSWORD_ENV,
    show_default=True,
    metavar="VAR",
    help="Environment variable holding the password; without it, a hidden prompt on a terminal.",
)
@click.option(
    "--password",
    hidden=True,
    expose_value=False,
    callback=refuse_password_flag,
    help="Refused: the password would be visible in the process list.",
)
@agent_arns_option
@tag_option
@region_option
@pass_app
def location_smb(
    app: App,
    server: str,
    subdirectory: str,
    user: str,
    domain: str | None,
    smb_version: str | None,
    mount_options: str | None,
    password_env: str,
    agent_arns: tuple[str, ...],
    tags: tuple[str, ...],
    region: str | None,
) -> None:
    """Create an SMB location (a Windows or Samba share read through an agent)."""
    from s32s.datasync import api

    version = smb_version or shorthand(mount_options, what="--mount-options").get("Version")
    spec = api.SmbSpec(
        server, subdirectory, split_many(agent_arns), user, domain, version and version.upper()
    )
    client = datasync_client(app, region)
    for index, arn in enumerate(spec.agent_arns):
        api.checked(client, arn, "agent", what=f"--agent-arn #{index + 1}")
    password = read_secret(app, password_env, f"Password of {user} on {server}")
    arn = api.create_location_smb(client, spec, password)
    _tag(client, arn, tags)
    print_arn(app, "LocationArn", arn, f"[green]Created[/] SMB location {spec.uri}.")


@location_group.command("nfs")
@click.option(
    "--server", "--server-hostname", "server", required=True, help="NFS server name or IP."
)
@click.option("--subdirectory", required=True, help="Exported path, e.g. /exports/data.")
@click.option(
    "--version",
    "nfs_version",
    type=model_choice("NfsVersion"),
    help="NFS version [default: AUTOMATIC].",
)
@click.option("--mount-options", help="AWS CLI spelling of --version: Version=NFS4_1.")
@click.option(
    "--agent-arn",
    "--agent-arns",
    "agent_arns",
    multiple=True,
    metavar="ARN",
    help="Agent that reaches the server (repeatable, or comma-separated).",
)
@click.option("--on-prem-config", help="AWS CLI spelling of --agent-arn: AgentArns=ARN.")
@tag_option
@region_option
@pass_app
def location_nfs(
    app: App,
    server: str,
    subdirectory: str,
    nfs_version: str | None,
    mount_options: str | None,
    agent_arns: tuple[str, ...],
    on_prem_config: str | None,
    tags: tuple[str, ...],
    region: str | None,
) -> None:
    """Create an NFS location (an export read through an agent)."""
    from s32s.datasync import api

    arns = split_many(agent_arns)
    if on_prem_config:
        arns += split_many(
            (shorthand(on_prem_config, what="--on-prem-config").get("AgentArns", ""),)
        )
    if not arns:
        raise click.UsageError("Give at least one --agent-arn.")
    version = nfs_version or shorthand(mount_options, what="--mount-options").get("Version")
    spec = api.NfsSpec(server, subdirectory, arns, version and version.upper())
    client = datasync_client(app, region)
    arn = api.create_location_nfs(client, spec)
    _tag(client, arn, tags)
    print_arn(app, "LocationArn", arn, f"[green]Created[/] NFS location {spec.uri}.")


@location_group.command("s3")
@click.option(
    "--bucket",
    "--s3-bucket-arn",
    "bucket",
    required=True,
    help="Bucket name, s3://name, or bucket ARN.",
)
@click.option("--subdirectory", help="Prefix in the bucket, e.g. /incoming.")
@click.option(
    "--storage-class",
    "--s3-storage-class",
    "storage_class",
    type=model_choice("S3StorageClass"),
    help="Storage class of the objects DataSync writes [default: STANDARD].",
)
@click.option("--role-arn", help="IAM role DataSync assumes to reach the bucket.")
@click.option("--s3-config", help="AWS CLI spelling of --role-arn: BucketAccessRoleArn=ARN.")
@click.option(
    "--create-role",
    metavar="NAME",
    help="Create role NAME with access to this bucket only (reused if it exists), instead of --role-arn.",
)
@click.option(
    "--role-wait",
    type=float,
    default=60,
    show_default=True,
    help="Seconds to wait for a new role to become usable.",
)
@tag_option
@region_option
@pass_app
def location_s3(
    app: App,
    bucket: str,
    subdirectory: str | None,
    storage_class: str | None,
    role_arn: str | None,
    s3_config: str | None,
    create_role: str | None,
    role_wait: float,
    tags: tuple[str, ...],
    region: str | None,
) -> None:
    """Create an S3 location (a bucket and prefix DataSync writes to)."""
    from s32s.datasync import api, roles
    from s32s.datasync.arns import bucket_name

    role_arn = role_arn or shorthand(s3_config, what="--s3-config").get("BucketAccessRoleArn")
    if bool(role_arn) == bool(create_role):
        raise click.UsageError("Give exactly one of --role-arn and --create-role.")
    client = datasync_client(app, region)
    region_name = api.region_of(client)
    propagation = 0.0
    if create_role:
        iam = iam_client(app, region)
        roles.check_role_name(create_role)
        role_arn = roles.get_role_arn(iam, create_role)
        if role_arn is None:
            role_arn = roles.create_role(iam, create_role, bucket_name(bucket), region_name)
            app.info(
                f"Created IAM role {create_role} ({role_arn}); waiting until DataSync can use it..."
            )
            roles.wait_role(iam, create_role, timeout=role_wait)
            propagation = role_wait
        else:
            app.info(f"Using the existing IAM role {create_role}.")
    assert role_arn is not None
    spec = api.S3Spec(bucket, subdirectory, role_arn, storage_class and storage_class.upper())
    arn = api.create_location_s3(client, spec, role_propagation=propagation)
    _tag(client, arn, tags)
    print_arn(app, "LocationArn", arn, f"[green]Created[/] S3 location {spec.uri}.")


def _tag(client: Any, arn: str, tags: tuple[str, ...]) -> None:
    """Tags go on after creation: one path for every location type."""
    parsed = parse_tags(tags)
    if parsed:
        from s32s.datasync import api

        api.call(client, "tag_resource", ResourceArn=arn, Tags=api.tags_list(parsed))


@location_group.command("list")
@region_option
@pass_app
def location_list(app: App, region: str | None) -> None:
    """List the locations of the region."""
    from s32s.datasync import api

    locations = api.list_locations(datasync_client(app, region))
    rows = [[item["LocationUri"], item["LocationArn"]] for item in locations]
    render(app, {"Locations": locations}, "DataSync locations", ["URI", "ARN"], rows)


@location_group.command("describe")
@click.argument("arn")
@region_option
@pass_app
def location_describe(app: App, arn: str, region: str | None) -> None:
    """Show one location's settings."""
    from s32s.datasync import api

    described = _clean(api.describe_location(datasync_client(app, region), arn))
    render(app, described, "Location", ["field", "value"], [[k, v] for k, v in described.items()])


# tasks --------------------------------------------------------------------------
@datasync_group.group("task")
def task_group() -> None:
    """Create, update, list and start tasks; follow their executions."""


def task_settings_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options shared by `task create` and `task update`."""
    options = [
        click.option("--name", help="Task name."),
        click.option(
            "--schedule",
            help="rate(1 hour), cron(0 * * * ? *), ... (at most hourly); AWS form ScheduleExpression=... also accepted.",
        ),
        click.option(
            "--include",
            "--includes",
            "includes",
            multiple=True,
            metavar="PATTERN",
            help="Only transfer paths matching PATTERN, e.g. /photos/* (repeatable).",
        ),
        click.option(
            "--exclude",
            "--excludes",
            "excludes",
            multiple=True,
            metavar="PATTERN",
            help="Skip paths matching PATTERN, e.g. /processed/* (repeatable).",
        ),
        click.option(
            "--verify-mode",
            type=model_choice("VerifyMode"),
            help="What DataSync checks after copying.",
        ),
        click.option(
            "--overwrite-mode",
            type=model_choice("OverwriteMode"),
            help="Overwrite changed files at the destination.",
        ),
        click.option(
            "--preserve-deleted-files",
            type=model_choice("PreserveDeletedFiles"),
            help="Keep (PRESERVE) or delete (REMOVE) destination files gone from the source.",
        ),
        click.option(
            "--transfer-mode",
            type=model_choice("TransferMode"),
            help="Copy only changed data (CHANGED) or everything (ALL).",
        ),
        click.option(
            "--bandwidth-limit",
            metavar="RATE",
            help="Bytes per second, or 10MB/s, 5MiB/s, or unlimited.",
        ),
        click.option(
            "--log-level",
            type=model_choice("LogLevel"),
            help="What DataSync logs to the log group.",
        ),
        click.option(
            "--log-group-arn",
            "--cloud-watch-log-group-arn",
            "log_group_arn",
            help="CloudWatch log group ARN for the task's logs.",
        ),
        click.option(
            "--options",
            "aws_options",
            help="AWS CLI spelling: VerifyMode=...,OverwriteMode=...,BytesPerSecond=... (the flags above win).",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def build_settings(params: dict[str, Any]) -> Any:
    """TaskSettings from the shared task options."""
    from s32s.datasync import api

    options: dict[str, Any] = dict(shorthand(params.get("aws_options"), what="--options"))
    flags = {
        "VerifyMode": params.get("verify_mode"),
        "OverwriteMode": params.get("overwrite_mode"),
        "PreserveDeletedFiles": params.get("preserve_deleted_files"),
        "TransferMode": params.get("transfer_mode"),
        "BytesPerSecond": params.get("bandwidth_limit"),
        "LogLevel": params.get("log_level"),
    }
    options.update({key: value for key, value in flags.items() if value is not None})
    schedule = params.get("schedule")
    if schedule and schedule.strip().startswith("ScheduleExpression="):
        schedule = shorthand(schedule, what="--schedule")["ScheduleExpression"]
    return api.TaskSettings(
        name=params.get("name"),
        schedule=schedule,
        includes=filter_patterns(params.get("includes") or ()),
        excludes=filter_patterns(params.get("excludes") or ()),
        options=options,
        log_group_arn=params.get("log_group_arn"),
    )


@task_group.command("create")
@click.option(
    "--source",
    "--source-location-arn",
    "source",
    required=True,
    metavar="ARN",
    help="Location to copy from.",
)
@click.option(
    "--destination",
    "--destination-location-arn",
    "destination",
    required=True,
    metavar="ARN",
    help="Location to copy to.",
)
@task_settings_options
@tag_option
@region_option
@pass_app
def task_create(
    app: App,
    source: str,
    destination: str,
    tags: tuple[str, ...],
    region: str | None,
    **params: Any,
) -> None:
    """Create a task from a source location to a destination location."""
    from s32s.datasync import api

    client = datasync_client(app, region)
    arn = api.create_task(client, source, destination, build_settings(params), parse_tags(tags))
    print_arn(app, "TaskArn", arn, "[green]Created[/] task.")


def _task_arn_param(arn: str | None, task_arn: str | None) -> str:
    value = arn or task_arn
    if not value:
        raise click.UsageError("Give the task ARN (argument or --task-arn).")
    return value


task_arn_option = click.option(
    "--task-arn", help="The task ARN (AWS CLI spelling of the argument)."
)


@task_group.command("update")
@click.argument("arn", required=False)
@task_arn_option
@task_settings_options
@click.option(
    "--clear-filters",
    is_flag=True,
    help="Remove the task's include and exclude filters (then set those given).",
)
@region_option
@pass_app
def task_update(
    app: App,
    arn: str | None,
    task_arn: str | None,
    clear_filters: bool,
    region: str | None,
    **params: Any,
) -> None:
    """Change a task's name, schedule, filters or options (others stay as they are)."""
    from s32s.datasync import api

    target = _task_arn_param(arn, task_arn)
    api.update_task(
        datasync_client(app, region), target, build_settings(params), clear_filters=clear_filters
    )
    if app.json_output:
        app.emit_json({"TaskArn": target, "updated": True})
    else:
        app.info(f"[green]Updated[/] task {target}.")


@task_group.command("list")
@region_option
@pass_app
def task_list(app: App, region: str | None) -> None:
    """List the tasks of the region."""
    from s32s.datasync import api

    tasks = api.list_tasks(datasync_client(app, region))
    rows = [[t.get("Name", ""), t.get("Status", ""), t["TaskArn"]] for t in tasks]
    render(app, {"Tasks": tasks}, "DataSync tasks", ["name", "status", "ARN"], rows)


@task_group.command("describe")
@click.argument("arn", required=False)
@task_arn_option
@region_option
@pass_app
def task_describe(app: App, arn: str | None, task_arn: str | None, region: str | None) -> None:
    """Show a task's locations, schedule, filters and options."""
    from s32s.datasync import api

    described = _clean(
        api.describe_task(datasync_client(app, region), _task_arn_param(arn, task_arn))
    )
    render(app, described, "Task", ["field", "value"], [[k, v] for k, v in described.items()])


@task_group.command("start")
@click.argument("arn", required=False)
@task_arn_option
@click.option(
    "--wait",
    is_flag=True,
    help="Follow the execution with a progress bar; its final status sets the exit code.",
)
@click.option(
    "--timeout",
    type=float,
    help="With --wait: seconds before giving up waiting (exit 1; the execution goes on).",
)
@click.option(
    "--interval",
    type=float,
    default=10,
    show_default=True,
    help="With --wait: seconds between status checks.",
)
@region_option
@pass_app
def task_start(
    app: App,
    arn: str | None,
    task_arn: str | None,
    wait: bool,
    timeout: float | None,
    interval: float,
    region: str | None,
) -> None:
    """Start a task execution and print its ARN; --wait follows it to the end.

    Exit codes with --wait: 0 SUCCESS, 1 ERROR or failed files or timeout.
    """
    from s32s.datasync import api

    client = datasync_client(app, region)
    execution_arn = api.start_task_execution(client, _task_arn_param(arn, task_arn))
    if not wait:
        print_arn(app, "TaskExecutionArn", execution_arn, "[green]Started[/] task execution.")
        return
    app.info(f"Started {execution_arn}")
    final = follow_execution(app, client, execution_arn, timeout=timeout, interval=interval)
    if app.json_output:
        app.emit_json(_clean(final))
    else:
        app.info(_summary(final))
    api.check_outcome(final)


def follow_execution(
    app: App, client: Any, arn: str, *, timeout: float | None, interval: float
) -> dict[str, Any]:
    """Poll the execution, drawing a bar on a terminal and plain lines otherwise."""
    from s32s.cli.output import error_console
    from s32s.datasync import api

    if app.json_output or app.quiet:
        return api.wait_execution(client, arn, timeout=timeout, interval=interval)
    console = error_console()
    if not console.is_terminal:
        seen: list[str] = []

        def line(execution: dict[str, Any]) -> None:
            status = execution.get("Status", "?")
            if status not in api.TERMINAL_STATUSES and (not seen or seen[-1] != status):
                seen.append(status)
                app.info(f"{status}: {_counts(execution)}")

        return api.wait_execution(client, arn, timeout=timeout, interval=interval, on_update=line)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[status]:<12}"),
        BarColumn(),
        TextColumn("{task.fields[files]}"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as progress:
        bar = progress.add_task("execution", total=None, status="STARTING", files="")

        def update(execution: dict[str, Any]) -> None:
            total = execution.get("EstimatedBytesToTransfer") or None
            progress.update(
                bar,
                total=total,
                completed=execution.get("BytesTransferred", 0),
                status=execution.get("Status", "?"),
                files=f"{execution.get('FilesTransferred', 0)}/{execution.get('EstimatedFilesToTransfer', '?')} files",
            )

        return api.wait_execution(client, arn, timeout=timeout, interval=interval, on_update=update)


def _counts(execution: dict[str, Any]) -> str:
    from s32s.cli.output import human_bytes

    files = f"{execution.get('FilesTransferred', 0)}/{execution.get('EstimatedFilesToTransfer', '?')} files"
    done = human_bytes(execution.get("BytesTransferred", 0))
    total = execution.get("EstimatedBytesToTransfer")
    return f"{files}, {done}" + (f" of {human_bytes(total)}" if total else "")


def _summary(execution: dict[str, Any]) -> str:
    status = execution.get("Status", "?")
    colour = "green" if status == "SUCCESS" else "red"
    return f"[{colour}]{status}[/]: {_counts(execution)}"


@task_group.command("execution")
@click.argument("arn", required=False)
@click.option("--task-execution-arn", help="The execution ARN (AWS CLI spelling of the argument).")
@region_option
@pass_app
def task_execution(
    app: App, arn: str | None, task_execution_arn: str | None, region: str | None
) -> None:
    """Show one execution's status, files and bytes."""
    from s32s.datasync import api

    target = arn or task_execution_arn
    if not target:
        raise click.UsageError("Give the execution ARN (argument or --task-execution-arn).")
    described = _clean(api.describe_task_execution(datasync_client(app, region), target))
    render(
        app, described, "Task execution", ["field", "value"], [[k, v] for k, v in described.items()]
    )


@task_group.command("executions")
@click.argument("arn", required=False)
@task_arn_option
@region_option
@pass_app
def task_executions(app: App, arn: str | None, task_arn: str | None, region: str | None) -> None:
    """List the executions of a task (of every task without an ARN)."""
    from s32s.datasync import api

    executions = api.list_task_executions(datasync_client(app, region), arn or task_arn)
    rows = [[e.get("Status", ""), e["TaskExecutionArn"]] for e in executions]
    render(app, {"TaskExecutions": executions}, "Task executions", ["status", "ARN"], rows)


# apply --------------------------------------------------------------------------
@datasync_group.command("apply")
@click.argument("pipeline_file", metavar="PIPELINE.yaml", type=click.Path(dir_okay=False))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show the plan (reuse, create, activate, update) and change nothing.",
)
@click.option(
    "--agent-timeout",
    type=float,
    default=300,
    show_default=True,
    help="Seconds to wait for a newly activated agent to be ONLINE.",
)
@click.option(
    "--role-wait",
    type=float,
    default=60,
    show_default=True,
    help="Seconds to wait for a newly created IAM role to become usable.",
)
@region_option
@pass_app
def apply_command(
    app: App,
    pipeline_file: str,
    dry_run: bool,
    agent_timeout: float,
    role_wait: float,
    region: str | None,
) -> None:
    """Create or update the agent, locations and task a pipeline file declares.

    What exists and matches is reused, what is missing is created, and the
    task is updated when its schedule, filters or options changed; a second
    run changes nothing. Prints a table of the ARNs. See docs/datasync.md.
    """
    from s32s.datasync import pipeline as pipelines

    declared = pipelines.load_pipeline(pipeline_file)
    # --region here, else the global --region, else the file's region
    client = datasync_client(app, region or (None if app.region else declared.region))
    iam = iam_client(app, region)
    plan = pipelines.make_plan(declared, client, iam)
    if not dry_run and plan.changes:
        hooks = pipelines.ApplyHooks(
            smb_password=lambda env: read_secret(
                app, env, f"SMB password of {declared.source.get('user')}"
            ),
            info=app.info,
            agent_timeout=agent_timeout,
            role_wait=role_wait,
        )
        pipelines.apply_plan(plan, client, iam, hooks)
    _render_plan(app, plan, dry_run)


_DONE = {"reuse": "unchanged", "create": "created", "activate": "activated", "update": "updated"}
_TODO = {"reuse": "reuse", "create": "create", "activate": "activate", "update": "update"}


def _render_plan(app: App, plan: Any, dry_run: bool) -> None:
    words = _TODO if dry_run else _DONE
    if app.json_output:
        document = plan.to_dict()
        document["dry_run"] = dry_run
        app.emit_json(document)
        return
    rows = [
        [
            step.resource,
            words[step.action] + (f" ({', '.join(step.changes)})" if step.changes else ""),
            step.label,
            step.arn or ("(new)" if dry_run else ""),
        ]
        for step in plan.steps.values()
    ]
    from s32s.cli.output import stdout_console, table

    title = (
        f"Plan for {plan.pipeline.path} in {plan.region}"
        if dry_run
        else f"{plan.pipeline.path} in {plan.region}"
    )
    stdout_console().print(table(title, ["resource", "action", "what", "ARN"], rows))
    if dry_run:
        app.info("Dry run: nothing was changed." if plan.changes else "Nothing to change.")
    elif not plan.changes:
        app.info("Everything already matches the pipeline file; nothing was changed.")
