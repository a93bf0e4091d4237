"""DataSync agents, locations, tasks and executions over one boto3 client.

Every request goes through `call`, which turns DataSync's error answers into
one sentence naming the operation (and, for access denied, the permission to
ask for). Values users type are checked here before anything is sent: ARNs
(`arns.py`), schedules (`schedule.py`), filters and task options.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from s32s.aws.clients import error_code, error_message
from s32s.datasync.arns import Arn, bucket_arn, check_arn, check_region
from s32s.datasync.schedule import validate_schedule
from s32s.errors import AwsError, ConfigError, ExitCode, S32SError
from s32s.polling import Clock, PollTimeout, poll, retry

log = logging.getLogger(__name__)

ACCESS_DENIED = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "403"}
TERMINAL_STATUSES = {"SUCCESS", "ERROR"}


class ExecutionFailed(S32SError):
    """A task execution ended in ERROR, or with files that failed (exit 1)."""

    exit_code = ExitCode.PARTIAL_FAILURE


class WaitTimeout(S32SError):
    """A wait ran out of time; the remote operation goes on (exit 1)."""

    exit_code = ExitCode.PARTIAL_FAILURE


# requests ---------------------------------------------------------------------
def call(client: Any, operation: str, **params: Any) -> dict[str, Any]:
    """`client.<operation>(**params)` with DataSync/IAM errors as `AwsError`."""
    with _as_aws_errors(client, operation):
        result: dict[str, Any] = getattr(client, operation)(**params)
    return result


@contextlib.contextmanager
def _as_aws_errors(client: Any, operation: str) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except ClientError as exc:
        raise client_error(exc, _api_name(client, operation), client) from exc
    except BotoCoreError as exc:
        from s32s.aws.clients import translate_error

        translated = translate_error(exc)
        raise (translated or AwsError(str(exc))) from exc


def client_error(exc: Exception, api_name: str, client: Any) -> AwsError:
    """One sentence for a refused DataSync, IAM, STS or S3 Control request."""
    code, message = error_code(exc), error_message(exc)
    service = client.meta.service_model.service_id if hasattr(client, "meta") else "AWS"
    prefix = {"DataSync": "datasync", "IAM": "iam", "S3 Control": "s3"}.get(
        service, service.lower()
    )
    if code in ACCESS_DENIED:
        needs_role = {
            "DataSync": " (creating locations and tasks also needs iam:PassRole on the bucket role)",
            "S3 Control": " (creating a job also needs iam:PassRole on its role)",
        }.get(service, "")
        return AwsError(
            f"Access denied: these credentials may not call {service} {api_name}.",
            f"Allow {prefix}:{api_name} in their IAM policy{needs_role}, or use another --profile.",
        )
    if "limit" in code.lower() or "quota" in message.lower() or "limit" in message.lower():
        return AwsError(
            f"{service} {api_name} was refused because a limit was reached: {message or code}.",
            "Delete unused resources or ask AWS for a higher quota.",
        )
    if code in {"InternalException", "ServiceUnavailable", "InternalFailure"}:
        return AwsError(
            f"{service} failed internally on {api_name}: {message or code}.", "Try again."
        )
    from s32s.aws.clients import translate_error

    if code in {
        "InvalidRequestException",
        "InvalidRequest",
        "ValidationException",
        "NoSuchEntity",
        "EntityAlreadyExists",
        "MalformedPolicyDocument",
    }:
        text = message or code
        return AwsError(f"{service} refused {api_name}: {text.rstrip('.')}.")
    translated = translate_error(exc)
    return translated or AwsError(f"{service} {api_name} failed: {message or code}.")


def _api_name(client: Any, operation: str) -> str:
    try:
        return str(client.meta.method_to_api_mapping[operation])
    except (AttributeError, KeyError):
        return "".join(part.title() for part in operation.split("_"))


def paged(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a paginated List* call (botocore's paginator follows the NextTokens)."""
    with _as_aws_errors(client, operation):
        pages = client.get_paginator(operation).paginate(**params)
        return [item for page in pages for item in page.get(key, [])]


