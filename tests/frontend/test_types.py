"""Type inference and the probe-context rules (Part A §6, §10), through `compile_source` and
the `kllvm dump --emit=types` text. Probe scripts are only compiled: no kernel is needed.
"""

from __future__ import annotations

import re

import pytest

from frontend.diagnostics import CompileError, Source
from kllvm.driver import compile_source
from kllvm.typesdump import dump_types


def dump(text: str) -> str:
    return dump_types(compile_source(Source("t.kp", text)))


def types(text: str) -> dict[str, str]:
    """`function.variable` → type (functions by the part of their name before '@'), and
    the table's name (the variable it is first stored in, else `table@LINE`) →
    `[key] value (where)` for the table declarations."""
    found: dict[str, str] = {}
    function = "?"
    for line in dump(text).splitlines():
        if m := re.fullmatch(r"table (\S+) @\S+: (.*)", line):
            found[m[1]] = m[2]
        elif m := re.fullmatch(r"global (\S+) @\S+: (.*)", line):
            found[f"global {m[1]}"] = m[2]
        elif m := re.fullmatch(r"function (\S+) \((\w+)\)", line):
            function = m[1].split("@")[0]
            found[f"placement {function}"] = m[2]
        elif m := re.fullmatch(r"  (\S+) @\S+: (.*)", line):
            found[f"{function}.{m[1]}"] = m[2]
        else:
            raise AssertionError(f"unexpected dump line {line!r}")
    return found


def errors(text: str) -> str:
    with pytest.raises(CompileError) as info:
        compile_source(Source("t.kp", text))
    return info.value.rendered


def error_lines(text: str) -> list[str]:
    return [line for line in errors(text).splitlines() if re.match(r"t\.kp:\d+:\d+: ", line)]


# ------------------------------------------------------------------ user-space inference


@pytest.mark.parametrize(
    ("program", "name", "expected"),
    [
        ("var n = 1", "main.n", "int"),
        ("var n = -5 * 3", "main.n", "int"),
        ('var s = "str"', "main.s", "str"),
        ('var s = "a" .. "b"', "main.s", "str"),
        ("var b = true", "main.b", "bool"),
        ("var b = 1 < 2", "main.b", "bool"),
        ("var b = !nil", "main.b", "bool"),
        ("var n = len({})", "main.n", "int"),
        ("var n = gettimeofday_us()", "main.n", "int"),
        ("var n = num_cpus()", "main.n", "int"),
        ("var s = arch()", "main.s", "str"),
        ("var x\nx = 5", "main.x", "int?"),
        ('var x\nif (true) { x = "s" }', "main.x", "str?"),
        ("var z = 1\nz = nil", "main.z", "int?"),
        ("var t = {}\nt[1] = 2\nvar k = t[1]", "main.k", "int?"),
        ("var t = {x = 1}", "main.t", "table#0[str]int"),
        ("var t = {1, 2, 3}", "main.t", "table#0[int]int"),
        ('var t = {[1] = true}', "main.t", "table#0[int]bool"),
        ('var t = table.new(4, 4)\nt[1] = "s"', "main.t", "table#0[int]str"),
        ('var t = {}\nt["a"] += 1', "main.t", "table#0[str]int"),
    ],
)
def test_variable_types(program: str, name: str, expected: str) -> None:
    assert types(program)[name] == expected


def test_a_top_level_var_keeps_its_type_in_every_function() -> None:
    found = types("var n = 1\nvar s = 'x'\nfunction f() { return n }\nprint(f(), s)")
    assert (found["main.n"], found["main.s"]) == ("int", "str")
    assert found["placement main"] == found["placement f"] == "user"


def test_parameter_types_come_from_calls() -> None:
    found = types(
        'function greet(name, times) { return name .. "!" }\n'
        'var g = greet("bob", 3)\n'
    )
    assert found["greet.name"] == "str"
    assert found["greet.times"] == "int"
    assert found["main.g"] == "str"


