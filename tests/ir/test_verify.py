"""The IR verifier: a sound module passes; each kind of breakage is reported."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from ir_testkit import Prog, every_op_module

from frontend.diagnostics import Span
from frontend.types import ANY
from ir import ops
from ir.verify import verify_module

SPAN = Span(1, 1, 1, 2)


def function(module: ops.Module, name: str) -> ops.Function:
    return module.functions[name]


def main_ops(module: ops.Module) -> list[ops.Op]:
    return function(module, "main").entry.ops


def find(module: ops.Module, kind: type[ops.Op]) -> ops.Op:
    return next(
        op for f in module.functions.values() for b in f.blocks for op in b.ops if type(op) is kind
    )


def test_sound_modules_pass() -> None:
    assert verify_module(every_op_module()) == []
    prog = Prog()
    prog.fn("main").ret(bare=True)
    assert verify_module(prog.module) == []


def drop_terminator(m: ops.Module) -> None:
    function(m, "helper").entry.ops.pop()


def terminator_in_the_middle(m: ops.Module) -> None:
    main_ops(m).insert(0, ops.Return(SPAN, None))


def empty_block(m: ops.Module) -> None:
    function(m, "helper").blocks.append(ops.BasicBlock("empty9"))


def branch_elsewhere(m: ops.Module) -> None:
    function(m, "helper").entry.ops[-1] = ops.Jump(SPAN, function(m, "probe").entry)


def undefined_register(m: ops.Module) -> None:
    main_ops(m).insert(0, ops.Move(SPAN, ops.Register("x", ANY), ops.Register("ghost", ANY)))


def bad_error_id(m: ops.Module) -> None:
    find(m, ops.Concat).error = 99  # type: ignore[attr-defined]


def missing_closure_function(m: ops.Module) -> None:
    find(m, ops.MakeClosure).function = "nosuch"  # type: ignore[attr-defined]


def wrong_cell_count(m: ops.Module) -> None:
    find(m, ops.MakeClosure).cells.pop()  # type: ignore[attr-defined]


def missing_probe_function(m: ops.Module) -> None:
    m.probes[1].function = "nosuch"


def probe_id_mismatch(m: ops.Module) -> None:
    m.probes[1].id = 7


def trace_without_eventdef(m: ops.Module) -> None:
    m.probes[0].eventdef = None


def tick_without_interval(m: ops.Module) -> None:
    m.probes[1].interval_ns = None


def bad_table_site(m: ops.Module) -> None:
    find(m, ops.NewTable).site = 5  # type: ignore[attr-defined]


def table_site_mismatch(m: ops.Module) -> None:
    m.tables[0].site = 3


def bad_probe_reference(m: ops.Module) -> None:
    find(m, ops.RegisterProbe).probe = 9  # type: ignore[attr-defined]


def load_from_non_cell(m: ops.Module) -> None:
    load = find(m, ops.LoadCell)
    load.cell = ops.Register("plain", ANY)  # type: ignore[attr-defined]
    main_ops(m).insert(0, ops.Move(SPAN, load.cell, ops.Const(None, ANY)))  # type: ignore[attr-defined]


def cell_used_as_value(m: ops.Module) -> None:
    probe = function(m, "probe")
    add = find(m, ops.TableAdd)
    add.table = probe.free_cells[0]  # type: ignore[attr-defined]


def unknown_builtin(m: ops.Module) -> None:
    find(m, ops.CallBuiltin).name = "sprintf"  # type: ignore[attr-defined]


def unknown_builtin_global(m: ops.Module) -> None:
    find(m, ops.LoadBuiltin).name = "os"  # type: ignore[attr-defined]


def unknown_context(m: ops.Module) -> None:
    find(m, ops.Context).name = "arg10"  # type: ignore[attr-defined]


def unknown_operator(m: ops.Module) -> None:
    find(m, ops.Arith).op = "^"  # type: ignore[attr-defined]


def duplicate_register_name(m: ops.Module) -> None:
    main_ops(m).insert(0, ops.Move(SPAN, ops.Register("r1", ANY), ops.Const(1, ANY)))


def duplicate_label(m: ops.Module) -> None:
    main = function(m, "main")
    main.blocks[2].label = main.blocks[1].label


def no_main(m: ops.Module) -> None:
    m.main = "start"


def misnamed_function(m: ops.Module) -> None:
    m.functions["other"] = m.functions.pop("helper")


def error_id_mismatch(m: ops.Module) -> None:
    m.errors[3] = ops.ErrorSite(4, SPAN, "x")


def cell_written_by_move(m: ops.Module) -> None:
    cell = find(m, ops.MakeCell).dest  # type: ignore[attr-defined]
    main_ops(m).append(ops.Move(SPAN, cell, ops.Const(1, ANY)))


def iterator_from_elsewhere(m: ops.Module) -> None:
    find(m, ops.PairsNext).iterator = find(m, ops.NewTable).dest  # type: ignore[attr-defined]


def iterator_made_after_the_loop(m: ops.Module) -> None:
    # The iterator is made in the loop's exit block: the loop head reads it unwritten.
    iterate = find(m, ops.PairsIter)
    main = function(m, "main")
    main.entry.ops.remove(iterate)
    main.blocks[-1].ops.insert(0, iterate)


def cell_parameter(m: ops.Module) -> None:
    function(m, "helper").params[0].type = ops.CellT(ANY)


def register_bound_twice(m: ops.Module) -> None:
    helper = function(m, "helper")
    helper.params[1] = helper.params[0]


def main_with_cells(m: ops.Module) -> None:
    function(m, "main").free_cells.append(ops.Register("c9", ops.CellT(ANY)))


def constant_out_of_range(m: ops.Module) -> None:
    find(m, ops.Arith).right = ops.Const(1 << 63, ANY)  # type: ignore[attr-defined]


def zero_interval(m: ops.Module) -> None:
    m.probes[1].interval_ns = 0


def loop_without_budget(m: ops.Module) -> None:
    head = function(m, "main").blocks[1]
    head.ops = [op for op in head.ops if not isinstance(op, ops.LoopTick)]


@pytest.mark.parametrize(
    ("breakage", "problem"),
    [
        (drop_terminator, "function helper, block entry0: does not end in a terminator"),
        (terminator_in_the_middle, "terminator Return before the end of the block"),
        (empty_block, "block empty9: does not end in a terminator"),
        (branch_elsewhere, "Jump to 'entry0' of another function"),
        (undefined_register, "function main: register %ghost is used but never written"),
        (bad_error_id, "(Concat): error site 99 does not exist"),
        (missing_closure_function, "function 'nosuch' does not exist"),
        (wrong_cell_count, "1 cells for 'probe', which has 2"),
        (missing_probe_function, "probe #1: function 'nosuch' does not exist"),
        (probe_id_mismatch, "probe #7: is at index 1"),
        (trace_without_eventdef, "a trace probe needs an eventdef"),
        (tick_without_interval, "profile and tick probes need an interval"),
        (bad_table_site, "table site 5 does not exist"),
        (table_site_mismatch, "table at index 0 has site 3"),
        (bad_probe_reference, "probe 9 does not exist"),
        (load_from_non_cell, "cell operand %plain is not of a cell type"),
        (cell_used_as_value, "cell %c0 used as a value"),
        (unknown_builtin, "unknown built-in 'sprintf'"),
        (unknown_builtin_global, "unknown built-in global 'os'"),
        (unknown_context, "unknown event variable 'arg10'"),
        (unknown_operator, "unknown arithmetic operator '^'"),
        (duplicate_register_name, "two different registers are named %r1"),
        (duplicate_label, "duplicate block label 'head1'"),
        (no_main, "main function 'start' does not exist"),
        (misnamed_function, "function other: is named 'helper'"),
        (error_id_mismatch, "error site at index 3 has id 4"),
        (cell_written_by_move, "is written by Move"),
        (iterator_from_elsewhere, "is not made by PairsIter"),
        (iterator_made_after_the_loop, "may be used before it is written"),
        (cell_parameter, "parameter %p0 is of a cell type"),
        (register_bound_twice, "a register is bound twice on entry"),
        (main_with_cells, "the main function captures cells"),
        (constant_out_of_range, "bad constant 9223372036854775808"),
        (zero_interval, "interval 0 is out of range"),
        (loop_without_budget, "a loop does not count against the loop budget"),
    ],
)
def test_breakage_is_reported(breakage: Callable[[ops.Module], None], problem: str) -> None:
    module = every_op_module()
    breakage(module)
    problems = verify_module(module)
    assert any(problem in p for p in problems), problems


def test_problems_come_out_in_a_stable_order() -> None:
    def broken() -> list[str]:
        module = every_op_module()
        undefined_register(module)
        duplicate_register_name(module)
        unknown_builtin(module)
        return verify_module(module)

    assert broken() == broken()
    assert len(broken()) == 3
