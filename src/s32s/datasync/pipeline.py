"""The pipeline file: one agent, one SMB or NFS source, one S3 destination, one task.

`load_pipeline` reads and checks the YAML file (unknown keys are errors: a
misspelt `exclude` must not silently copy everything). `plan` looks at what
exists, read-only, and decides for each resource: reuse, create, activate or
update. `apply` carries the plan out, in order, and when a step fails says
which resources were already created, so nothing is half-made in silence.

Matching (what "already exists" means):
- agent: the ARN given, else the agent with this name in the region; an IP
  is only used to activate an agent when none has the name;
- source and destination: a location with the same URI (server/bucket and
  folder) and the same agents, user, domain, version, role and storage class;
- role (`role:`): the IAM role of that name;
- task: the task with this name; its schedule, filters and the options in the
  file are compared, and it is updated when they differ. Options the file does
  not name are left as they are. A task cannot change its locations: if the
  task of that name uses other locations, the plan stops before changing
  anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.datasync import api, roles
from s32s.datasync.arns import bucket_name, check_arn, check_region
from s32s.datasync.schedule import validate_schedule
from s32s.errors import ConfigError, S32SError
from s32s.polling import Clock
from s32s.yamlfile import read_yaml

SMB_PASSWORD_ENV = "S32S_SMB_PASSWORD"

KEYS: dict[str, set[str]] = {
    "": {"region", "agent", "source", "destination", "task"},
    "agent": {"name", "arn", "ip", "tags"},
    "source": {"smb", "nfs"},
    "source.smb": {"server", "subdirectory", "user", "domain", "version", "password_env"},
    "source.nfs": {"server", "subdirectory", "version"},
    "destination": {"s3"},
    "destination.s3": {"bucket", "subdirectory", "storage_class", "role", "role_arn"},
    "task": {"name", "schedule", "includes", "excludes", "options", "tags"},
    "task.options": set(api.OPTION_KEYS) | {"log_group_arn"},
}


class PipelineError(ConfigError):
    """The pipeline file is invalid, or does not fit what exists."""


@dataclass
class AgentDecl:
    name: str | None
    arn: str | None
    ip: str | None
    tags: dict[str, str]


@dataclass
class Pipeline:
    path: str
    region: str | None
    agent: AgentDecl
    source_kind: str  # "smb" | "nfs"
    source: dict[str, Any]
    destination: dict[str, Any]
    task: api.TaskSettings
    task_tags: dict[str, str]


# loading ----------------------------------------------------------------------
def load_pipeline(path: str | Path) -> Pipeline:
    """Read and check a pipeline file; every error names the file and the key."""
    file = Path(path)
    data = read_yaml(file, label="Pipeline file", error=PipelineError)
    return parse_pipeline(data, str(file))


def parse_pipeline(data: Any, where: str) -> Pipeline:
    reader = _Reader(where)
    root = reader.mapping(data, "")
    agent = reader.mapping(root.get("agent"), "agent", required=True)
    source = reader.mapping(root.get("source"), "source", required=True)
    destination = reader.mapping(root.get("destination"), "destination", required=True)
    task = reader.mapping(root.get("task"), "task", required=True)
    return Pipeline(
        path=where,
        region=reader.text(root, "", "region"),
        agent=reader.agent(agent),
        source_kind=next(iter(source), ""),
        source=reader.source(source),
        destination=reader.destination(destination),
        task=reader.task(task),
        task_tags=reader.tags(task, "task"),
    )


class _Reader:
    """Typed access to the YAML data, with errors that say `file: key: problem`."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, key: str, problem: str, hint: str | None = None) -> PipelineError:
        return PipelineError(f"{self.where}: {key or 'top level'}: {problem}", hint)

    def mapping(self, value: Any, key: str, *, required: bool = False) -> dict[str, Any]:
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            expected = "a section of keys" if value is not None else "missing"
            raise self.fail(key, f"{expected}; see docs/datasync.md for the file's form.")
        unknown = sorted(set(map(str, value)) - KEYS.get(key, set()))
        if unknown:
            raise self.fail(
                f"{key + '.' if key else ''}{unknown[0]}",
                "unknown key.",
                f"Known keys here: {', '.join(sorted(KEYS[key]))}.",
            )
        return value

    def text(
        self, section: Mapping[str, Any], key: str, name: str, *, required: bool = False
    ) -> str | None:
        value = section.get(name)
        full = f"{key}.{name}" if key else name
        if value is None or value == "":
            if required:
                raise self.fail(full, "is required.")
            return None
        if not isinstance(value, str | int | float):
            raise self.fail(full, "must be a single value.")
        return str(value)

    def patterns(self, section: Mapping[str, Any], key: str, name: str) -> list[str]:
        value = section.get(name) or []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.fail(f"{key}.{name}", "must be a list of patterns like /processed/*.")
        return [part for item in value for part in item.split("|") if part]

    def tags(self, section: Mapping[str, Any], key: str) -> dict[str, str]:
        value = section.get("tags") or {}
        if not isinstance(value, dict):
            raise self.fail(f"{key}.tags", "must be a mapping of tag names to values.")
        return {str(k): str(v) for k, v in value.items()}

    def agent(self, section: Mapping[str, Any]) -> AgentDecl:
        decl = AgentDecl(
            name=self.text(section, "agent", "name"),
            arn=self.text(section, "agent", "arn"),
            ip=self.text(section, "agent", "ip"),
            tags=self.tags(section, "agent"),
        )
        if decl.arn:
            check_arn(decl.arn, "agent", what=f"{self.where}: agent.arn")
        elif not decl.name:
            raise self.fail(
                "agent", "give arn (an activated agent) or name (with ip to activate it)."
            )
        return decl

    def source(self, section: Mapping[str, Any]) -> dict[str, Any]:
        if len(section) != 1:
            raise self.fail("source", "give exactly one of smb or nfs.")
        kind = next(iter(section))
        body = self.mapping(section[kind], f"source.{kind}", required=True)
        key = f"source.{kind}"
        result = {
            "server": self.text(body, key, "server", required=True),
            "subdirectory": self.text(body, key, "subdirectory", required=True),
            "version": (self.text(body, key, "version") or "").upper() or None,
        }
        allowed = api.model_values("SmbVersion" if kind == "smb" else "NfsVersion")
        if result["version"] and result["version"] not in allowed:
            raise self.fail(
                f"{key}.version",
                f"{result['version']!r} is not a version.",
                f"Use one of {', '.join(allowed)}.",
            )
        if kind == "smb":
            result["user"] = self.text(body, key, "user", required=True)
            result["domain"] = self.text(body, key, "domain")
            result["password_env"] = self.text(body, key, "password_env") or SMB_PASSWORD_ENV
        return result

    def destination(self, section: Mapping[str, Any]) -> dict[str, Any]:
        body = self.mapping(section.get("s3"), "destination.s3", required=True)
        key = "destination.s3"
        result = {
            "bucket": self.text(body, key, "bucket", required=True),
            "subdirectory": self.text(body, key, "subdirectory"),
            "storage_class": (self.text(body, key, "storage_class") or "").upper() or None,
            "role": self.text(body, key, "role"),
            "role_arn": self.text(body, key, "role_arn"),
        }
        classes = api.model_values("S3StorageClass")
        if result["storage_class"] and result["storage_class"] not in classes:
            raise self.fail(
                f"{key}.storage_class",
                f"{result['storage_class']!r} is not a storage class.",
                f"Use one of {', '.join(classes)}.",
            )
        if bool(result["role"]) == bool(result["role_arn"]):
            raise self.fail(
                key, "give exactly one of role (a role name, created if missing) and role_arn."
            )
        if result["role"]:
            roles.check_role_name(result["role"], what=f"{self.where}: {key}.role")
        else:
            check_arn(result["role_arn"], "role", what=f"{self.where}: {key}.role_arn")
        return result

    def task(self, section: Mapping[str, Any]) -> api.TaskSettings:
        name = self.text(section, "task", "name", required=True)
        schedule = self.text(section, "task", "schedule")
        if schedule:
            validate_schedule(schedule, what=f"{self.where}: task.schedule")
        options_in = self.mapping(section.get("options"), "task.options")
        options = {api.OPTION_KEYS[k]: v for k, v in options_in.items() if k in api.OPTION_KEYS}
        options = api.check_options(options, what=f"{self.where}: task.options")
        log_group = self.text(options_in, "task.options", "log_group_arn")
        if log_group:
            check_arn(log_group, "log-group", what=f"{self.where}: task.options.log_group_arn")
        return api.TaskSettings(
            name=name,
            schedule=schedule,
            includes=self.patterns(section, "task", "includes"),
            excludes=self.patterns(section, "task", "excludes"),
            options=options,
            log_group_arn=log_group,
        )


