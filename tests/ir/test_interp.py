"""The reference interpreter, op by op, on IR built by hand (ir_testkit)."""

from __future__ import annotations

import io
import os
import threading
import time
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ir_testkit import Fn, Prog, make_env, output

from frontend.diagnostics import Span
from ir import ops
from ir.interp import RuntimeEnv
from ir.semantics import LOOP_LIMIT, MAX_CALL_DEPTH
from ir.values import (
    DEFAULT_TABLE_CAPACITY,
    BuiltinFunction,
    Cell,
    Closure,
    ExitRequest,
    KtapRuntimeError,
    KtapTable,
    StackValue,
    TableValue,
    wrap_int64,
)

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)
int64s = st.integers(INT64_MIN, INT64_MAX)
SPAN = Span(1, 1, 1, 2)


def one_op(build: object, *args: object) -> object:
    """Runs a function `f(p0, p1, ...)` whose body `build(fn)` returns the result value."""
    prog = Prog()
    f = prog.fn("f", params=len(args))
    f.ret(build(f))  # type: ignore[operator]
    return prog.run("f", *args)


def fails(
    prog: Prog,
    name: str,
    *args: object,
    message: str,
    fatal: bool = True,
    env: RuntimeEnv | None = None,
    site: int | None = None,
) -> KtapRuntimeError:
    """Runs `name` expecting a ktap error at error site `site` (default: the last one)."""
    expected = prog.last_site if site is None else prog.module.errors[site]
    with pytest.raises(KtapRuntimeError) as caught:
        prog.run(name, *args, env=env)
    error = caught.value
    assert error.message == message
    assert error.fatal is fatal
    assert error.span == expected.span
    return error


def fails_at(build: object, *args: object, message: str, fatal: bool = True) -> KtapRuntimeError:
    prog = Prog()
    f = prog.fn("f", params=len(args))
    f.ret(build(f))  # type: ignore[operator]
    return fails(prog, "f", *args, message=message, fatal=fatal)


# ------------------------------------------------------------------ arithmetic


def c_reference(op: str, a: int, b: int) -> int:
    """C's int64 arithmetic, computed independently of the interpreter's helpers."""
    match op:
        case "+":
            return wrap_int64(a + b)
        case "-":
            return wrap_int64(a - b)
        case "*":
            return wrap_int64(a * b)
        case "/":
            return wrap_int64(int(Fraction(a, b)))  # int() of a Fraction truncates
        case "%":
            return wrap_int64(a - b * int(Fraction(a, b)))
    raise AssertionError(op)


@given(st.sampled_from("+-*/%"), int64s, int64s)
def test_arith_matches_c_int64(op: str, a: int, b: int) -> None:
    if op in "/%" and b == 0:
        b = 1
    assert one_op(lambda f: f.arith(op, f.params[0], f.params[1]), a, b) == c_reference(op, a, b)


@pytest.mark.parametrize(
    ("op", "a", "b", "result"),
    [
        ("/", 7, 2, 3),
        ("/", -7, 2, -3),
        ("/", 7, -2, -3),
        ("/", 4, 5, 0),
        ("%", -7, 2, -1),
        ("%", 7, -2, 1),
        ("/", INT64_MIN, -1, INT64_MIN),
        ("%", INT64_MIN, -1, 0),
        ("+", INT64_MAX, 1, INT64_MIN),
        ("-", INT64_MIN, 1, INT64_MAX),
        ("*", INT64_MAX, 2, -2),
    ],
)
def test_arith_edge_cases(op: str, a: int, b: int, result: int) -> None:
    assert one_op(lambda f: f.arith(op, f.params[0], f.params[1]), a, b) == result


def test_arith_with_constant_operands() -> None:
    assert one_op(lambda f: f.arith("-", f.params[0], -3), 4) == 7
    assert one_op(lambda f: f.arith("+", INT64_MAX, f.params[0]), 1) == INT64_MIN


@pytest.mark.parametrize(
    ("op", "message"), [("/", "divide 0 arith operation"), ("%", "mod 0 arith operation")]
)
def test_division_by_zero_is_fatal_at_its_site(op: str, message: str) -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    f.arith("+", 1, 2)  # an earlier site, to check the span is the failing op's
    f.ret(f.arith(op, 10, f.params[0]))
    error = fails(prog, "f", 0, message=message)
    assert error.span is not None and error.span.line == 2


