"""The IR printer: a golden text, determinism, and every op kind."""

from __future__ import annotations

import inspect

from ir_testkit import Prog, every_op_module

from frontend.diagnostics import Span
from frontend.eventdef import (
    EventDef,
    FetchArg,
    FilterAnd,
    FilterCompare,
    FilterOr,
    FtraceFunctionSpec,
    KprobeSpec,
    SdtSpec,
    UprobeSpec,
)
from ir import ops
from ir.printer import format_op, print_module

SPAN = Span(1, 1, 1, 2)

GOLDEN = """\
module main=main

tables:
  table #0 counts [any]any @1:1

globals:
  global count :int written_by_kernel @2:5

probes:
  probe #0 trace syscalls:sys_enter_* /pid == 42/ -> probe @2:5
  probe #1 tick every 1000000000ns -> probe @2:5

errors:
  err 0 @1:3 "invalid event context"
  err 1 @2:3 "+="
  err 2 @3:3 "+="
  err 3 @4:3 "for"
  err 4 @5:3 "concat"
  err 5 @6:3 "table.new"
  err 6 @7:3 "negate"
  err 7 @8:3 "*"
  err 8 @9:3 "=="
  err 9 @10:3 "set"
  err 10 @11:3 "call"
  err 11 @12:3 "get"
  err 12 @13:3 "print"
  err 13 @14:3 "call"
  err 14 @15:3 "pairs"
  err 15 @16:3 "loop"
  err 16 @17:3 "'for' init/limit/step value must be a number"

function probe() kernel @1:1
  free %c0 :cell any, %c1 :cell any
  entry0:
    %r1 = context probename :any  [err 0]
    %r2 = load_cell %c0 :any
    table_add %r2[%r1] += 1  [err 1]
    add_cell %c1, 1  [err 2]
    return

function helper(%p0 :any, %p1 :any, ...) user @1:1
  entry0:
    check_number %p0  [err 3]
    %r1 = concat %p1, '!' :any  [err 4]
    return %r1

function main() user @1:1
  entry0:
    %r1 = new_table #0 (0, 100) :any  [err 5]
    %r2 = make_cell %r1 :cell any
    %r3 = make_cell 0 global count :cell any
    %r4 = make_closure probe [%r2, %r3] :any
    register_probe #0, %r4
    register_probe #1, %r4
    %r5 = make_closure helper [] :any
    register_trace_end %r5
    %r6 = load_cell %r3 :any
    %r7 = negate %r6 :any  [err 6]
    %r8 = arith * %r7, 2 :any  [err 7]
    store_cell %r3, %r8
    %r9 = compare == %r8, nil :any  [err 8]
    %r10 = not %r9 :any
    table_set %r1['k'] = %r10  [err 9]
    %r11 = make_closure helper [] :any
    %r12 = call %r11(1, 'hi') :any  [err 10]
    %r13 = move %r12 :any
    %r14 = table_get %r1['k'] :any  [err 11]
    %r15 = call_builtin print(%r13, %r14) :any  [err 12]
    %r16 = load_builtin print :any
    %r17 = call %r16('done') :any  [err 13]
    %r18 = pairs_iter %r1 :any  [err 14]
    jump head1
  head1:
    loop_tick  [err 15]
    %r19, %r20 = pairs_next %r18 :any, any
    branch %r19, body2, done3
  body2:
    jump head1
  done3:
    fail  [err 16]
"""


def test_golden_text() -> None:
    assert print_module(every_op_module()) == GOLDEN


def test_output_is_deterministic() -> None:
    assert print_module(every_op_module()) == print_module(every_op_module())


def test_every_op_kind_is_printed() -> None:
    used = {
        type(op) for f in every_op_module().functions.values() for b in f.blocks for op in b.ops
    }
    kinds = {
        cls
        for _, cls in inspect.getmembers(ops, inspect.isclass)
        if issubclass(cls, ops.Op) and cls not in (ops.Op, ops.Terminator)
    }
    assert kinds <= used, kinds - used


def test_op_lines() -> None:
    prog = Prog()
    f = prog.fn("f", params=1)
    r = f.arith("+", f.params[0], 1)
    assert format_op(f.function.entry.ops[-1]) == f"{r} = arith + %p0, 1 :any  [err 0]"
    f.set(f.params[0], "key", None)
    assert format_op(f.function.entry.ops[-1]) == "table_set %p0['key'] = nil  [err 1]"
    f.move(True)
    assert format_op(f.function.entry.ops[-1]).endswith("= move true :any")
    f.ret(bare=True)
    assert format_op(f.function.entry.ops[-1]) == "return"


def test_eventdefs() -> None:
    specs = (
        KprobeSpec("do_sys_open", False, (FetchArg("dfd", "%di", SPAN),), SPAN),
        KprobeSpec("vfs_read", True, (), SPAN),
        UprobeSpec("/lib/libc.so.6", "malloc", False, (), SPAN),
        UprobeSpec("/bin/sh", 0x773C0, True, (FetchArg(None, "$retval", SPAN),), SPAN),
        SdtSpec("/usr/bin/python", "function__entry", SPAN),
        FtraceFunctionSpec(SPAN),
    )
    condition = FilterOr(
        FilterAnd(
            FilterCompare("pid", "==", 1, SPAN), FilterCompare("comm", "!=", "sh", SPAN), SPAN
        ),
        FilterCompare("prio", ">", -5, SPAN),
        SPAN,
    )
    module = ops.Module(main="main")
    module.probes.append(
        ops.ProbeDecl(0, ops.ProbeKind.TRACE, SPAN, "p", EventDef(specs, condition, SPAN), None)
    )
    text = print_module(module)
    assert (
        "  probe #0 trace probe:do_sys_open dfd=%di, probe:vfs_read%return, "
        "probe:/lib/libc.so.6:malloc, probe:/bin/sh:0x773c0%return $retval, "
        "sdt:/usr/bin/python:function__entry, ftrace:function "
        "/((pid == 1 && comm != 'sh') || prio > -5)/ -> p @1:1"
    ) in text