# planning ---------------------------------------------------------------------
@dataclass
class Step:
    """What apply does about one resource."""

    resource: str  # agent | source | role | destination | task
    action: str  # reuse | create | activate | update
    label: str
    arn: str | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def changes_something(self) -> bool:
        return self.action != "reuse"


@dataclass
class Plan:
    pipeline: Pipeline
    region: str
    steps: dict[str, Step]

    @property
    def changes(self) -> bool:
        return any(step.changes_something for step in self.steps.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline.path,
            "region": self.region,
            "changes": self.changes,
            "steps": [
                {
                    "resource": s.resource,
                    "action": s.action,
                    "label": s.label,
                    "arn": s.arn,
                    "changes": s.changes,
                }
                for s in self.steps.values()
            ],
        }


def make_plan(pipeline: Pipeline, client: Any, iam: Any) -> Plan:
    """Decide, read-only, what apply must do; stops on anything that cannot be done."""
    region = api.region_of(client)
    if pipeline.region and pipeline.region != region:
        raise PipelineError(
            f"{pipeline.path}: region is {pipeline.region}, but DataSync is being used in {region}.",
            f"Drop --region, or pass --region {pipeline.region}.",
        )
    steps: dict[str, Step] = {}
    steps["agent"] = _plan_agent(pipeline, client, region)
    agent_arn = steps["agent"].arn
    steps["source"] = _plan_source(pipeline, client, agent_arn)
    steps["role"], role_arn = _plan_role(pipeline, iam)
    steps["destination"] = _plan_destination(pipeline, client, role_arn, region)
    steps["task"] = _plan_task(pipeline, client, steps["source"].arn, steps["destination"].arn)
    return Plan(pipeline, region, steps)