@pytest.mark.parametrize("op", list("+-*/%"))
@pytest.mark.parametrize("operand", [None, b"1", True])
def test_arith_on_non_number_is_not_fatal(op: str, operand: object) -> None:
    fails_at(
        lambda f: f.arith(op, f.params[0], 1),
        operand,
        message="Cannot make arith operation",
        fatal=False,
    )
    fails_at(
        lambda f: f.arith(op, 1, f.params[0]),
        operand,
        message="Cannot make arith operation",
        fatal=False,
    )


def test_division_of_nil_by_zero_is_an_arith_error() -> None:
    fails_at(
        lambda f: f.arith("/", f.params[0], 0),
        None,
        message="Cannot make arith operation",
        fatal=False,
    )


def test_negate() -> None:
    assert one_op(lambda f: f.negate(f.params[0]), 5) == -5
    assert one_op(lambda f: f.negate(f.params[0]), INT64_MIN) == INT64_MIN
    fails_at(lambda f: f.negate(f.params[0]), None, message="use '-' operator on non-number")
    fails_at(lambda f: f.negate(f.params[0]), b"x", message="use '-' operator on non-number")


def test_concat() -> None:
    assert one_op(lambda f: f.concat(f.params[0], "b"), b"a") == b"ab"
    fails_at(lambda f: f.concat(f.params[0], "b"), 1, message="cannot concat non-string")
    fails_at(lambda f: f.concat("a", f.params[0]), None, message="cannot concat non-string")


# ------------------------------------------------------------------ comparison and truth


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1, True),
        (True, 1, False),
        (1, True, False),
        (False, 0, False),
        (True, True, True),
        (None, None, True),
        (1, None, False),
        (b"1", 1, False),
        (b"ab", bytes(bytearray(b"ab")), True),
        (0, b"", False),
    ],
)
def test_equality_is_same_type_and_value(a: object, b: object, equal: bool) -> None:
    # Register against register, then register against a constant of the same value.
    assert one_op(lambda f: f.compare("==", f.params[0], f.params[1]), a, b) is equal
    assert one_op(lambda f: f.compare("!=", f.params[0], f.params[1]), a, b) is not equal
    assert one_op(lambda f: f.compare("==", f.params[0], b), a) is equal
    assert one_op(lambda f: f.compare("==", a, f.params[0]), b) is equal
    assert one_op(lambda f: f.compare("!=", a, b)) is not equal


def test_tables_and_functions_compare_by_identity() -> None:
    t1, t2 = TableValue(), TableValue()
    eq = lambda f: f.compare("==", f.params[0], f.params[1])  # noqa: E731
    assert one_op(eq, t1, t1) is True
    assert one_op(eq, t1, t2) is False
    c = Closure("f", ())
    assert one_op(eq, c, c) is True
    assert one_op(eq, c, Closure("f", ())) is False


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_ordered_comparison(op: str) -> None:
    for a, b in [(1, 2), (2, 1), (2, 2), (-5, 3)]:
        expected = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        assert one_op(lambda f: f.compare(op, f.params[0], f.params[1]), a, b) is expected
    for bad in (b"a", None, True):
        fails_at(lambda f: f.compare(op, f.params[0], 1), bad, message="compare with non-number")
        fails_at(lambda f: f.compare(op, 1, f.params[0]), bad, message="compare with non-number")


@pytest.mark.parametrize(
    ("v", "truthy"), [(None, False), (False, False), (True, True), (0, True), (b"", True)]
)
def test_lua_truthiness(v: object, truthy: bool) -> None:
    assert one_op(lambda f: f.not_(f.params[0]), v) is (not truthy)

    def branch(f: Fn) -> ops.Value:
        _, other = f.if_(f.params[0])
        f.ret("yes")
        f.at(other)
        return f.move("no")

    assert one_op(branch, v) == (b"yes" if truthy else b"no")