def region_of(client: Any) -> str:
    return str(client.meta.region_name)


def checked(client: Any, value: str, kind: str, *, what: str) -> Arn:
    """`value` checked as an ARN of `kind` in the client's region."""
    arn = check_arn(value, kind, what=what)
    check_region([arn], region_of(client), what=what)
    return arn


def tags_list(tags: Mapping[str, str] | None) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in (tags or {}).items()]


# agents -----------------------------------------------------------------------
def create_agent(
    client: Any, activation_key: str, name: str, tags: Mapping[str, str] | None = None
) -> str:
    from s32s.datasync.activation import KEY_PATTERN

    if not KEY_PATTERN.fullmatch(activation_key.strip()):
        raise ConfigError(
            "The activation key is not in DataSync's form (five groups of five letters or digits, e.g. ABCDE-12345-...).",
            "Copy it again from the agent's local console, or let s32s fetch it with --agent-ip.",
        )
    params: dict[str, Any] = {"ActivationKey": activation_key.strip(), "AgentName": name}
    if tags:
        params["Tags"] = tags_list(tags)
    return str(call(client, "create_agent", **params)["AgentArn"])


def list_agents(client: Any) -> list[dict[str, Any]]:
    return paged(client, "list_agents", "Agents")


def describe_agent(client: Any, agent_arn: str) -> dict[str, Any]:
    checked(client, agent_arn, "agent", what="agent ARN")
    return call(client, "describe_agent", AgentArn=agent_arn)


