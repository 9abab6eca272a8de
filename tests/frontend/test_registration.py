"""ktap's function-style registration (frontend.registration): each call statement is the
probe statement it stands for, with the handler's body as the probe body."""

from __future__ import annotations

import pytest

from frontend.diagnostics import CompileError, Source
from frontend.eventdef import KprobeSpec, TracepointSpec
from ir import ops
from kllvm.driver import compile_source


def probes(text: str) -> list[ops.ProbeDecl]:
    return compile_source(Source("t.kp", text)).module.probes


def errors(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_source(Source("t.kp", text))
    return info.value.rendered


def test_kprobe_and_kretprobe_are_probe_statements() -> None:
    [entry, ret] = probes('var n = 0\nkdebug.kprobe("SyS_futex", function () { n += 1 })\n'
                          'kdebug.kretprobe("vfs_read", function () { print(pid) })\n')
    assert entry.kind is ops.ProbeKind.TRACE and entry.span.line == 2
    assert entry.eventdef is not None and ret.eventdef is not None
    [spec] = entry.eventdef.specs
    assert isinstance(spec, KprobeSpec)
    assert (spec.symbol_glob, spec.is_return, spec.fetchargs) == ("SyS_futex", False, ())
    [spec] = ret.eventdef.specs
    assert isinstance(spec, KprobeSpec) and (spec.symbol_glob, spec.is_return) == (
        "vfs_read", True)


@pytest.mark.parametrize(("name", "system", "event"), [
    ("sys_enter_getpid", "*", "sys_enter_getpid"),
    ("sched:sched_switch", "sched", "sched_switch"),
])
def test_tracepoint_names_an_event_of_any_system(name: str, system: str, event: str) -> None:
    [probe] = probes(f'kdebug.tracepoint("{name}", function () {{ print(1) }})')
    assert probe.eventdef is not None
    assert probe.eventdef.specs == (TracepointSpec(system, event, probe.eventdef.span),)


def test_timers_and_trace_end() -> None:
    module = compile_source(Source("t.kp", (
        'timer["tick"]("1s", function () { print(1) })\n'
        'timer["profile"]("10us", function () { print(2) })\n'
        'kdebug["trace_end"](function () { print(3) })\n'))).module
    assert [(p.kind, p.interval_ns) for p in module.probes] == [
        (ops.ProbeKind.TICK, 1_000_000_000), (ops.ProbeKind.PROFILE, 10_000)]
    main = module.functions[module.main]
    assert sum(isinstance(op, ops.RegisterTraceEnd) for b in main.blocks for op in b.ops) == 1


def test_the_body_is_compiled_as_a_probe_body() -> None:
    # Probe-only names work, and probe-context rules apply, as in a trace statement.
    probes('kdebug.tracepoint("sys_enter_getpid", function () { print(probename, pid) })')
    assert "cannot create a table in a probe body" in errors(
        'kdebug.tracepoint("sys_enter_getpid", function () { var t = {} })')


@pytest.mark.parametrize(("text", "message"), [
    ('kdebug.kprobe("f")', "1:1: error: 'kdebug.kprobe' takes 2 arguments"),
    ('var f = function () {}\nkdebug.kprobe("x", f)',
     "2:20: error: the handler of 'kdebug.kprobe' must be a function literal"),
    ('kdebug.kprobe("x", function (a) {})', "1:20: error: a probe handler takes no parameters"),
    ('var s = "x"\nkdebug.kprobe(s, function () {})',
     "2:15: error: the first argument of 'kdebug.kprobe' must be a kernel function name"),
    ('kdebug.kprobe("a b", function () {})', "must be a kernel function name"),
    ('kdebug.tracepoint("a{", function () {})', "must be a tracepoint name"),
    ('timer["tick"]("1ns", function () {})', "nanosecond intervals are not supported"),
])
def test_registration_errors(text: str, message: str) -> None:
    assert message in errors(text)


def test_a_shadowed_library_is_an_ordinary_call() -> None:
    assert probes('var kdebug = {}\nkdebug.kprobe("x", function () {})') == []