def test_branch_on_constant_and_backward_jump() -> None:
    # i = 0; while (i < 10) i += 1; return i
    prog = Prog()
    f = prog.fn("f")
    i = f.move(0)
    head, body, done = f.block("head"), f.block("body"), f.block("done")
    f.jump(head)
    f.at(head)
    f.branch(f.compare("<", i, 10), body, done)
    f.at(body)
    f.arith("+", i, 1, dest=i)
    f.jump(head)
    f.at(done)
    f.branch(True, f.block("t"), f.block("f"))
    f.at(f.function.blocks[-2])
    f.ret(i)
    f.at(f.function.blocks[-1])
    f.ret(-1)
    assert prog.run("f") == 10


@settings(max_examples=30)
@given(st.permutations(range(40)))
def test_jumps_between_many_blocks(order: list[int]) -> None:
    """Blocks visited in any order, by forward and backward jumps, across arm groups."""
    prog = Prog()
    f = prog.fn("f")
    trail = f.new_table()
    blocks = [f.block() for _ in order]
    f.jump(blocks[order[0]])
    for position, index in enumerate(order):
        f.at(blocks[index])
        f.set(trail, position, index)
        if position + 1 < len(order):
            f.jump(blocks[order[position + 1]])
        else:
            f.ret(trail)
    table = prog.run("f")
    assert isinstance(table, TableValue)
    assert [table.get(i) for i in range(len(order))] == order


# ------------------------------------------------------------------ cells and closures


def test_closure_captures_cells_by_reference() -> None:
    prog = Prog()
    g = prog.fn("g", cells=1)
    g.ret(g.load_cell(g.cells[0]))
    f = prog.fn("f")
    cell = f.make_cell(1)
    closure = f.closure("g", cell)
    f.store_cell(cell, 2)  # assigned after the closure was made: the closure sees it
    f.ret(f.call(closure))
    assert prog.run("f") == 2


def test_closure_writes_are_seen_by_the_creator() -> None:
    prog = Prog()
    g = prog.fn("g", cells=1)
    g.add_cell(g.cells[0], 5)
    g.ret(bare=True)
    f = prog.fn("f")
    cell = f.make_cell(1)
    closure = f.closure("g", cell)
    f.call(closure)
    f.call(closure)
    f.ret(f.load_cell(cell))
    assert prog.run("f") == 11


def test_add_cell_wraps_and_checks_numbers() -> None:
    prog = Prog()
    f = prog.fn("f", params=2)
    cell = f.make_cell(f.params[0])
    f.add_cell(cell, f.params[1])
    f.ret(f.load_cell(cell))
    assert prog.run("f", INT64_MAX, 1) == INT64_MIN
    fails(prog, "f", None, 1, message="use '+=' on non-number")
    fails(prog, "f", 1, b"x", message="use '+=' on non-number")


def test_make_cell_goes_through_the_env() -> None:
    made: list[tuple[str | None, object]] = []

    class Env(RuntimeEnv):
        def make_cell(self, global_name: str | None, initial: object) -> Cell:
            made.append((global_name, initial))
            return Cell(initial)

    prog = Prog()
    f = prog.fn("f")
    f.make_cell(7, "count")
    f.make_cell(None)
    f.ret(bare=True)
    prog.run("f", env=Env(out=io.BytesIO()))
    assert made == [("count", 7), (None, None)]


# ------------------------------------------------------------------ tables


def test_table_get_set_delete() -> None:
    prog = Prog()
    f = prog.fn("f")
    t = f.new_table()
    missing = f.get(t, "k")
    f.set(t, "k", 1)
    f.set(t, 1, "one")
    f.set(t, True, "true")
    present = f.get(t, "k")
    f.set(t, "k", None)
    deleted = f.get(t, "k")
    result = f.new_table()
    for index, reg in enumerate(
        [missing, present, deleted, f.get(t, 1), f.get(t, True), f.builtin("len", t)]
    ):
        f.set(result, index, reg)
    f.ret(result)
    table = prog.run("f")
    assert isinstance(table, TableValue)
    assert [table.get(i) for i in range(6)] == [None, 1, None, b"one", b"true", 2]


