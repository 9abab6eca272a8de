"""The builtin registry (frontend.builtins) against the stages that read it and the two that
implement built-ins: the interpreter (user space) and the BPF lowering (probe bodies).

Each built-in must have an implementation wherever the registry says it runs, and neither
implementation may know a built-in the registry lacks. Only compiles: no kernel is needed.
"""

from __future__ import annotations

import pytest

from backend import lower
from frontend import builtins, registration
from frontend.builtins import Builtin, Kind, Runs
from frontend.diagnostics import CompileError, Source
from ir import interp, ops
from ir.checks import NOT_YET_WHY
from kllvm.driver import compile_source

PROBE = "trace syscalls:sys_enter_getpid"
FUNCTIONS = [b for b in builtins.REGISTRY if b.kind is Kind.FUNCTION]
CONTEXTS = [b for b in builtins.REGISTRY if b.kind is Kind.CONTEXT]
IN_USER = [b for b in builtins.REGISTRY if builtins.runs_in_user(b)]


def ids(entries: list[Builtin]) -> list[str]:
    return [b.name for b in entries]


def callee(b: Builtin) -> str:
    """The source that names `b` in a call (`kdebug["trace_end"]`: trace_end is a keyword)."""
    return f'{b.library}["{b.member}"]' if b.library else b.name


def errors(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_source(Source("t.kp", text))
    return info.value.rendered


def test_names_are_unique_and_libraries_match_names() -> None:
    assert len(builtins.BY_NAME) == len(builtins.REGISTRY)
    for b in builtins.REGISTRY:
        assert (b.library is not None) == ("." in b.name), b.name
        assert b.registers_probe <= (b.kind is Kind.FUNCTION), b.name


# ------------------------------------------------------------------ scope and lowering


@pytest.mark.parametrize("entry", FUNCTIONS, ids=ids(FUNCTIONS))
def test_every_function_is_known_to_scope_and_lowering(entry: Builtin) -> None:
    # Never run: compiling resolves the name and lowers the call to a CallBuiltin (a
    # call's value: a registration call as a statement is the probe statement it stands
    # for, tests/frontend/test_registration.py).
    module = compile_source(Source("t.kp", f"if (1 == 2) {{ var r = {callee(entry)}() }}")).module
    called = {op.name for f in module.functions.values() for block in f.blocks
              for op in block.ops if isinstance(op, ops.CallBuiltin)}
    if entry.name != "table.new":  # a direct call makes a table (NewTable)
        assert called == {entry.name}


@pytest.mark.parametrize("name", ["arg", "print", "ansi", "kdebug", "net", "table", "timer"])
def test_globals_are_values(name: str) -> None:
    compile_source(Source("t.kp", f"var f = {name}"))


@pytest.mark.parametrize("entry", CONTEXTS, ids=ids(CONTEXTS))
def test_every_event_variable_is_a_keyword(entry: Builtin) -> None:
    module = compile_source(Source("t.kp", f"if (1 == 2) {{ print({entry.name}) }}")).module
    read = {op.name for f in module.functions.values() for block in f.blocks
            for op in block.ops if isinstance(op, ops.Context)}
    assert read == {entry.name}
    assert "built-in variable" in errors(f"var {entry.name} = 1")


def test_names_outside_the_registry_are_unknown() -> None:
    assert "undefined variable 'printx'" in errors("printx(1)")
    assert "library 'ansi' has no function 'beep'" in errors("ansi.beep()")
    assert builtins.GLOBALS == {b.name for b in builtins.REGISTRY
                                if b.kind is not Kind.CONTEXT and b.library is None} | {
        "ansi", "kdebug", "net", "table", "timer"}


# ------------------------------------------------------------------ implementations


@pytest.mark.parametrize("entry", IN_USER, ids=ids(IN_USER))
def test_user_space_implementation(entry: Builtin) -> None:
    if entry.kind is Kind.CONTEXT:
        assert entry.name in interp.USER_CONTEXT
    else:
        it = interp.Interpreter(compile_source(Source("t.kp", "")).module)
        assert it.builtin_value(entry.name) is not None


@pytest.mark.parametrize("entry", builtins.REGISTRY, ids=ids(list(builtins.REGISTRY)))
def test_kernel_implementation(entry: Builtin) -> None:
    table = lower.CONTEXT_EMITTERS if entry.kind is Kind.CONTEXT else lower.BUILTIN_EMITTERS
    assert (entry.name in table) == builtins.runs_in_kernel(entry)


def test_implementations_know_nothing_the_registry_lacks() -> None:
    functions = {b.name for b in FUNCTIONS}
    assert set(interp._BUILTINS) == functions  # forwarders and refusals included
    assert set(interp.USER_CONTEXT) == {b.name for b in CONTEXTS if builtins.runs_in_user(b)}
    assert set(lower.BUILTIN_EMITTERS) == {b.name for b in FUNCTIONS
                                           if builtins.runs_in_kernel(b)}
    assert set(lower.CONTEXT_EMITTERS) == {b.name for b in CONTEXTS
                                           if builtins.runs_in_kernel(b)}


def test_library_tables_hold_their_members() -> None:
    it = interp.Interpreter(compile_source(Source("t.kp", "")).module)
    ansi = it.builtin_value("ansi")
    assert isinstance(ansi, interp.TableValue)
    members = {key for key, _ in ansi.items()}
    assert members == {m.encode() for m in builtins.LIBRARIES["ansi"]}


# ------------------------------------------------------------------ where built-ins may run


def test_not_yet_compiled_kernel_builtins_are_refused_in_probe_bodies() -> None:
    for entry in FUNCTIONS:
        if entry.runs is Runs.NOT_YET:
            rendered = errors(f"{PROBE} {{ {callee(entry)}() }}")
            why = NOT_YET_WHY.get(entry.name)
            said = " yet" if why is None else f": {why}"
            assert f"error: '{entry.name}' is not available in a probe body{said}\n" in rendered
            assert "hint:" not in rendered


def test_user_builtins_in_a_probe_body_get_a_hint_unless_they_register_probes() -> None:
    for entry in FUNCTIONS:
        if entry.runs is Runs.USER and entry.name != "table.new":
            rendered = errors(f"{PROBE} {{ var r = {callee(entry)}() }}")
            assert f"error: '{entry.name}' is not available in a probe body\n" in rendered
            hinted = "hint: call it in trace_end or a tick body" in rendered
            assert hinted != entry.registers_probe, entry.name


def test_event_only_builtins_are_refused_in_tick_bodies() -> None:
    for entry in builtins.REGISTRY:
        if entry.event_only:
            call = "()" if entry.kind is Kind.FUNCTION else ""
            rendered = errors(f"tick-1s {{ print({entry.name}{call}) }}")
            assert f"error: '{entry.name}{call}' is not available in a tick body" in rendered


def test_registration_functions_are_refused_when_run() -> None:
    for entry in FUNCTIONS:
        if entry.registers_probe:
            it = interp.Interpreter(compile_source(Source("t.kp", "")).module)
            function = it.builtin_value(entry.name)
            assert isinstance(function, interp.BuiltinFunction)
            with pytest.raises(interp.KtapRuntimeError) as info:
                function.call()
            expected = ("registers a probe only when called as a statement: "
                        if entry.name in registration.FUNCTIONS else "is not supported: use trace")
            assert expected in info.value.message