def _plan_agent(pipeline: Pipeline, client: Any, region: str) -> Step:
    decl = pipeline.agent
    if decl.arn:
        arn = check_arn(decl.arn, "agent", what=f"{pipeline.path}: agent.arn")
        check_region([arn], region, what=f"{pipeline.path}: agent.arn")
        described = api.describe_agent(client, decl.arn)
        return Step("agent", "reuse", described.get("Name") or decl.arn, decl.arn)
    matches = [agent for agent in api.list_agents(client) if agent.get("Name") == decl.name]
    if len(matches) > 1:
        raise PipelineError(
            f"{pipeline.path}: agent.name: {len(matches)} agents in {region} are named {decl.name!r}.",
            "Put the ARN of the one to use in agent.arn.",
        )
    if matches:
        return Step("agent", "reuse", str(decl.name), matches[0]["AgentArn"])
    if not decl.ip:
        raise PipelineError(
            f"{pipeline.path}: agent: no agent named {decl.name!r} in {region}, and no ip to activate one.",
            "Add agent.ip (the agent VM's address), or agent.arn.",
        )
    return Step("agent", "activate", f"{decl.name} at {decl.ip}")


def source_spec(pipeline: Pipeline, agent_arn: str) -> api.SmbSpec | api.NfsSpec:
    s = pipeline.source
    if pipeline.source_kind == "smb":
        return api.SmbSpec(
            s["server"], s["subdirectory"], [agent_arn], s["user"], s["domain"], s["version"]
        )
    return api.NfsSpec(s["server"], s["subdirectory"], [agent_arn], s["version"])


def _plan_source(pipeline: Pipeline, client: Any, agent_arn: str | None) -> Step:
    uri_spec = source_spec(pipeline, agent_arn or "")
    if agent_arn is None:
        return Step("source", "create", uri_spec.uri)
    arn = api.find_location(client, source_spec(pipeline, agent_arn))
    return Step("source", "reuse" if arn else "create", uri_spec.uri, arn)


def _plan_role(pipeline: Pipeline, iam: Any) -> tuple[Step, str | None]:
    d = pipeline.destination
    if d["role_arn"]:
        return Step("role", "reuse", d["role_arn"].rsplit("/", 1)[-1], d["role_arn"]), d["role_arn"]
    arn = roles.get_role_arn(iam, d["role"])
    return Step("role", "reuse" if arn else "create", d["role"], arn), arn


def destination_spec(pipeline: Pipeline, role_arn: str) -> api.S3Spec:
    d = pipeline.destination
    return api.S3Spec(d["bucket"], d["subdirectory"], role_arn, d["storage_class"])


def _plan_destination(pipeline: Pipeline, client: Any, role_arn: str | None, region: str) -> Step:
    spec = destination_spec(pipeline, role_arn or "")
    if role_arn is None:
        return Step("destination", "create", spec.uri)
    arn = api.find_location(client, spec)
    return Step("destination", "reuse" if arn else "create", spec.uri, arn)