@pytest.mark.parametrize("kind", ["get", "set", "add"])
def test_nil_key_is_fatal(kind: str) -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    t = f.new_table()
    match kind:
        case "get":
            f.get(t, f.params[0])
        case "set":
            f.set(t, f.params[0], 1)
        case "add":
            f.add(t, f.params[0], 1)
    f.ret(bare=True)
    fails(prog, "f", None, message="table nil index")


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("get", "get key from non-table value (number)"),
        ("set", "set key to non-table value (number)"),
        ("add", "set key to non-table value (number)"),
        ("pairs", "pairs on non-table value (number)"),
    ],
)
def test_indexing_a_non_table_is_fatal(kind: str, message: str) -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    match kind:
        case "get":
            f.get(f.params[0], 1)
        case "set":
            f.set(f.params[0], 1, 1)
        case "add":
            f.add(f.params[0], 1, 1)
        case "pairs":
            f.pairs_iter(f.params[0])
    f.ret(bare=True)
    fails(prog, "f", 5, message=message)


def test_table_add() -> None:
    prog = Prog()
    f = prog.fn("f", params=2)
    t = f.params[0]
    f.add(t, "n", f.params[1])
    f.add(t, "n", f.params[1])
    f.ret(f.get(t, "n"))
    assert prog.run("f", TableValue(), 3) == 6
    assert prog.run("f", TableValue(entries={b"n": INT64_MAX}), 1) == INT64_MIN + 1
    fails(
        prog,
        "f",
        TableValue(entries={b"n": b"x"}),
        1,
        message="use '+=' operator on non-number value",
        site=0,
    )
    fails(prog, "f", TableValue(), None, message="use '+=' on non-number", site=0)


def test_table_capacity_drops_and_counts_updates() -> None:
    prog = Prog()
    f = prog.fn("f")
    t = f.new_table(2, 1)
    for key in range(5):
        f.set(t, key, key)  # keys 3 and 4 do not fit
    f.add(t, 9, 1)  # neither does a new key through +=
    f.add(t, 0, 10)  # existing keys still update
    f.set(t, 1, "x")
    f.ret(t)
    table = prog.run("f")
    assert isinstance(table, TableValue)
    assert table.capacity == 3
    assert dict(table.items()) == {0: 10, 1: b"x", 2: 2}
    assert table.dropped_updates == 3


@pytest.mark.parametrize(("narr", "nrec", "capacity"), [
    (None, None, DEFAULT_TABLE_CAPACITY),
    (0, 0, DEFAULT_TABLE_CAPACITY),
    (0, 2000, 2000),
    (9999, 0, 9999),
    (5, None, 5),
])  # fmt: skip
def test_new_table_capacity(narr: int | None, nrec: int | None, capacity: int) -> None:
    table = one_op(lambda f: f.new_table(narr, nrec))
    assert isinstance(table, TableValue)
    assert table.capacity == capacity


def test_new_table_goes_through_the_env_with_its_decl() -> None:
    made: list[tuple[str, int]] = []

    class Env(RuntimeEnv):
        def make_table(self, decl: ops.TableDecl, capacity: int) -> KtapTable:
            made.append((decl.name, capacity))
            return TableValue(capacity)

    prog = Prog()
    f = prog.fn("f")
    f.new_table(10, 0, name="counts")
    f.ret(bare=True)
    prog.run("f", env=Env(out=io.BytesIO()))
    assert made == [("counts", 10)]


def test_new_table_with_non_number_size_is_fatal() -> None:
    fails_at(lambda f: f.new_table(f.params[0], 0), b"10", message="wrong type of argument 1")
    fails_at(lambda f: f.new_table(0, f.params[0]), True, message="wrong type of argument 2")


def pairs_loop(f: Fn, table: ops.Value, each: object) -> None:
    """for (k, v in pairs(table)) each(f, k, v)"""
    iterator = f.pairs_iter(table)
    head, body, done = f.block("head"), f.block("body"), f.block("done")
    f.jump(head)
    f.at(head)
    f.loop_tick()
    key, val = f.pairs_next(iterator)
    f.branch(f.compare("==", key, None), done, body)
    f.at(body)
    each(f, key, val)  # type: ignore[operator]
    f.jump(head)
    f.at(done)