def wait_agent_online(
    client: Any,
    agent_arn: str,
    *,
    timeout: float = 300,
    interval: float = 5,
    clock: Clock | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll DescribeAgent until the agent is ONLINE; `WaitTimeout` after `timeout` seconds."""
    checked(client, agent_arn, "agent", what="agent ARN")
    return _wait_for_status(
        lambda: call(client, "describe_agent", AgentArn=agent_arn),
        {"ONLINE"},
        lambda status: WaitTimeout(
            f"Agent {agent_arn} is still {status} after {timeout:g} seconds.",
            "Check that the agent VM is running and can reach AWS on port 443, then run `s32s datasync agent wait` again.",
        ),
        timeout=timeout,
        interval=interval,
        clock=clock,
        on_update=on_update,
    )


def _wait_for_status(
    describe: Callable[[], dict[str, Any]],
    statuses: Collection[str],
    still: Callable[[str], WaitTimeout],
    *,
    timeout: float | None,
    interval: float,
    clock: Clock | None,
    on_update: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    """Poll `describe` until its Status is one of `statuses`; `still(status)` is raised at the timeout."""
    try:
        return poll(
            describe,
            lambda answer: answer.get("Status") in statuses,
            interval=interval,
            timeout=timeout,
            clock=clock,
            on_update=on_update,
        )
    except PollTimeout as exc:
        status = exc.last.get("Status", "unknown") if isinstance(exc.last, dict) else "unknown"
        raise still(status) from None


# locations --------------------------------------------------------------------
def normalize_uri(uri: str) -> str:
    """A location URI for comparison: no doubled or trailing slashes, lower-case scheme and host."""
    scheme, _, rest = uri.partition("://")
    host, _, path = rest.partition("/")
    path = re.sub(r"/+", "/", "/" + path).rstrip("/")
    return f"{scheme.lower()}://{host.lower()}{path}"


def subdirectory(value: str | None) -> str:
    """A location subdirectory with one leading slash, as DataSync reports it."""
    text = (value or "").strip().replace("\\", "/")
    return "/" + "/".join(part for part in text.split("/") if part)


@dataclass
class SmbSpec:
    """An SMB share seen through one or more agents."""

    server: str
    subdirectory: str
    agent_arns: list[str]
    user: str
    domain: str | None = None
    version: str | None = None

    @property
    def uri(self) -> str:
        return normalize_uri(f"smb://{self.server}{subdirectory(self.subdirectory)}")

    def request(self, password: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ServerHostname": self.server,
            "Subdirectory": subdirectory(self.subdirectory),
            "User": self.user,
            "Password": password,
            "AgentArns": list(self.agent_arns),
        }
        if self.domain:
            params["Domain"] = self.domain
        if self.version:
            params["MountOptions"] = {"Version": self.version}
        return params

    def differences(self, described: Mapping[str, Any]) -> list[str]:
        found = []
        if set(described.get("AgentArns") or []) != set(self.agent_arns):
            found.append("agents")
        if (described.get("User") or "") != self.user:
            found.append("user")
        if (described.get("Domain") or "").lower() != (self.domain or "").lower():
            found.append("domain")
        if _mount_version_differs(described, self.version):
            found.append("SMB version")
        return found


def _mount_version_differs(described: Mapping[str, Any], wanted: str | None) -> bool:
    """True when a protocol version is asked for and the location mounts another."""
    version = (described.get("MountOptions") or {}).get("Version") or "AUTOMATIC"
    return bool(wanted) and version != wanted


@dataclass
class NfsSpec:
    """An NFS export seen through one or more agents."""

    server: str
    subdirectory: str
    agent_arns: list[str]
    version: str | None = None

    @property
    def uri(self) -> str:
        return normalize_uri(f"nfs://{self.server}{subdirectory(self.subdirectory)}")

    def request(self) -> dict[str, Any]:
        params: dict[str, Any] = {
            "ServerHostname": self.server,
            "Subdirectory": subdirectory(self.subdirectory),
            "OnPremConfig": {"AgentArns": list(self.agent_arns)},
        }
        if self.version:
            params["MountOptions"] = {"Version": self.version}
        return params

    def differences(self, described: Mapping[str, Any]) -> list[str]:
        found = []
        if set((described.get("OnPremConfig") or {}).get("AgentArns") or []) != set(
            self.agent_arns
        ):
            found.append("agents")
        if _mount_version_differs(described, self.version):
            found.append("NFS version")
        return found


@dataclass
class S3Spec:
    """A bucket (and prefix) that DataSync reaches by assuming `role_arn`."""

    bucket: str
    subdirectory: str | None
    role_arn: str
    storage_class: str | None = None

    @property
    def uri(self) -> str:
        from s32s.datasync.arns import bucket_name

        return normalize_uri(f"s3://{bucket_name(self.bucket)}{subdirectory(self.subdirectory)}")

    def request(self, region: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "S3BucketArn": bucket_arn(self.bucket, region),
            "S3Config": {"BucketAccessRoleArn": self.role_arn},
        }
        if self.subdirectory and subdirectory(self.subdirectory) != "/":
            params["Subdirectory"] = subdirectory(self.subdirectory)
        if self.storage_class:
            params["S3StorageClass"] = self.storage_class
        return params

    def differences(self, described: Mapping[str, Any]) -> list[str]:
        found = []
        if (described.get("S3Config") or {}).get("BucketAccessRoleArn") != self.role_arn:
            found.append("role")
        storage = described.get("S3StorageClass") or "STANDARD"
        if (self.storage_class or "STANDARD") != storage:
            found.append("storage class")
        return found


LocationSpec = SmbSpec | NfsSpec | S3Spec


def create_location_smb(client: Any, spec: SmbSpec, password: str) -> str:
    for index, arn in enumerate(spec.agent_arns):
        checked(client, arn, "agent", what=f"agent ARN #{index + 1}")
    return str(call(client, "create_location_smb", **spec.request(password))["LocationArn"])


def create_location_nfs(client: Any, spec: NfsSpec) -> str:
    for index, arn in enumerate(spec.agent_arns):
        checked(client, arn, "agent", what=f"agent ARN #{index + 1}")
    return str(call(client, "create_location_nfs", **spec.request())["LocationArn"])


def create_location_s3(
    client: Any,
    spec: S3Spec,
    *,
    role_propagation: float = 0,
    interval: float = 5,
    clock: Clock | None = None,
) -> str:
    """CreateLocationS3; with `role_propagation` > 0 (a role just made), retry while
    DataSync cannot assume the role yet, up to that many seconds."""
    check_arn(spec.role_arn, "role", what="--role-arn")

    def create() -> str:
        request = spec.request(region_of(client))
        return str(call(client, "create_location_s3", **request)["LocationArn"])

    def role_not_ready(exc: Exception) -> bool:
        cause = exc.__cause__
        waiting = (
            isinstance(exc, AwsError)
            and error_code(cause) == "InvalidRequestException"
            and _role_not_ready(cause)
        )
        if waiting:
            log.info("DataSync cannot use the new role yet; retrying in %gs", interval)
        return waiting

    return retry(
        create, passing=role_not_ready, interval=interval, timeout=role_propagation, clock=clock
    )


def _role_not_ready(exc: Any) -> bool:
    message = error_message(exc).lower()
    return any(word in message for word in ("assume", "role", "access denied", "not authorized"))


def list_locations(client: Any) -> list[dict[str, Any]]:
    return paged(client, "list_locations", "Locations")


def describe_location(client: Any, location_arn: str, uri: str | None = None) -> dict[str, Any]:
    """DescribeLocation{Smb,Nfs,S3} chosen by the location's URI scheme."""
    checked(client, location_arn, "location", what="location ARN")
    if uri is None:
        uri = next(
            (
                item["LocationUri"]
                for item in list_locations(client)
                if item["LocationArn"] == location_arn
            ),
            "",
        )
    scheme = uri.partition("://")[0].lower()
    operation = {
        "smb": "describe_location_smb",
        "nfs": "describe_location_nfs",
        "s3": "describe_location_s3",
    }
    if scheme not in operation:
        raise ConfigError(
            f"Location {location_arn} ({uri or 'not found'}) is not an SMB, NFS or S3 location."
        )
    return call(client, operation[scheme], LocationArn=location_arn)


def find_location(
    client: Any, spec: LocationSpec, locations: Iterable[Mapping[str, Any]] | None = None
) -> str | None:
    """The ARN of an existing location equal to `spec`, or None."""
    wanted = spec.uri
    for item in locations if locations is not None else list_locations(client):
        if normalize_uri(item.get("LocationUri", "")) != wanted:
            continue
        described = describe_location(client, item["LocationArn"], item["LocationUri"])
        differences = spec.differences(described)
        if not differences:
            return str(item["LocationArn"])
        log.debug("location %s differs in %s", item["LocationArn"], ", ".join(differences))
    return None


# tasks ------------------------------------------------------------------------
OPTION_KEYS = {
    "verify_mode": "VerifyMode",
    "overwrite_mode": "OverwriteMode",
    "preserve_deleted_files": "PreserveDeletedFiles",
    "transfer_mode": "TransferMode",
    "bandwidth_limit": "BytesPerSecond",
    "log_level": "LogLevel",
    "task_queueing": "TaskQueueing",
    "posix_permissions": "PosixPermissions",
    "mtime": "Mtime",
    "atime": "Atime",
    "uid": "Uid",
    "gid": "Gid",
    "preserve_devices": "PreserveDevices",
    "security_descriptor_copy_flags": "SecurityDescriptorCopyFlags",
    "object_tags": "ObjectTags",
}


@lru_cache(maxsize=1)
def _service_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("datasync")


def model_values(shape: str) -> list[str]:
    """The values DataSync allows for `shape` (`VerifyMode`, `SmbVersion`, `S3StorageClass`…),
    from botocore's model of the API, so they follow the installed botocore."""
    return list(_service_model().shape_for(shape).enum)


@lru_cache(maxsize=1)
def option_choices() -> dict[str, list[str]]:
    """The allowed values of each enum task option, from the DataSync API model."""
    shape = _service_model().shape_for("Options")
    return {
        name: list(member.enum)
        for name, member in shape.members.items()
        if getattr(member, "enum", None)
    }


def parse_bandwidth(value: Any, *, what: str = "bandwidth limit") -> int:
    """Bytes per second from `-1`/`unlimited`, a number, or `10MB/s`, `5MiB/s`, `100KB`."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        text = str(value).strip().lower().removesuffix("/s").replace(" ", "")
        if text in ("unlimited", "-1", "none"):
            return -1
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(k|m|g)?(i)?b?", text)
        if match is None:
            raise ConfigError(
                f"{what}: {value!r} is not a bandwidth.",
                "Use bytes per second (1048576), 10MB/s, 5MiB/s, or unlimited.",
            )
        base = 1024 if match.group(3) else 1000
        power = {"k": 1, "m": 2, "g": 3}.get(match.group(2) or "", 0)
        number = int(float(match.group(1)) * base**power)
    if number != -1 and number < 1:
        raise ConfigError(f"{what}: {value!r} must be positive, or -1 for unlimited.")
    return number


def check_options(options: Mapping[str, Any], *, what: str = "options") -> dict[str, Any]:
    """Task options (API names) with their values checked against the API model."""
    choices = option_choices()
    result: dict[str, Any] = {}
    for key, value in options.items():
        if key == "BytesPerSecond":
            result[key] = parse_bandwidth(value, what=f"{what}: BytesPerSecond")
            continue
        if key not in choices:
            known = ", ".join(sorted([*choices, "BytesPerSecond"]))
            raise ConfigError(f"{what}: unknown task option {key!r}.", f"Known options: {known}.")
        text = str(value).upper()
        if text not in choices[key]:
            raise ConfigError(
                f"{what}: {key} cannot be {value!r}.", f"Use one of {', '.join(choices[key])}."
            )
        result[key] = text
    return result


def filter_rules(patterns: Iterable[str], *, what: str) -> list[dict[str, str]]:
    """DataSync filter rules: one SIMPLE_PATTERN whose value joins the patterns with `|`."""
    values = []
    for pattern in patterns:
        for part in str(pattern).split("|"):
            text = part.strip()
            if not text:
                raise ConfigError(
                    f"{what}: empty filter pattern.",
                    "Remove it, or write a pattern like /processed/*.",
                )
            if "\x00" in text:
                raise ConfigError(f"{what}: pattern {text!r} contains a NUL character.")
            values.append(text)
    if not values:
        return []
    return [{"FilterType": "SIMPLE_PATTERN", "Value": "|".join(values)}]


def patterns_of(rules: Iterable[Mapping[str, Any]] | None) -> list[str]:
    return [part for rule in rules or [] for part in str(rule.get("Value", "")).split("|") if part]


@dataclass
class TaskSettings:
    """What s32s manages on a task. None/empty means "leave as it is" on update."""

    name: str | None = None
    schedule: str | None = None
    includes: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)
    log_group_arn: str | None = None

    def validated(self, client: Any) -> TaskSettings:
        """A copy with the schedule, options and log group checked."""
        schedule = validate_schedule(self.schedule) if self.schedule else None
        if self.log_group_arn:
            checked(client, self.log_group_arn, "log-group", what="log group ARN")
        return TaskSettings(
            name=self.name,
            schedule=schedule,
            includes=list(self.includes),
            excludes=list(self.excludes),
            options=check_options(self.options),
            log_group_arn=self.log_group_arn,
        )

    def request(self, *, clear_filters: bool = False) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.name:
            params["Name"] = self.name
        if self.schedule:
            params["Schedule"] = {"ScheduleExpression": self.schedule}
        if self.options:
            params["Options"] = dict(self.options)
        if self.includes or clear_filters:
            params["Includes"] = filter_rules(self.includes, what="include")
        if self.excludes or clear_filters:
            params["Excludes"] = filter_rules(self.excludes, what="exclude")
        if self.log_group_arn:
            params["CloudWatchLogGroupArn"] = self.log_group_arn
        return params

    def differences(self, described: Mapping[str, Any]) -> list[str]:
        """Settings that differ from a DescribeTask answer (options not set here are ignored)."""
        found = []
        if self.name and described.get("Name") != self.name:
            found.append("name")
        schedule = (described.get("Schedule") or {}).get("ScheduleExpression")
        if (self.schedule or None) != (schedule or None):
            found.append("schedule")
        if patterns_of(described.get("Includes")) != self.includes:
            found.append("includes")
        if patterns_of(described.get("Excludes")) != self.excludes:
            found.append("excludes")
        current = described.get("Options") or {}
        found.extend(
            f"option {key}" for key, value in self.options.items() if current.get(key) != value
        )
        if self.log_group_arn and described.get("CloudWatchLogGroupArn") != self.log_group_arn:
            found.append("log group")
        return found


def create_task(
    client: Any,
    source_arn: str,
    destination_arn: str,
    settings: TaskSettings,
    tags: Mapping[str, str] | None = None,
) -> str:
    source = checked(client, source_arn, "location", what="source location ARN")
    destination = checked(client, destination_arn, "location", what="destination location ARN")
    settings = settings.validated(client)
    params = {
        "SourceLocationArn": str(source),
        "DestinationLocationArn": str(destination),
        **settings.request(),
    }
    if tags:
        params["Tags"] = tags_list(tags)
    return str(call(client, "create_task", **params)["TaskArn"])


def update_task(
    client: Any, task_arn: str, settings: TaskSettings, *, clear_filters: bool = False
) -> None:
    checked(client, task_arn, "task", what="task ARN")
    params = settings.validated(client).request(clear_filters=clear_filters)
    if not params:
        raise ConfigError(
            "Nothing to update: give at least one setting to change.",
            "See `s32s datasync task update --help`.",
        )
    call(client, "update_task", TaskArn=task_arn, **params)


def list_tasks(client: Any) -> list[dict[str, Any]]:
    return paged(client, "list_tasks", "Tasks")


def describe_task(client: Any, task_arn: str) -> dict[str, Any]:
    checked(client, task_arn, "task", what="task ARN")
    return call(client, "describe_task", TaskArn=task_arn)


def start_task_execution(client: Any, task_arn: str) -> str:
    checked(client, task_arn, "task", what="task ARN")
    return str(call(client, "start_task_execution", TaskArn=task_arn)["TaskExecutionArn"])


def describe_task_execution(client: Any, execution_arn: str) -> dict[str, Any]:
    checked(client, execution_arn, "execution", what="task execution ARN")
    return call(client, "describe_task_execution", TaskExecutionArn=execution_arn)


def list_task_executions(client: Any, task_arn: str | None = None) -> list[dict[str, Any]]:
    params = {}
    if task_arn:
        checked(client, task_arn, "task", what="task ARN")
        params["TaskArn"] = task_arn
    return paged(client, "list_task_executions", "TaskExecutions", **params)


def wait_execution(
    client: Any,
    execution_arn: str,
    *,
    timeout: float | None = None,
    interval: float = 10,
    clock: Clock | None = None,
    on_update: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Poll DescribeTaskExecution until SUCCESS or ERROR; `on_update` gets each answer."""
    checked(client, execution_arn, "execution", what="task execution ARN")
    return _wait_for_status(
        lambda: call(client, "describe_task_execution", TaskExecutionArn=execution_arn),
        TERMINAL_STATUSES,
        lambda status: WaitTimeout(
            f"Execution {execution_arn} is still {status} after {timeout:g} seconds; it goes on running.",
            f"Follow it with `s32s datasync task execution {execution_arn}`.",
        ),
        timeout=timeout,
        interval=interval,
        clock=clock,
        on_update=on_update,
    )


def check_outcome(execution: Mapping[str, Any]) -> None:
    """Raise `ExecutionFailed` (exit 1) unless the execution fully succeeded."""
    arn = execution.get("TaskExecutionArn", "the execution")
    if execution.get("Status") == "ERROR":
        result = execution.get("Result") or {}
        detail = result.get("ErrorDetail") or result.get("ErrorCode") or "no detail given"
        raise ExecutionFailed(
            f"Task execution {arn} ended in ERROR: {detail}.",
            "See the task's CloudWatch log group for the files at fault.",
        )
    failed = (
        int(execution.get("FilesFailed", {}).get("Transfer", 0) or 0)
        if isinstance(execution.get("FilesFailed"), dict)
        else 0
    )
    if failed:
        raise ExecutionFailed(f"Task execution {arn} finished, but {failed} file(s) failed.")