def _plan_task(
    pipeline: Pipeline, client: Any, source_arn: str | None, destination_arn: str | None
) -> Step:
    settings = pipeline.task
    named = [task for task in api.list_tasks(client) if task.get("Name") == settings.name]
    if not named:
        return Step("task", "create", str(settings.name))
    if len(named) > 1:
        raise PipelineError(
            f"{pipeline.path}: task.name: {len(named)} tasks are named {settings.name!r}.",
            "Rename the task in the file, or delete the extra tasks.",
        )
    arn = named[0]["TaskArn"]
    described = api.describe_task(client, arn)
    if (described.get("SourceLocationArn"), described.get("DestinationLocationArn")) != (
        source_arn,
        destination_arn,
    ):
        raise PipelineError(
            f"{pipeline.path}: task {settings.name!r} ({arn}) copies between other locations than the file declares, "
            "and a task's locations cannot be changed. Nothing was changed.",
            "Give the task another name in the file, or delete the old task first.",
        )
    changes = settings.differences(described)
    return Step("task", "update" if changes else "reuse", str(settings.name), arn, changes)


# applying ---------------------------------------------------------------------
@dataclass
class ApplyHooks:
    """What apply needs from its caller: secrets, messages, time."""

    smb_password: Callable[[str], str]  # env var name -> password
    info: Callable[[str], None] = lambda message: None
    clock: Clock = field(default_factory=Clock)
    agent_timeout: float = 300
    role_wait: float = 60
    fetch_key: Callable[[str, str], str] | None = None  # (ip, region) -> activation key


def apply_plan(plan: Plan, client: Any, iam: Any, hooks: ApplyHooks) -> Plan:
    """Carry out `plan`; on failure, say which resources were created before it."""
    created: list[str] = []
    password = None
    if plan.pipeline.source_kind == "smb" and plan.steps["source"].action == "create":
        password = hooks.smb_password(plan.pipeline.source["password_env"])
    try:
        _apply_steps(plan, client, iam, hooks, password, created)
    except S32SError as exc:
        if created:
            exc.hint = (
                f"{exc.hint + ' ' if exc.hint else ''}Created before the failure: {'; '.join(created)}. "
                "Running apply again reuses them."
            )
        raise
    return plan


def _apply_steps(
    plan: Plan, client: Any, iam: Any, hooks: ApplyHooks, password: str | None, created: list[str]
) -> None:
    steps, pipeline = plan.steps, plan.pipeline
    agent = steps["agent"]
    if agent.action == "activate":
        agent.arn = _activate(pipeline, client, hooks)
        created.append(f"agent {agent.arn}")
        hooks.info(f"Activated agent {agent.arn}; waiting until it is ONLINE...")
        api.wait_agent_online(client, agent.arn, timeout=hooks.agent_timeout, clock=hooks.clock)
    assert agent.arn is not None
    source = steps["source"]
    if source.action == "create":
        spec = source_spec(pipeline, agent.arn)
        if isinstance(spec, api.SmbSpec):
            source.arn = api.create_location_smb(client, spec, password or "")
        else:
            source.arn = api.create_location_nfs(client, spec)
        created.append(f"source location {source.arn}")
    role = steps["role"]
    propagation = 0.0
    if role.action == "create":
        role.arn = roles.create_role(
            iam, role.label, bucket_name(pipeline.destination["bucket"]), plan.region
        )
        created.append(f"IAM role {role.arn}")
        roles.wait_role(iam, role.label, timeout=hooks.role_wait, clock=hooks.clock)
        propagation = hooks.role_wait
    assert role.arn is not None
    destination = steps["destination"]
    if destination.action == "create":
        spec_s3 = destination_spec(pipeline, role.arn)
        destination.arn = api.create_location_s3(
            client, spec_s3, role_propagation=propagation, clock=hooks.clock
        )
        created.append(f"destination location {destination.arn}")
    assert source.arn is not None and destination.arn is not None
    task = steps["task"]
    if task.action == "create":
        task.arn = api.create_task(
            client, source.arn, destination.arn, pipeline.task, pipeline.task_tags
        )
        created.append(f"task {task.arn}")
    elif task.action == "update":
        assert task.arn is not None
        api.update_task(client, task.arn, pipeline.task, clear_filters=True)


def _activate(pipeline: Pipeline, client: Any, hooks: ApplyHooks) -> str:
    from s32s.datasync import activation

    decl = pipeline.agent
    region = api.region_of(client)
    assert decl.ip is not None and decl.name is not None
    if hooks.fetch_key is not None:
        key = hooks.fetch_key(decl.ip, region)
    else:
        key = activation.fetch_activation_key(
            activation.AgentAddress.parse(decl.ip), region, clock=hooks.clock
        )
    return api.create_agent(client, key, decl.name, decl.tags)