def test_pairs_iterates_a_snapshot() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    t = f.params[0]
    seen = f.new_table()

    def each(f: Fn, key: ops.Register, val: ops.Register) -> None:
        f.set(seen, key, val)
        f.set(t, key, None)  # deleting and adding while walking does not disturb the walk
        f.set(t, f.arith("+", key, 100), val)

    pairs_loop(f, t, each)
    f.ret(seen)
    table = TableValue(entries={1: b"a", 2: b"b", 3: b"c"})
    seen_table = prog.run("f", table)
    assert isinstance(seen_table, TableValue)
    assert dict(seen_table.items()) == {1: b"a", 2: b"b", 3: b"c"}
    assert dict(table.items()) == {101: b"a", 102: b"b", 103: b"c"}


def test_pairs_gives_booleans_back_as_booleans() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    out = f.new_table()
    pairs_loop(f, f.params[0], lambda f, k, v: f.set(out, v, k))
    f.ret(out)
    table = TableValue()
    table.set(True, b"t")
    table.set(1, b"one")
    result = prog.run("f", table)
    assert isinstance(result, TableValue)
    assert result.get(b"t") is True
    assert result.get(b"one") == 1


def test_check_number() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    f.check_number(f.params[0])
    f.ret(1)
    assert prog.run("f", 0) == 1
    for bad in (None, b"1", True):
        fails(prog, "f", bad, message="'for' init/limit/step value must be a number")


# ------------------------------------------------------------------ calls


def test_missing_arguments_are_nil_and_extra_ones_dropped() -> None:
    prog = Prog()
    g = prog.fn("g", params=2)
    pair = g.new_table()
    g.set(pair, 1, g.params[0])
    g.set(pair, 2, g.params[1])
    g.ret(pair)
    f = prog.fn("f")
    few = f.call(f.closure("g"), 1)
    many = f.call(f.closure("g"), 1, 2, 3, 4)
    result = f.new_table()
    f.set(result, 1, few)
    f.set(result, 2, many)
    f.ret(result)
    result_table = prog.run("f")
    assert isinstance(result_table, TableValue)
    few_t, many_t = result_table.get(1), result_table.get(2)
    assert isinstance(few_t, TableValue) and isinstance(many_t, TableValue)
    assert dict(few_t.items()) == {1: 1}
    assert dict(many_t.items()) == {1: 1, 2: 2}


def test_return_without_value_is_nil() -> None:
    prog = Prog()
    g = prog.fn("g")
    g.ret(bare=True)
    f = prog.fn("f")
    f.ret(f.call(f.closure("g")))
    assert prog.run("f") is None


@pytest.mark.parametrize("callee", [None, 1, b"print", TableValue(), True])
def test_calling_a_non_function_is_fatal(callee: object) -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    f.ret(f.call(f.params[0]))
    fails(prog, "f", callee, message="attempt to call nil function")


def fib_program() -> Prog:
    prog = Prog()
    f = prog.fn("fib", params=1)
    n = f.params[0]
    _, other = f.if_(f.compare("<", n, 2))
    f.ret(n)
    f.at(other)
    me = f.closure("fib")
    a = f.call(me, f.arith("-", n, 1))
    b = f.call(me, f.arith("-", n, 2))
    f.ret(f.arith("+", a, b))
    return prog


def test_recursion() -> None:
    assert fib_program().run("fib", 20) == 6765


def test_recursion_limit() -> None:
    # depth(n) = n == 0 ? 0 : 1 + depth(n - 1): the entry frame plus n nested calls.
    prog = Prog()
    f = prog.fn("depth", params=1)
    n = f.params[0]
    _, other = f.if_(f.compare("==", n, 0))
    f.ret(0)
    f.at(other)
    f.ret(f.arith("+", 1, f.call(f.closure("depth"), f.arith("-", n, 1))))
    assert prog.run("depth", MAX_CALL_DEPTH - 1) == MAX_CALL_DEPTH - 1
    with pytest.raises(KtapRuntimeError) as caught:
        prog.run("depth", MAX_CALL_DEPTH)
    assert caught.value.message == "stack overflow"
    assert caught.value.fatal
    call_site = next(s for s in prog.module.errors if s.message == "call")
    assert caught.value.span == call_site.span


