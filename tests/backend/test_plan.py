"""The planning pass fixes the programs, the probename table and the event formats argstr
needs before lowering; lowering reads no tracefs. No kernel needed."""

from __future__ import annotations

import json

import pytest
from fake_tracefs import FakeTracefs
from test_lower import FORMATS

from backend import tracefs
from backend.argstr import EventDesc
from backend.plan import Plan
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import Source
from kllvm.driver import PASSES, State, compile_script, run

SCRIPT = ("var n = 0\n"
          "trace syscalls:sys_enter_[cd]* { print(argstr); n += 1 }\n"
          "trace sched:sched_switch { printf(\"%d\\n\", pid) }\n")


class CountingTracefs(FakeTracefs):
    """Counts the formats read, by event."""

    def __init__(self) -> None:
        super().__init__(FORMATS)
        self.reads: list[tuple[str, str]] = []

    def read_format(self, system: str, event: str) -> str:
        self.reads.append((system, event))
        return super().read_format(system, event)


def planned(text: str = SCRIPT) -> tuple[State, CountingTracefs]:
    host = CountingTracefs()
    state = run(State(Source("t.kp", text), catalog=TracepointCatalog(host)), "plan")
    return state, host


def test_plan_fixes_programs_names_and_argstr_formats() -> None:
    state, host = planned()
    plan = state.plan
    assert isinstance(plan, Plan)
    assert sorted(plan.names) == ["sched_switch", "sys_enter_close", "sys_enter_dup"]
    assert {s.probe.decl.function for s in plan.programs} == {
        p.function for p in state.typed.probes}
    # Only the probe that reads argstr needs formats, each read once.
    assert set(plan.formats) == {("syscalls", "sys_enter_close"), ("syscalls", "sys_enter_dup")}
    assert all(isinstance(d, EventDesc) for d in plan.formats.values())
    assert sorted(host.reads) == sorted(plan.formats)
    assert state.lowering is None  # nothing lowered yet


def test_plan_reads_no_format_without_argstr() -> None:
    state, _ = planned("trace syscalls:sys_enter_close { print(pid) }\n")
    assert state.plan is not None and state.plan.formats == {}


def test_lowering_reads_no_tracefs(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = compile_script(Source("t.kp", SCRIPT),
                              catalog=TracepointCatalog(FakeTracefs(FORMATS)))
    state, host = planned()
    reads = list(host.reads)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("lowering read tracefs")

    # Neither the catalog nor tracefs itself is readable from here on.
    state.catalog = None
    monkeypatch.setattr(host, "read_format", refuse)
    monkeypatch.setattr(host, "available_events", refuse)
    monkeypatch.setattr(tracefs, "event_format", refuse)
    monkeypatch.setattr(tracefs, "available_events", refuse)
    after = list(PASSES)[[p.name for p in PASSES].index("plan") + 1:]
    assert [p.name for p in after] == ["lower-bpf", "codegen"]
    for step in after:
        step.run(state)
    build = state.build()
    assert host.reads == reads
    assert build.object is not None and build.object == expected.object
    assert json.dumps(build.manifest.to_json()) == json.dumps(expected.manifest.to_json())
    assert set(build.manifest.events) == {"sys_enter_close", "sys_enter_dup"}
