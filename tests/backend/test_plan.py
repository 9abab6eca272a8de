"""The planning pass fixes the programs, the probename table and the event formats argstr
needs before lowering; lowering reads no tracefs. No kernel needed."""

from __future__ import annotations

import dataclasses
import json

import pytest
from fake_tracefs import FakeTracefs
from test_lower import FORMATS

from backend import tracefs
from backend.argstr import EventDesc
from backend.plan import Plan
from backend.providers.catalog import TracepointCatalog
from backend.sites import Sites
from frontend.diagnostics import InternalError, Source
from kllvm.driver import PASSES, Pass, State, compile_script, run

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


def passes_from(name: str) -> list[Pass]:
    return list(PASSES)[[p.name for p in PASSES].index(name):]


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
    after = passes_from("lower-bpf")
    assert [p.name for p in after] == ["lower-bpf", "codegen"]
    for step in after:
        step.run(state)
    build = state.build()
    assert host.reads == reads
    assert build.object is not None and build.object == expected.object
    assert json.dumps(build.manifest.to_json()) == json.dumps(expected.manifest.to_json())
    assert set(build.manifest.events) == {"sys_enter_close", "sys_enter_dup"}


FAULTS = ("var n\nvar t = {}\nfunction half(a) { return a / 2 }\n"
          "trace syscalls:sys_enter_close {\n"
          "  var k = t[pid]\n"
          "  if (k > 1) { print(-k, half(k)) }\n"
          "  n += 1\n"
          "  t[k] += 3\n"
          "  printf(\"%d %s\\n\", pid, argstr)\n"
          "}\n"
          "trace syscalls:sys_enter_dup { print(argstr, t[1]) }\n")


def test_plan_numbers_print_sites_and_faults_from_types() -> None:
    state, _ = planned(FAULTS)
    assert state.plan is not None
    sites = state.plan.sites
    for step in passes_from("lower-bpf"):
        step.run(state)
    manifest = state.build().manifest
    # The manifest lists exactly the plan's, in its order: lowering invents none.
    assert manifest.faults == sites.fault_list()
    assert manifest.prints == sites.print_sites()
    errors = state.typed.errors
    # In the IR's block order: the `if` body's block comes after the code that follows it.
    assert [(errors[f.site].span.line, f.message, f.fatal) for f in manifest.faults] == [
        (6, "compare with non-number", True),  # k may be nil
        (7, "use '+=' on non-number", True),  # n starts nil
        (8, "table nil index", True),
        (6, "use '-' operator on non-number", True),
        (3, "Cannot make arith operation", False),  # a may be nil
        (3, "divide 0 arith operation", True),
    ]
    # The argstr record is the same size in both programs: one layout.
    assert [(p.kind, p.format, p.layouts, errors[p.site].span.line)
            for p in manifest.prints] == [
        ("printf", "%d %s\n", ["int", "argstr:16"], 9),
        ("print", "", ["int", "int"], 6),
        ("print", "", ["argstr:16", "opt:int"], 11),
    ]


def test_lowering_makes_no_id_the_plan_lacks() -> None:
    state, _ = planned(FAULTS)
    assert state.plan is not None
    state.plan = dataclasses.replace(state.plan, sites=Sites())
    with pytest.raises(InternalError, match="the plan has no"):
        passes_from("lower-bpf")[0].run(state)