def test_first_class_builtin_via_call() -> None:
    prog = Prog()
    f = prog.fn("f")
    p = f.load_builtin("print")
    f.call(p, "hi", 1)
    f.ret(f.compare("==", p, f.load_builtin("print")))
    env = make_env()
    assert prog.run("f", env=env) is True
    assert output(env) == b"hi\t1\n"


def test_first_class_builtin_errors_carry_the_call_site() -> None:
    prog = Prog()
    f = prog.fn("f")
    f.ret(f.call(f.load_builtin("len"), 5))
    fails(prog, "f", message="cannot get length of type number", fatal=False)


def test_interpreter_call_of_builtin_and_non_function() -> None:
    it = Prog().interpreter()
    assert it.call(it.builtin_value("len"), [b"abc"]) == 3
    with pytest.raises(KtapRuntimeError, match="attempt to call nil function"):
        it.call(None)


# ------------------------------------------------------------------ loop budget


def counting_loop(f: Fn, counter: ops.Register, iterations: object = None) -> None:
    """while (iterations == nil or counter < iterations) { tick; counter += 1 }"""
    head, body, done = f.block("head"), f.block("body"), f.block("done")
    f.jump(head)
    f.at(head)
    if iterations is None:
        f.jump(body)
    else:
        f.branch(f.compare("<", f.load_cell(counter), iterations), body, done)
    f.at(body)
    f.loop_tick()
    f.add_cell(counter, 1)
    f.jump(head)
    f.at(done)


def test_loop_budget() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    counter = f.make_cell(0)
    cell_box = f.params[0]
    f.set(cell_box, "cell", f.closure("read", counter))
    counting_loop(f, counter)
    f.ret(bare=True)
    read = prog.fn("read", cells=1)
    read.ret(read.load_cell(read.cells[0]))
    box = TableValue()
    site = next(s for s in prog.module.errors if s.message == "loop")
    it = prog.interpreter()
    with pytest.raises(KtapRuntimeError) as caught:
        it.call(Closure("f", ()), [box])
    assert caught.value.message == "loop execute count exceed max limit(100000)"
    assert caught.value.fatal and caught.value.span == site.span
    assert it.call(box.get(b"cell")) == LOOP_LIMIT


def test_loop_budget_is_shared_by_nested_calls_and_reset_per_invocation() -> None:
    prog = Prog()
    g = prog.fn("g")
    counter = g.make_cell(0)
    counting_loop(g, counter, 60_000)
    g.ret(bare=True)
    once = prog.fn("once")
    once.call(once.closure("g"))
    once.ret(bare=True)
    twice = prog.fn("twice")
    twice.call(twice.closure("g"))
    twice.call(twice.closure("g"))
    twice.ret(bare=True)
    it = prog.interpreter()
    it.call(Closure("once", ()))
    it.call(Closure("once", ()))  # a fresh invocation has a fresh budget
    with pytest.raises(KtapRuntimeError, match="loop execute count"):
        it.call(Closure("twice", ()))


# ------------------------------------------------------------------ built-ins


def run_output(build: object, env: RuntimeEnv | None = None) -> bytes:
    env = env or make_env()
    prog = Prog()
    f = prog.fn("f")
    build(f)  # type: ignore[operator]
    f.ret(bare=True)
    prog.run("f", env=env)
    return output(env)


def test_print_and_printf() -> None:
    def build(f: Fn) -> None:
        f.builtin("print", "a", 1, None, True)
        f.builtin("print")
        f.builtin("printf", "%d-%s|%5s\n", 42, "x", "ab")

    assert run_output(build) == b"a\t1\tnil\ttrue\n\n42-x|   ab\n"


def test_printf_errors_carry_the_call_site() -> None:
    fails_at(lambda f: f.builtin("printf", f.params[0]), 1, message="wrong type of argument 1")
    fails_at(
        lambda f: f.builtin("printf", "%s", f.params[0]), 1, message="wrong type of argument 2"
    )


