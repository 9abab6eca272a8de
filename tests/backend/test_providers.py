"""The providers behind one interface: each attach kind has one provider, whose checks
accept what its planner makes; tick timers fire on time. No kernel needed."""

from __future__ import annotations

from fake_tracefs import FakeTracefs

from backend.manifest import AttachKind
from backend.providers.catalog import TracepointCatalog
from backend.providers.registry import ATTACHERS
from backend.providers.tick import Timers
from frontend.diagnostics import Source, Span
from ir import ops
from ir.values import Closure
from kllvm.driver import compile_script

HEADER = """\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""
PID = "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;"
FORMATS = {
    ("sched", "sched_switch"): f"name: x\nID: 1\nformat:\n{HEADER}\n{PID}\n\nprint fmt: \"\"\n",
}
SCRIPT = """var n = 0
trace sched:sched_switch { n += arg0 }
trace sched:sched_switch { n += 1 }
profile-1s { n += 1 }
trace probe:/bin/true:main { n += 1 }
trace probe:/bin/true:main%return { n += 1 }
trace probe:do_sys_open { n += 1 }
"""


def test_every_attach_kind_is_checked_and_attached_by_the_provider_that_plans_it() -> None:
    build = compile_script(Source("t.kp", SCRIPT),
                           catalog=TracepointCatalog(FakeTracefs(FORMATS)))
    assert build.object is not None
    seen = set()
    for program in build.manifest.programs:
        section = _section(build.object, program.name)
        for point in program.attach:
            attacher = ATTACHERS[point.kind]
            assert point.kind in attacher.attach_kinds
            assert section.startswith(attacher.sections(point.kind)), (section, point)
            assert attacher.target_problem(point) is None, point
            seen.add(point.kind)
    assert seen == set(AttachKind)


def _section(obj: bytes, program: str) -> str:
    from backend.loader import BPFObject
    with BPFObject.open(obj, "t") as opened:
        return next(p.section for p in opened.programs() if p.name == program)


def test_tick_timers_fire_every_interval_from_the_start() -> None:
    span = Span(1, 1, 1, 2)
    fast, slow = Closure("a", ()), Closure("b", ())
    probes = [(ops.ProbeDecl(0, ops.ProbeKind.TICK, span, "a", None, 10**9), fast),
              (ops.ProbeDecl(1, ops.ProbeKind.TICK, span, "b", None, 3 * 10**9), slow)]
    timers = Timers(probes, start=100.0)
    assert timers.timeout_ms(100.0, 5000) == 1000
    assert timers.timeout_ms(100.0, 100) == 100
    assert list(timers.due(100.5)) == []
    assert list(timers.due(101.0)) == [fast]
    assert timers.timeout_ms(101.0, 5000) == 1000  # next at 102
    assert list(timers.due(103.0)) == [fast, slow]
    assert not Timers([], start=0.0)