def test_a_parameter_called_with_two_types_is_dynamic_in_user_space() -> None:
    found = types('function id(v) { return v }\nvar a = id(1)\nvar b = id("s")')
    assert found["id.v"] == "any"
    assert (found["main.a"], found["main.b"]) == ("any", "any")


def test_table_declarations_list_key_and_value_types() -> None:
    found = types('var u = {1, 2}\nvar v = {x = "a"}\nvar w = {}\nw[1] = 1\nw["a"] = print')
    assert found["u"] == "[int] int (user)"
    assert found["v"] == "[str] str (user)"
    assert found["w"] == "[any] any (user)"


def test_a_table_not_stored_in_a_var_is_named_after_its_line() -> None:
    found = types("var x = {{}}\nprint({})\nvar y\ny = {}")
    assert found["x"] == "[int] table#1[nil]nil (user)"
    assert found["table@1"] == "[nil] nil (user)"
    assert found["table@2"] == "[nil] nil (user)"
    assert found["y"] == "[nil] nil (user)"


@pytest.mark.parametrize(
    "program",
    [
        # the keys 0, 1 and "keys" (Part A §6)
        'var t = {}\nt[0] = 1\nt[1] = 2\nt["keys"] = 3\nprint(len(t))',
        # numbers and functions as values
        'var t = {}\nt[0] = 1\nt["f"] = function (x) { return x }\nprint(t.f(t[0]))',
        # a variable that holds a number, then a string
        'var v = 1\nprint(v)\nv = "s"\nprint(v)',
        # a function used with two argument types
        'function show(x) { print(x) }\nshow(1)\nshow("s")\nshow(nil)',
    ],
)
def test_dynamically_typed_user_space_values_are_allowed(program: str) -> None:
    found = types(program)
    assert "any" in " ".join(found.values())


def test_user_space_table_is_not_a_kernel_table() -> None:
    found = types('var t = {}\nt[1] = "a"\ntrace_end { print(t[1]) }')
    assert found["t"] == "[int] str (user)"


def test_short_circuit_operands_keep_their_own_type() -> None:
    found = types('var n = 0\nvar s = n || "yes"')
    assert found["main.n"] == "int"
    assert found["main.s"] == "any"


def test_short_circuit_in_user_space_does_not_conflict_with_a_probe() -> None:
    compile_source(Source("t.kp", "var c = 0\ntrace syscalls:sys_enter_getpid { c += 1 }\n"
                                  'var s = c || "x"\n'))


# ------------------------------------------------------------------ probes: placement, tables


# Declaring a few variables first shifts the variables' ids: with and without it, these once
# showed BUG-1 (a captured variable's register clashing with its load temporary) differently.
PAD = "var d1, d2, d3, d4, d5, d6 = 0, 0, 0, 0, 0, 0\n"


def test_nil_check_idiom_in_a_probe_after_other_variables() -> None:
    found = types(
        PAD + "var self = {}\n"
        "trace syscalls:sys_enter_getpid { self[tid] = gettimeofday_us() }\n"
        "trace syscalls:sys_exit_getpid {\n"
        "    if (self[tid] == nil) { return }\n"
        "    var d = gettimeofday_us() - self[tid]\n"
        "    self[tid] = nil\n"
        "}\n"
    )
    assert found["self"] == "[int] int (kernel)"
    assert found["probe.d"] == "int"
    assert found["placement probe"] == "kernel"


def test_tick_and_trace_end_stay_in_user_space_after_other_variables() -> None:
    found = types(
        PAD + "var t = {}\n"
        "function report() { print_hist(t) }\n"
        "trace syscalls:sys_enter_getpid { t[probename] += 1 }\n"
        "tick-1s { report(); delete(t) }\n"
        "trace_end { report() }\n"
    )
    assert found["placement tick"] == found["placement report"] == "user"
    assert found["placement trace_end"] == "user"
    assert found["t"] == "[str] int (kernel)"