def test_print_hist() -> None:
    table = TableValue()
    for key, count in [(b"read", 600), (b"write", 300), (b"futex", 100)]:
        table.set(key, count)
    env = make_env()
    prog = Prog()
    f = prog.fn("f", params=1)
    f.builtin("print_hist", f.params[0], 2)
    f.ret(bare=True)
    prog.run("f", table, env=env)
    lines = output(env).splitlines()
    assert len(lines) == 4  # header, two rows, "..."
    assert lines[1].strip().startswith(b"read |@")
    assert lines[3].strip() == b"... |"
    table.set(b"bad", b"x")
    fails(prog, "f", table, message="print_hist only can print number")
    fails(prog, "f", 1, message="wrong type of argument 1")


def test_len() -> None:
    table = TableValue(entries={0: 1, 1: 2, b"keys": 3})
    assert one_op(lambda f: f.builtin("len", f.params[0]), table) == 3
    assert one_op(lambda f: f.builtin("len", f.params[0]), b"hello") == 5

    def deleted(f: Fn) -> ops.Register:
        t = f.new_table()
        f.set(t, 1, 1)
        f.set(t, 2, 2)
        f.set(t, 1, None)
        return f.builtin("len", t)

    assert one_op(deleted) == 1
    for bad, name in [(1, "number"), (None, "nil"), (True, "boolean")]:
        fails_at(
            lambda f: f.builtin("len", f.params[0]),
            bad,
            message=f"cannot get length of type {name}",
            fatal=False,
        )


def test_delete_clears_the_table() -> None:
    table = TableValue(entries={1: 1, 2: 2})
    assert one_op(lambda f: f.builtin("delete", f.params[0]), table) is None
    assert len(table) == 0
    fails_at(lambda f: f.builtin("delete", f.params[0]), 1, message="wrong type of argument 1")


def test_exit_stops_the_invocation() -> None:
    prog = Prog()
    f = prog.fn("f")
    f.builtin("exit")
    f.builtin("print", "not reached")
    f.ret(bare=True)
    env = make_env()
    with pytest.raises(ExitRequest):
        prog.run("f", env=env)
    assert output(env) == b""


