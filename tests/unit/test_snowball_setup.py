"""`run_steps`: order, first failure, and the step named in the error."""

from __future__ import annotations

import pytest

from s32s.errors import ConfigError, ExitCode, ExternalToolError, S32SError
from s32s.snowball.setup import Step, run_steps


def test_all_steps_run_in_order() -> None:
    ran: list[str] = []
    steps = [Step(name, lambda name=name: ran.append(name) or name.upper()) for name in "abc"]
    assert run_steps(steps) == {"a": "A", "b": "B", "c": "C"}
    assert ran == ["a", "b", "c"]


@pytest.mark.parametrize("kind", [ConfigError, ExternalToolError])
def test_first_failure_stops_and_is_named(kind: type[S32SError]) -> None:
    ran: list[str] = []

    def fail() -> None:
        raise kind("keys.yaml is missing.", "Run unlock first.")

    steps = [
        Step("unlock", lambda: ran.append("unlock")),
        Step("profile", fail),
        Step("configure", lambda: ran.append("configure")),
    ]
    started: list[int] = []
    with pytest.raises(kind) as info:
        run_steps(steps, on_start=lambda number, _step: started.append(number))
    assert info.value.message == (
        "Setup step 2/3 (profile) failed: keys.yaml is missing. Not run: configure."
    )
    assert info.value.hint == "Run unlock first."
    assert info.value.exit_code == ExitCode.USAGE
    assert ran == ["unlock"] and started == [1, 2]