def test_probe_tables_and_globals_get_concrete_types() -> None:
    found = types(
        "var n = 1\n"
        "var t = {}\n"
        "trace syscalls:sys_enter_getpid { t[execname] += n }\n"
        "trace_end { print_hist(t) }\n"
    )
    assert found["t"] == "[str] int (kernel)"
    assert found["global n"] == "int"
    assert found["placement probe"] == "kernel"
    assert found["placement trace_end"] == "user"


def test_tick_bodies_and_functions_called_only_from_user_space_stay_in_user_space() -> None:
    found = types(
        "var t = {}\n"
        "function report() { print_hist(t) }\n"
        "trace syscalls:sys_enter_getpid { t[pid] += 1 }\n"
        "tick-1s { report(); delete(t) }\n"
    )
    assert found["placement tick"] == "user"
    assert found["placement report"] == "user"
    assert found["placement probe"] == "kernel"
    assert found["t"] == "[int] int (kernel)"


def test_functions_called_from_a_probe_are_placed_in_the_kernel() -> None:
    found = types(
        "var s = {}\n"
        "function key(n) { return n * 2 }\n"
        "trace syscalls:sys_enter_getpid { s[key(pid)] += 1 }\n"
    )
    assert found["placement key"] == "kernel"
    assert found["key.n"] == "int"


def test_nil_check_idiom_in_a_probe() -> None:
    found = types(
        "var self = {}\n"
        "trace syscalls:sys_enter_getpid { self[tid] = gettimeofday_us() }\n"
        "trace syscalls:sys_exit_getpid {\n"
        "    if (self[tid] == nil) { return }\n"
        "    var d = gettimeofday_us() - self[tid]\n"
        "    self[tid] = nil\n"
        "}\n"
    )
    assert found["self"] == "[int] int (kernel)"
    assert found["probe.d"] == "int"


# ------------------------------------------------------------------ probe-context errors


PROBE = "trace syscalls:sys_enter_getpid"


def test_table_created_in_a_probe_body() -> None:
    assert errors(f"{PROBE} {{ var t = {{}} }}") == (
        "t.kp:1:43: error: cannot create a table in a probe body\n"
        f"{PROBE} {{ var t = {{}} }}\n"
        "                                          ^~\n"
        "hint: create it at the top level: 'var t = {}'\n"
    )


def test_table_new_in_a_probe_body() -> None:
    (line,) = error_lines(f"{PROBE} {{ var t = table.new(1, 1) }}")
    assert line.startswith("t.kp:1:43: error: ")
    assert "table" in line


def test_function_created_in_a_probe_body() -> None:
    assert error_lines(f"{PROBE} {{ var f = function () {{ return 1 }} }}") == [
        "t.kp:1:43: error: cannot create a function in a probe body"
    ]


def test_function_statement_in_a_probe_body() -> None:
    (line,) = error_lines(f"{PROBE} {{ function g() {{ }} }}")
    assert "cannot create a function in a probe body" in line


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("for (k, v in pairs(t)) { }", "'pairs' is not available in a probe body"),
        ("delete(t)", "'delete' is not available in a probe body"),
        ("print_hist(t)", "'print_hist' is not available in a probe body"),
    ],
)
def test_user_only_builtins_in_a_probe_body(body: str, message: str) -> None:
    text = f"var t = {{}}\n{PROBE} {{ {body} }}\n"
    assert error_lines(text) == [f"t.kp:2:35: error: {message}"]
    assert "hint: " in errors(text)


def test_recursion_reachable_from_a_probe() -> None:
    text = ("function f(n) { if (n < 1) { return 0 } return f(n - 1) }\n"
            f"{PROBE} {{ f(3) }}\n")
    assert error_lines(text) == ["t.kp:1:48: error: recursion is not possible in a probe body"]


def test_indirect_recursion_reachable_from_a_probe() -> None:
    text = ("var h = nil\n"
            "function g(n) { return h(n) }\n"
            "h = function (n) { return g(n) }\n"
            f"{PROBE} {{ g(1) }}\n")
    (line, *_) = error_lines(text)
    assert "error: " in line