def test_system_builtins() -> None:
    before = time.time_ns()
    assert one_op(lambda f: f.builtin("num_cpus")) == os.sysconf("SC_NPROCESSORS_ONLN")
    assert one_op(lambda f: f.builtin("arch")) == os.uname().machine.encode()
    assert one_op(lambda f: f.builtin("kernel_v")) == os.uname().release.encode()
    ns = one_op(lambda f: f.builtin("gettimeofday_ns"))
    assert isinstance(ns, int) and before <= ns <= time.time_ns()
    seconds = one_op(lambda f: f.builtin("gettimeofday_s"))
    assert seconds in (before // 10**9, before // 10**9 + 1)
    ms = one_op(lambda f: f.builtin("gettimeofday_ms"))
    assert isinstance(ms, int) and len(str(ms)) == 13


def test_ansi_builtins_and_library_table() -> None:
    def build(f: Fn) -> None:
        f.builtin("ansi.clear_screen")
        f.builtin("ansi.set_color", 31)
        f.builtin("ansi.set_color3", 1, 2, 0)
        f.builtin("ansi.reset_color")
        f.builtin("ansi.new_line")
        f.call(f.get(f.load_builtin("ansi"), "set_color2"), 1, 2)

    assert run_output(build) == b"\033[1;1H\033[J\033[31m\033[1;2m\033[0;0m\n\033[1;2m"
    fails_at(lambda f: f.builtin("ansi.set_color", "red"), message="wrong type of argument 1")


def test_kernel_only_builtins() -> None:
    fails_at(lambda f: f.builtin("stack"), message="'stack' is only available in probes")

    class Env(RuntimeEnv):
        def kernel_builtin(self, name: str, args: object) -> object:
            return StackValue(("a+0x1/0x10",))

    prog = Prog()
    f = prog.fn("f")
    t = f.new_table()
    f.add(t, f.builtin("stack"), 1)
    f.add(t, f.builtin("stack"), 1)
    f.ret(t)
    table = prog.run("f", env=Env(out=io.BytesIO()))
    assert isinstance(table, TableValue)
    assert dict(table.items()) == {StackValue(("a+0x1/0x10",)): 2}


def test_arg_table() -> None:
    env = make_env(script="x.kp", argv=["42", "-7", "abc", "1.5", "99999999999999999999"])
    prog = Prog()
    f = prog.fn("f")
    f.ret(f.load_builtin("arg"))
    table = prog.run("f", env=env)
    assert isinstance(table, TableValue)
    assert [table.get(i) for i in range(6)] == [
        b"x.kp",
        42,
        -7,
        b"abc",
        b"1.5",
        b"99999999999999999999",
    ]


def test_library_table_members_are_builtins() -> None:
    table = one_op(lambda f: f.load_builtin("table"))
    assert isinstance(table, TableValue)
    new = table.get(b"new")
    assert isinstance(new, BuiltinFunction)
    made = new.call(3, 4)
    assert isinstance(made, TableValue) and made.capacity == 7


def test_unknown_builtin_global_fails_at_run_time() -> None:
    prog = Prog()
    f = prog.fn("f")
    f.load_builtin("nosuch")
    f.ret(bare=True)
    with pytest.raises(KtapRuntimeError, match="undefined global variable 'nosuch'"):
        prog.run("f")


# ------------------------------------------------------------------ event context and registration


def test_user_space_context() -> None:
    assert one_op(lambda f: f.context("pid")) == os.getpid()
    assert one_op(lambda f: f.context("tid")) == threading.get_native_id()
    assert one_op(lambda f: f.context("uid")) == os.getuid()
    cpu = one_op(lambda f: f.context("cpu"))
    assert isinstance(cpu, int) and 0 <= cpu < os.cpu_count()  # type: ignore[operator]
    execname = one_op(lambda f: f.context("execname"))
    assert isinstance(execname, bytes) and 0 < len(execname) <= 15
    for name in ("argstr", "probename", "arg1"):
        fails_at(lambda f, name=name: f.context(name), message="invalid event context")


def test_context_from_a_test_env() -> None:
    class Env(RuntimeEnv):
        def context(self, name: str) -> object:
            return {"probename": b"sys_enter_read", "arg1": 3}[name]

    prog = Prog()
    f = prog.fn("f")
    f.ret(f.concat(f.context("probename"), "!"))
    assert prog.run("f", env=Env(out=io.BytesIO())) == b"sys_enter_read!"


def test_register_probe_and_trace_end() -> None:
    prog = Prog()
    prog.module.probes.append(ops.ProbeDecl(0, ops.ProbeKind.TICK, SPAN, "body", None, 10**9))
    body = prog.fn("body")
    body.builtin("print", "tick")
    body.ret(bare=True)
    end1, end2 = prog.fn("end1"), prog.fn("end2")
    end1.ret(1)
    end2.ret(2)
    main = prog.fn("main")
    main.emit(ops.RegisterProbe(SPAN, 0, main.closure("body")))
    main.emit(ops.RegisterTraceEnd(SPAN, main.closure("end1")))
    main.emit(ops.RegisterTraceEnd(SPAN, main.closure("end2")))
    main.ret(bare=True)
    env = make_env()
    it = prog.interpreter(env)
    it.run_main()
    assert [(d.id, c.function_name) for d, c in env.probes] == [(0, "body")]
    assert env.trace_end is not None and it.call(env.trace_end) == 2  # the last one wins
    it.call(env.probes[0][1])
    assert output(env) == b"tick\n"


def test_fail_terminator_uses_its_site_message() -> None:
    prog = Prog()
    f = prog.fn("f")
    f.fail("'for' init/limit/step value must be a number")
    fails(prog, "f", message="'for' init/limit/step value must be a number")


def test_non_fatal_error_leaves_the_interpreter_usable() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    f.ret(f.arith("+", f.params[0], 1))
    it = prog.interpreter()
    with pytest.raises(KtapRuntimeError):
        it.call(Closure("f", ()), [None])
    assert it.call(Closure("f", ()), [1]) == 2


def test_main_chunk_runs_and_prints() -> None:
    prog = fib_program()
    main = prog.fn("main")
    main.builtin("print", main.call(main.closure("fib"), 10))
    main.ret(bare=True)
    env = make_env()
    prog.interpreter(env).run_main()
    assert output(env) == b"55\n"