def test_recursion_not_reachable_from_a_probe_is_fine() -> None:
    found = types(
        "function fib(n) { if (n < 2) { return n } return fib(n - 1) + fib(n - 2) }\n"
        f"print(fib(5))\n{PROBE} {{ print(1) }}\n"
    )
    assert found["placement fib"] == "user"


def test_type_conflict_on_a_probe_table_is_reported_at_both_places() -> None:
    text = f'var t = {{}}\nt["a"] = 1\n{PROBE} {{ t[1] = 2 }}\n'
    rendered = errors(text)
    lines = [line for line in rendered.splitlines() if line.startswith("t.kp:")]
    assert lines[0].startswith("t.kp:3:35: error: type conflict: 't' is used in a probe body")
    assert "a string" in lines[0] and "a number" in lines[0]
    assert any(line.startswith("t.kp:2:1: note: ") for line in lines[1:])
    assert any(line.startswith("t.kp:3:35: note: used in the probe") for line in lines[1:])


def test_value_type_conflict_on_a_probe_table() -> None:
    text = f'var t = {{}}\nt[1] = "x"\n{PROBE} {{ t[2] = 3 }}\n'
    lines = error_lines(text)
    assert lines[0].startswith("t.kp:3:35: error: type conflict: 't'")
    assert lines[1].startswith("t.kp:2:1: note: ")


def test_type_conflict_on_a_global_used_by_a_probe() -> None:
    text = f'var n = 0\n{PROBE} {{ n += 1 }}\nn = "s"\n'
    lines = error_lines(text)
    assert "type conflict: 'n'" in lines[0]
    assert {line.split(":")[1] for line in lines} >= {"1", "3"} or \
        {line.split(":")[1] for line in lines} >= {"2", "3"}


@pytest.mark.parametrize("builtin", ["probename", "arg1", "argstr"])
def test_tick_body_using_event_builtins(builtin: str) -> None:
    text = f"tick-1s {{ print({builtin}) }}"
    rendered = errors(text)
    assert rendered.startswith(f"t.kp:1:17: error: '{builtin}' is not available in a tick body\n")
    assert "hint: tick bodies run in user space and have no event" in rendered


def test_probe_body_may_use_event_builtins() -> None:
    found = types(f"var s = {{}}\n{PROBE} {{ s[probename] += 1 }}\n")
    assert found["s"] == "[str] int (kernel)"


def test_probe_calling_a_function_value_known_statically() -> None:
    # One function stored in a table: the call is resolved at compile time.
    found = types("var d1, d2, d3, d4, d5 = 0, 0, 0, 0, 0\nvar t = {}\n"
                  f"t.f = function () {{ return 1 }}\n{PROBE} {{ t.f() }}\n")
    assert found["placement anon"] == "kernel"


def test_probe_calling_a_function_value_unknown_at_compile_time() -> None:
    text = ("var d1, d2, d3, d4, d5 = 0, 0, 0, 0, 0\nvar t = {}\n"
            "t.f = function () { return 1 }\nt.g = function () { return 2 }\n"
            f"{PROBE} {{ t.f() }}\n")
    assert error_lines(text) == [
        "t.kp:5:35: error: a probe body can only call functions known at compile time"]


def test_probe_calling_a_function_value_unknown_at_compile_time_plain() -> None:
    text = ("var t = {}\nt.f = function () { return 1 }\nt.g = function () { return 2 }\n"
            f"{PROBE} {{ t.f() }}\n")
    assert error_lines(text) == [
        "t.kp:4:35: error: a probe body can only call functions known at compile time"]


def test_several_probe_errors_in_one_run() -> None:
    text = f"var t = {{}}\n{PROBE} {{ var u = {{}}; delete(t); print_hist(t) }}\n"
    assert len(error_lines(text)) == 3
