"""The reference interpreter of kllvm's typed IR.

It runs the main chunk, the functions it calls, `trace_end` and `tick` bodies in user space
(over live BPF maps, through `RuntimeEnv`), and in tests it also runs probe bodies as the
oracle the BPF code is checked against.

Speed: each IR function is translated once into the source of one Python function, which
is compiled and cached. Registers become Python locals, blocks become `if _b == N:` arms
of a `while` loop (a forward jump falls through to its target's arm; only a backward jump
goes round the loop; arms are grouped so that going round tests few conditions), and
every op becomes a few inline statements with the fast path first. Nothing walks the ops
again at run time; `Interpreter.sources` keeps the generated text for debugging.

Decisions (see Part A and Part B §5 of the language reference):

* Fatal errors raise `KtapRuntimeError(fatal=True)`; the non-fatal ones (arithmetic on a
  non-number, `len` of a bad type) raise it with `fatal=False`: the caller of `run_main`
  or `call` reports it and carries on with the next invocation. `exit()` raises
  `ExitRequest`. Every error carries the span of the failing op's error site.
* Calls nest at most `MAX_CALL_DEPTH` frames deep (the entry closure is frame 1), then
  fail with `stack overflow`. ktap's limit was a 120-slot value stack, which no frame
  count reproduces; 200 frames keeps well inside Python's own recursion limit.
* Tail calls are proper, as in ktap (Lua's CALLT): `return f(x)` of a closure returns a
  `TailCall` instead of calling, and whoever called the returning function runs it in
  that function's frame (`_run_tail_calls`), so the depth does not grow.
* The loop budget (`LOOP_LIMIT` ticks) is shared by one invocation and every call it makes,
  as ktap's counter lived in the one `ktap_execute` run that executed nested calls too.
* `upvalue += n` follows ktap's UINCV: both the variable and `n` must be numbers, else the
  fatal `use '+=' on non-number`. Table `+=` counts a missing key from 0.
* Table keys are used as they come: a `stack()` key stays a `StackValue` (`print_hist`
  prints it as ktap's string form), so reading `t[stack()]` finds what writing stored.
"""

from __future__ import annotations

import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from frontend import builtins
from frontend.builtins import Kind, Runs
from frontend.diagnostics import Span
from ir import fmt, ops
from ir.records import Format, Records
from ir.semantics import (
    ADD_NON_NUMBER,
    ADD_NON_NUMBER_VALUE,
    ARITH_NON_NUMBER,
    CALL_NON_FUNCTION,
    COMPARE_NON_NUMBER,
    CONCAT_NON_STRING,
    DIVIDE_BY_ZERO,
    FOR_NON_NUMBER,
    INVALID_EVENT_CONTEXT,
    LOOP_LIMIT,
    LOOP_OVER_BUDGET,
    MAX_CALL_DEPTH,
    MOD_BY_ZERO,
    NEGATE_NON_NUMBER,
    STACK_OVERFLOW,
    TABLE_NIL_INDEX,
    table_capacity,
)
from ir.values import (
    ArgstrValue,
    BuiltinFunction,
    Cell,
    Closure,
    ExitRequest,
    KernelIp,
    KtapRuntimeError,
    KtapTable,
    StackValue,
    TableValue,
    wrap_int64,
)

INT64_MAX = (1 << 63) - 1
INT64_MIN = -(1 << 63)


def type_name(value: object) -> str:
    """ktap's name of a value's type, for error messages."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "number"
    if isinstance(value, bytes):
        return "string"
    if isinstance(value, KtapTable):
        return "table"
    if isinstance(value, Closure | BuiltinFunction):
        return "function"
    if isinstance(value, StackValue):
        return "stack"
    if isinstance(value, ArgstrValue):
        return "argstr"
    return type(value).__name__


def parse_arg(text: str) -> int | bytes:
    """A command-line argument: a number when it is a base-10 int64, else a string."""
    if re.fullmatch(r"[+-]?[0-9]+", text):
        number = int(text)
        if INT64_MIN <= number <= INT64_MAX:
            return number
    return text.encode("utf-8", "surrogateescape")


# ------------------------------------------------------------------ environment


class CellLike(Protocol):
    """A captured variable: `Cell`, or the live runtime's view of a kernel global."""

    value: object


def _current_cpu() -> int:
    # os.sched_getcpu is not in Python 3.11; field 39 of /proc/self/stat is the CPU last
    # run on. The command name (field 2) may contain spaces, so count after its ')'.
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[36])
    except (OSError, IndexError, ValueError):
        return 0


def _comm() -> bytes:
    try:
        with open("/proc/self/comm", "rb") as comm:
            return comm.read().rstrip(b"\n")
    except OSError:
        return os.path.basename(sys.argv[0]).encode()[:15]


# The event variables user space has: the task's own ids (the registry's USER and BOTH ones).
USER_CONTEXT: dict[str, Callable[[], object]] = {
    "pid": os.getpid,
    "tid": threading.get_native_id,
    "uid": os.getuid,
    "cpu": _current_cpu,
    "execname": _comm,
}


@dataclass
class RuntimeEnv:
    """Everything outside the pure language. This default runs in plain user space; the
    live BPF runtime subclasses it to hand out map-backed tables and kernel globals, to
    arm probes and to route output."""

    out: BinaryIO = field(default_factory=lambda: sys.stdout.buffer)
    output_format: Format = Format.TEXT
    script: str = "(command line)"
    argv: list[str] = field(default_factory=list)
    resolve_symbol: fmt.SymbolResolver | None = None
    folded: bool = False  # `-f folded`: print_hist prints stack-keyed tables as folded stacks
    probes: list[tuple[ops.ProbeDecl, Closure]] = field(default_factory=list)
    trace_end: Closure | None = None
    # Every table made, with its declaration, so that dropped updates can be reported.
    tables: list[tuple[ops.TableDecl, KtapTable]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = Records(self.out, self.output_format)  # print & co. write here

    def arg_values(self) -> list[object]:
        """`arg[0]` is the script path, then the arguments (Part B §4.1)."""
        return [self.script.encode("utf-8", "surrogateescape"), *map(parse_arg, self.argv)]

    def make_table(self, decl: ops.TableDecl, capacity: int) -> KtapTable:
        table = TableValue(capacity)
        self.tables.append((decl, table))
        return table

    def make_cell(self, global_name: str | None, initial: object) -> CellLike:
        return Cell(initial)

    def register_probe(self, decl: ops.ProbeDecl, closure: Closure) -> None:
        self.probes.append((decl, closure))

    def set_trace_end(self, closure: Closure) -> None:
        self.trace_end = closure

    def context(self, name: str) -> object:
        """An event variable. User space has no event: only the task's own ids."""
        impl = USER_CONTEXT.get(name)
        if impl is None:
            raise KtapRuntimeError(INVALID_EVENT_CONTEXT)
        return impl()

    def kernel_builtin(self, name: str, args: Sequence[object]) -> object:
        """`stack()`, `kernel_string()`, ...: the oracle's env in tests can fake them."""
        raise KtapRuntimeError(f"'{name}' is only available in probes")

    def wall_clock_ns(self) -> int:
        return time.time_ns()

    def trace_clock_ns(self) -> int:
        return time.monotonic_ns()

    def num_cpus(self) -> int:
        return os.sysconf("SC_NPROCESSORS_ONLN")

    def arch(self) -> bytes:
        return os.uname().machine.encode()

    def kernel_v(self) -> bytes:
        return os.uname().release.encode()


# ------------------------------------------------------------------ built-ins

BuiltinImpl = Callable[["Interpreter", tuple[object, ...]], object]
_BUILTINS: dict[str, BuiltinImpl] = {}


def _builtin(*names: str) -> Callable[[BuiltinImpl], BuiltinImpl]:
    def register(impl: BuiltinImpl) -> BuiltinImpl:
        for name in names:
            _BUILTINS[name] = impl
        return impl

    return register


def _arg(args: tuple[object, ...], index: int) -> object:
    return args[index] if index < len(args) else None


def _table_arg(args: tuple[object, ...], index: int) -> KtapTable:
    value = _arg(args, index)
    if not isinstance(value, KtapTable):
        raise KtapRuntimeError(f"wrong type of argument {index + 1}")
    return value


def _number_arg(args: tuple[object, ...], index: int) -> int:
    value = _arg(args, index)
    if type(value) is not int:
        raise KtapRuntimeError(f"wrong type of argument {index + 1}")
    return value


@_builtin("print")
def _print(it: Interpreter, args: tuple[object, ...]) -> None:
    it.env.records.print(args)


@_builtin("printf")
def _printf(it: Interpreter, args: tuple[object, ...]) -> None:
    template = _arg(args, 0)
    if not isinstance(template, bytes):
        raise KtapRuntimeError("wrong type of argument 1")
    it.env.records.printf(fmt.ktap_printf(template, args[1:], it.env.resolve_symbol))


@_builtin("print_hist")
def _print_hist(it: Interpreter, args: tuple[object, ...]) -> None:
    table = _table_arg(args, 0)
    rows = fmt.DEFAULT_HIST_ROWS if _arg(args, 1) is None else _number_arg(args, 1)
    items = list(table.items())
    if it.env.folded and items and all(isinstance(k, StackValue) for k, _ in items):
        it.env.records.text(fmt.print_folded(fmt.fold(items)))  # `-f folded`: every stack
        return
    addresses = any(isinstance(k, KernelIp) for k, _ in items)  # ipof() keys: named
    it.env.records.hist(items, rows, it.env.resolve_symbol if addresses else None)


@_builtin("print_trace_clock")
def _print_trace_clock(it: Interpreter, args: tuple[object, ...]) -> None:
    now = it.env.trace_clock_ns()
    it.env.records.text(b"%5d.%06d\n" % (now // 1_000_000_000, now % 1_000_000_000 // 1000))


@_builtin("len")
def _len(it: Interpreter, args: tuple[object, ...]) -> int:
    value = _arg(args, 0)
    if isinstance(value, bytes | KtapTable):
        return len(value)
    raise KtapRuntimeError(f"cannot get length of type {type_name(value)}", fatal=False)


@_builtin("delete")
def _delete(it: Interpreter, args: tuple[object, ...]) -> None:
    _table_arg(args, 0).clear()


@_builtin("exit")
def _exit(it: Interpreter, args: tuple[object, ...]) -> None:
    raise ExitRequest()


@_builtin("pairs")
def _pairs(it: Interpreter, args: tuple[object, ...]) -> None:
    # `for (k, v in pairs(t))` is lowered to PairsIter; only a first-class `pairs` gets here.
    raise KtapRuntimeError("ktap only support pairs iteraor")


@_builtin("num_cpus")
def _num_cpus(it: Interpreter, args: tuple[object, ...]) -> int:
    return it.env.num_cpus()


@_builtin("arch")
def _arch(it: Interpreter, args: tuple[object, ...]) -> bytes:
    return it.env.arch()


@_builtin("kernel_v")
def _kernel_v(it: Interpreter, args: tuple[object, ...]) -> bytes:
    return it.env.kernel_v()


_CLOCK_UNITS = {
    "gettimeofday_ns": 1,
    "gettimeofday_us": 1_000,
    "gettimeofday_ms": 1_000_000,
    "gettimeofday_s": 1_000_000_000,
}


def _make_clock(unit: int) -> BuiltinImpl:
    def clock(it: Interpreter, args: tuple[object, ...]) -> int:
        return it.env.wall_clock_ns() // unit

    return clock


_BUILTINS.update({name: _make_clock(unit) for name, unit in _CLOCK_UNITS.items()})


@_builtin("table.new")
def _table_new(it: Interpreter, args: tuple[object, ...]) -> KtapTable:
    # Only a first-class `table.new` gets here: direct calls are lowered to NewTable.
    narr = 0 if _arg(args, 0) is None else _number_arg(args, 0)
    nrec = 0 if _arg(args, 1) is None else _number_arg(args, 1)
    return TableValue(table_capacity(narr, nrec))


def _ansi(escape: Callable[..., bytes], arity: int) -> BuiltinImpl:
    def write(it: Interpreter, args: tuple[object, ...]) -> None:
        it.env.records.text(escape(*(_arg(args, i) for i in range(arity))))

    return write


_BUILTINS.update(
    {
        "ansi.clear_screen": _ansi(fmt.ansi_clear_screen, 0),
        "ansi.set_color": _ansi(fmt.ansi_set_color, 1),
        "ansi.set_color2": _ansi(fmt.ansi_set_color2, 2),
        "ansi.set_color3": _ansi(fmt.ansi_set_color3, 3),
        "ansi.reset_color": _ansi(fmt.ansi_reset_color, 0),
        "ansi.new_line": _ansi(fmt.ansi_new_line, 0),
    }
)


@_builtin("net.format_ip_addr")
def _format_ip_addr(it: Interpreter, args: tuple[object, ...]) -> bytes:
    # `%pI4` prints the address's bytes in memory order: the low byte first on the
    # little-endian machines ktap ran on.
    address = _number_arg(args, 0)
    return b".".join(b"%d" % (address >> shift & 0xFF) for shift in (0, 8, 16, 24))


def _kernel_only(name: str) -> BuiltinImpl:
    def forward(it: Interpreter, args: tuple[object, ...]) -> object:
        return it.env.kernel_builtin(name, args)

    return forward


def _unsupported(name: str) -> BuiltinImpl:
    # Reached only when the function is not called as a statement with constant
    # arguments (frontend.registration turns those into probe statements).
    def fail(it: Interpreter, args: tuple[object, ...]) -> None:
        # Imported here: running an artifact should not load the frontend's AST for a
        # message only a misuse prints.
        from frontend import registration

        raise KtapRuntimeError(
            f"'{name}' registers a probe only when called as a statement: "
            f"{registration.usage(name)}" if name in registration.FUNCTIONS
            else f"'{name}' is not supported: use trace, tick and trace_end statements")

    return fail


# Built-ins that need a probe's kernel context: user space may only forward them to the env.
_BUILTINS.update(
    {
        b.name: _kernel_only(b.name)
        for b in builtins.REGISTRY
        if b.kind is Kind.FUNCTION and b.runs in (Runs.KERNEL, Runs.NOT_YET)
    }
)
_BUILTINS.update({b.name: _unsupported(b.name) for b in builtins.REGISTRY if b.registers_probe})


# ------------------------------------------------------------------ run-time helpers
# Called from generated code for the slower or rarer paths.


def _attach(error: KtapRuntimeError, span: Span) -> None:
    if error.span is None:
        error.span = span


def _divide(a: object, b: object, span: Span) -> int:
    if type(a) is not int or type(b) is not int:
        raise KtapRuntimeError(ARITH_NON_NUMBER, span, fatal=False)
    if b == 0:
        raise KtapRuntimeError(DIVIDE_BY_ZERO, span)
    quotient = abs(a) // abs(b)
    if (a < 0) != (b < 0):
        quotient = -quotient
    # Only INT64_MIN / -1 overflows; it wraps to INT64_MIN as in two's complement.
    return quotient if quotient <= INT64_MAX else wrap_int64(quotient)


def _modulo(a: object, b: object, span: Span) -> int:
    if type(a) is not int or type(b) is not int:
        raise KtapRuntimeError(ARITH_NON_NUMBER, span, fatal=False)
    if b == 0:
        raise KtapRuntimeError(MOD_BY_ZERO, span)
    remainder = abs(a) % abs(b)
    return -remainder if a < 0 else remainder


def _add_cell(cell: CellLike, delta: object, span: Span) -> None:
    old = cell.value
    if type(old) is not int or type(delta) is not int:
        raise KtapRuntimeError(ADD_NON_NUMBER, span)
    cell.value = wrap_int64(old + delta)


@dataclass(frozen=True, slots=True)
class TailCall:
    """`return f(args)` of a closure: the call its caller makes in the returning frame."""

    closure: Closure
    args: tuple[object, ...]


def _not_table(verb: str, value: object, span: Span) -> KtapRuntimeError:
    return KtapRuntimeError(f"{verb} non-table value ({type_name(value)})", span)


# ------------------------------------------------------------------ translation


def _checked_int(value: object, low: int = INT64_MIN, high: int = INT64_MAX) -> int:
    """An integer from the IR that is about to be pasted into generated source: exactly an
    int (not a bool, not a subclass with its own repr) and in range, else a ValueError."""
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"bad integer {value!r} in the IR")
    return value


class _Translator:
    """Writes the Python source of one IR function."""

    def __init__(self, interp: Interpreter, function: ops.Function) -> None:
        self.interp = interp
        self.function = function
        self.names: dict[ops.Register, str] = {}
        self.namespace: dict[str, object] = {}
        self.lines: list[str] = []
        self.indent = 0
        self.block_index = {id(b): i for i, b in enumerate(function.blocks)}
        self.current = 0

    # -- names

    def local(self, register: ops.Register) -> str:
        name = self.names.get(register)
        if name is None:
            name = self.names[register] = f"v{len(self.names)}"
        return name

    def value(self, value: ops.Value) -> str:
        if isinstance(value, ops.Register):
            return self.local(value)
        return self.literal(value.value)

    def literal(self, value: object) -> str:
        """A constant as source text. Only None, booleans and checked ints are written
        out; anything else (byte strings) goes through the constants table, so no text
        from the IR ever becomes code."""
        if value is None or value is True or value is False:
            return repr(value)
        if type(value) is int:
            number = _checked_int(value)
            # Negative ints need parens to stay one operand (`x - -1`, `-(-5)`).
            return f"({number})" if number < 0 else str(number)
        if type(value) is bytes:
            return self.constant(value, "C")
        raise ValueError(f"bad constant {value!r} in the IR")

    def constant(self, obj: object, hint: str = "K") -> str:
        """A name in the generated code's globals bound to `obj`."""
        name = f"{hint}{len(self.namespace)}"
        self.namespace[name] = obj
        return name

    def span(self, error: int) -> str:
        return f"S[{_checked_int(error, 0, len(self.interp.module.errors) - 1)}]"

    def line(self, text: str) -> None:
        self.lines.append("    " * self.indent + text)

    # -- checks

    @staticmethod
    def _not_type(value: ops.Value, python_type: type, text: str) -> str | None:
        """A test that is true when `value` is not of the type; None when it surely is."""
        if isinstance(value, ops.Const):
            return None if type(value.value) is python_type else "True"
        return f"type({text}) is not {python_type.__name__}"

    def type_guard(self, python_type: type, operands: Sequence[ops.Value], raise_: str) -> None:
        tests = [
            t for v in operands if (t := self._not_type(v, python_type, self.value(v))) is not None
        ]
        if tests:
            self.line(f"if {' or '.join(tests)}: raise {raise_}")

    def table_guard(self, table: ops.Value, verb: str, error: int) -> str:
        t = self.value(table)
        self.line(
            f"if type({t}) is not TV and not isinstance({t}, KT): "
            f"raise NOT_TABLE({verb!r}, {t}, {self.span(error)})"
        )
        return t

    def key_guard(self, key: ops.Value, error: int) -> str:
        k = self.value(key)
        if not (isinstance(key, ops.Const) and key.value is not None):
            self.line(f"if {k} is None: raise E(TABLE_NIL_INDEX, {self.span(error)})")
        return k

    def equality(self, left: ops.Value, right: ops.Value) -> str:
        if isinstance(right, ops.Const) and not isinstance(left, ops.Const):
            left, right = right, left
        if isinstance(left, ops.Const):
            if isinstance(right, ops.Const):
                same = type(left.value) is type(right.value) and left.value == right.value
                return repr(same)
            r = self.value(right)
            match left.value:
                case None | bool():
                    return f"({r} is {left.value!r})"
                case _:
                    python_type = "int" if type(left.value) is int else "bytes"
                    return f"(type({r}) is {python_type} and {r} == {self.literal(left.value)})"
        a, b = self.value(left), self.value(right)
        # `type() is type()` keeps ktap's true != 1, which Python's True == 1 would break.
        return f"({a} is {b} or (type({a}) is type({b}) and {a} == {b}))"

    def truthy_test(self, value: ops.Value) -> str:
        """A test that is true when the value is false in Lua's sense (nil or false)."""
        if isinstance(value, ops.Const):
            return repr(value.value is None or value.value is False)
        v = self.value(value)
        return f"{v} is None or {v} is False"

    def call_guarded(self, expression: str, error: int) -> None:
        """Runs code that may raise a span-less error (a built-in, the env) at a site."""
        self.line("try:")
        self.line(f"    {expression}")
        self.line("except E as _x:")
        self.line(f"    ATTACH(_x, {self.span(error)})")
        self.line("    raise")

    # -- ops

    def op(self, op: ops.Op) -> None:
        match op:
            case ops.Move():
                self.move(op)
            case ops.Arith():
                self.arith(op)
            case ops.Compare():
                self.compare(op)
            case ops.Not():
                self.not_(op)
            case ops.Negate():
                self.negate(op)
            case ops.Concat():
                self.concat(op)
            case ops.MakeCell():
                self.make_cell(op)
            case ops.LoadCell():
                self.load_cell(op)
            case ops.StoreCell():
                self.store_cell(op)
            case ops.AddCell():
                self.add_cell(op)
            case ops.NewTable():
                self.new_table(op)
            case ops.TableGet():
                self.table_get(op)
            case ops.TableSet():
                self.table_set(op)
            case ops.TableAdd():
                self.table_add(op)
            case ops.PairsIter():
                self.pairs_iter(op)
            case ops.PairsNext():
                self.pairs_next(op)
            case ops.CheckNumber():
                self.check_number(op)
            case ops.Call():
                self.call(op)
            case ops.CallBuiltin():
                self.call_builtin(op)
            case ops.LoadBuiltin():
                self.load_builtin(op)
            case ops.Context():
                self.context(op)
            case ops.MakeClosure():
                self.make_closure(op)
            case ops.LoopTick():
                self.loop_tick(op)
            case ops.RegisterProbe():
                self.register_probe(op)
            case ops.RegisterTraceEnd():
                self.register_trace_end(op)
            case ops.Jump():
                self.jump(op)
            case ops.Branch():
                self.branch(op)
            case ops.Return():
                self.return_(op)
            case ops.Fail():
                self.fail(op)
            case _:
                raise TypeError(f"unknown op {type(op).__name__}")

    def move(self, op: ops.Move) -> None:
        self.line(f"{self.local(op.dest)} = {self.value(op.src)}")

    def arith(self, op: ops.Arith) -> None:
        d, a, b, s = self.local(op.dest), self.value(op.left), self.value(op.right), op.error
        match op.op:
            case "+" | "-" | "*":
                self.type_guard(int, [op.left, op.right], f"E(ARITH, {self.span(s)}, False)")
                self.line(f"{d} = {a} {op.op} {b}")
                self.line(f"if {d} > {INT64_MAX} or {d} < {INT64_MIN}: {d} = WRAP({d})")
            case "/":
                self.line(f"{d} = DIVIDE({a}, {b}, {self.span(s)})")
            case "%":
                self.line(f"{d} = MODULO({a}, {b}, {self.span(s)})")
            case _:
                raise ValueError(f"unknown arithmetic operator {op.op!r}")

    def compare(self, op: ops.Compare) -> None:
        d = self.local(op.dest)
        match op.op:
            case "==":
                self.line(f"{d} = {self.equality(op.left, op.right)}")
            case "!=":
                self.line(f"{d} = not {self.equality(op.left, op.right)}")
            case "<" | "<=" | ">" | ">=":
                raise_ = f"E(COMPARE, {self.span(op.error)})"
                self.type_guard(int, [op.left, op.right], raise_)
                self.line(f"{d} = {self.value(op.left)} {op.op} {self.value(op.right)}")
            case _:
                raise ValueError(f"unknown comparison {op.op!r}")

    def not_(self, op: ops.Not) -> None:
        self.line(f"{self.local(op.dest)} = {self.truthy_test(op.operand)}")

    def negate(self, op: ops.Negate) -> None:
        d, a = self.local(op.dest), self.value(op.operand)
        self.type_guard(int, [op.operand], f"E(NEGATE, {self.span(op.error)})")
        self.line(f"{d} = -{a} if {a} != {INT64_MIN} else {a}")

    def concat(self, op: ops.Concat) -> None:
        d, a, b = self.local(op.dest), self.value(op.left), self.value(op.right)
        self.type_guard(bytes, [op.left, op.right], f"E(CONCAT, {self.span(op.error)})")
        self.line(f"{d} = {a} + {b}")

    def make_cell(self, op: ops.MakeCell) -> None:
        name = self.constant(op.global_name, "N")
        self.line(f"{self.local(op.dest)} = MAKE_CELL({name}, {self.value(op.initial)})")

    def load_cell(self, op: ops.LoadCell) -> None:
        self.line(f"{self.local(op.dest)} = {self.local(op.cell)}.value")

    def store_cell(self, op: ops.StoreCell) -> None:
        self.line(f"{self.local(op.cell)}.value = {self.value(op.value)}")

    def add_cell(self, op: ops.AddCell) -> None:
        c, delta = self.local(op.cell), self.value(op.delta)
        self.line(f"ADD_CELL({c}, {delta}, {self.span(op.error)})")

    def new_table(self, op: ops.NewTable) -> None:
        decl = self.constant(self.interp.table_decl(op.site), "DECL")
        narr = "None" if op.narr is None else self.value(op.narr)
        nrec = "None" if op.nrec is None else self.value(op.nrec)
        self.line(
            f"{self.local(op.dest)} = NEW_TABLE({decl}, {narr}, {nrec}, {self.span(op.error)})"
        )

    def table_get(self, op: ops.TableGet) -> None:
        t = self.table_guard(op.table, "get key from", op.error)
        k = self.key_guard(op.key, op.error)
        self.line(f"{self.local(op.dest)} = {t}.get({k})")

    def table_set(self, op: ops.TableSet) -> None:
        t = self.table_guard(op.table, "set key to", op.error)
        k = self.key_guard(op.key, op.error)
        self.line(f"{t}.set({k}, {self.value(op.value)})")

    def table_add(self, op: ops.TableAdd) -> None:
        t = self.table_guard(op.table, "set key to", op.error)
        k = self.key_guard(op.key, op.error)
        delta, s = self.value(op.delta), self.span(op.error)
        self.type_guard(int, [op.delta], f"E(ADD_NON_NUMBER, {s})")
        self.line(f"if not {t}.add({k}, {delta}): raise E(ADD_NON_NUMBER_VALUE, {s})")

    def pairs_iter(self, op: ops.PairsIter) -> None:
        t = self.table_guard(op.table, "pairs on", op.error)
        # A snapshot: the body may change the table while it is being walked.
        self.line(f"{self.local(op.dest)} = iter(list({t}.items()))")

    def pairs_next(self, op: ops.PairsNext) -> None:
        k, v, it = self.local(op.key), self.local(op.value), self.local(op.iterator)
        self.line(f"{k}, {v} = next({it}, (None, None))")

    def check_number(self, op: ops.CheckNumber) -> None:
        self.type_guard(int, [op.value], f"E(FOR_NON_NUMBER, {self.span(op.error)})")

    def call(self, op: ops.Call, tail: bool = False) -> None:
        """A call; `tail`: its result is returned at once (`return f(x)`), so a closure
        is not called here but handed to the caller as a `TailCall`."""
        d, f, s = self.local(op.dest), self.value(op.callee), self.span(op.error)
        args = "".join(f", {self.value(a)}" for a in op.args)
        self.line(f"if type({f}) is CLOSURE:")
        if tail:
            self.line(f"    return TAIL({f}, ({args.removeprefix(', ')}{',' if args else ''}))")
        else:
            self.line(f"    if _depth >= {MAX_CALL_DEPTH}: raise E(STACK_OVERFLOW, {s})")
            self.line(f"    {d} = F[{f}.function_name]({f}.cells, _depth + 1, _inv{args})")
            self.line(f"    if type({d}) is TAIL: {d} = RUN_TAIL({d}, _depth + 1, _inv)")
        self.line(f"elif type({f}) is BUILTIN:")
        self.indent += 1
        self.call_guarded(f"{d} = {f}.call({args.removeprefix(', ')})", op.error)
        self.indent -= 1
        self.line(f"else: raise E(CALL_NON_FUNCTION, {s})")

    def call_builtin(self, op: ops.CallBuiltin) -> None:
        impl = _BUILTINS.get(op.name)
        if impl is None:
            message = self.constant(f"unknown built-in {op.name!r}", "M")
            self.line(f"raise E({message}, {self.span(op.error)})")
            return
        name = self.constant(impl, "B")
        args = "".join(f"{self.value(a)}, " for a in op.args)
        self.call_guarded(f"{self.local(op.dest)} = {name}(I, ({args}))", op.error)

    def load_builtin(self, op: ops.LoadBuiltin) -> None:
        value = self.interp.builtin_value(op.name)
        if value is None:
            span = self.constant(op.span, "SPAN")
            message = self.constant(f"undefined global variable {op.name!r}", "M")
            self.line(f"raise E({message}, {span})")
            return
        self.line(f"{self.local(op.dest)} = {self.constant(value, 'G')}")

    def context(self, op: ops.Context) -> None:
        name = self.constant(op.name, "N")
        self.call_guarded(f"{self.local(op.dest)} = CONTEXT({name})", op.error)

    def make_closure(self, op: ops.MakeClosure) -> None:
        cells = "".join(f"{self.local(c)}, " for c in op.cells)
        name = self.constant(op.function, "N")
        self.line(f"{self.local(op.dest)} = CLOSURE({name}, ({cells}))")

    def loop_tick(self, op: ops.LoopTick) -> None:
        self.line("_inv[0] += 1")
        self.line(f"if _inv[0] > {LOOP_LIMIT}: raise E(LOOP_OVER_BUDGET, {self.span(op.error)})")

    def register_probe(self, op: ops.RegisterProbe) -> None:
        probe = self.constant(self.interp.module.probes[op.probe], "PROBE")
        span = self.constant(op.span, "SPAN")
        self.line(f"REGISTER_PROBE({probe}, {self.local(op.closure)}, {span})")

    def register_trace_end(self, op: ops.RegisterTraceEnd) -> None:
        self.line(f"SET_TRACE_END({self.local(op.closure)})")

    # -- terminators

    def goto(self, target: ops.BasicBlock) -> None:
        index = self.block_index[id(target)]
        self.line(f"_b = {index}")
        if index <= self.current:
            self.line("continue")  # forward jumps fall through to their arm below

    def jump(self, op: ops.Jump) -> None:
        self.goto(op.target)

    def branch(self, op: ops.Branch) -> None:
        self.line(f"if {self.truthy_test(op.cond)}:")
        self.indent += 1
        self.goto(op.if_false)
        self.indent -= 1
        self.line("else:")
        self.indent += 1
        self.goto(op.if_true)
        self.indent -= 1

    def return_(self, op: ops.Return) -> None:
        self.line("return None" if op.value is None else f"return {self.value(op.value)}")

    def fail(self, op: ops.Fail) -> None:
        span = self.span(op.error)  # checks the index first
        message = self.constant(self.interp.module.errors[op.error].message, "M")
        self.line(f"raise E({message}, {span})")

    # -- the whole function

    def block(self, block: ops.BasicBlock) -> None:
        for index, op in enumerate(block.ops):
            following = block.ops[index + 1] if index + 1 < len(block.ops) else None
            if (isinstance(op, ops.Call) and isinstance(following, ops.Return)
                    and following.value is op.dest):
                self.call(op, tail=True)
                continue
            self.op(op)
            if isinstance(op, ops.Terminator):
                return
        raise ValueError(f"{self.function.name}: block {block.label!r} has no terminator")

    def dispatch(self) -> None:
        """The arms of the block loop, in groups under `if _b < END:` guards: a jump
        back to the top then tests about 2·sqrt(blocks) conditions, not one per block.
        A forward jump leaves its group's later arms untaken and enters its target's
        group through that group's guard."""
        blocks = self.function.blocks
        size = max(8, math.isqrt(len(blocks)) + 1)
        grouped = len(blocks) > size
        for start in range(0, len(blocks), size):
            self.indent = 2
            if grouped:
                self.line(f"if _b < {start + size}:")
                self.indent = 3
            for index in range(start, min(start + size, len(blocks))):
                self.current = index
                # No label comment: the IR's text never goes into the source.
                self.line(f"if _b == {index}:")
                self.indent += 1
                self.block(blocks[index])
                self.indent -= 1

    def translate(self) -> str:
        function = self.function
        params = "".join(f", {self.local(p)}=None" for p in function.params)
        # The same Python name for every function: each is compiled in its own namespace,
        # and the IR's name never goes into the source.
        header = f"def {_ENTRY}(_cells, _depth, _inv{params}, *_extra):"
        self.indent = 1
        if function.free_cells:
            cells = "".join(f"{self.local(c)}, " for c in function.free_cells)
            self.line(f"{cells} = _cells")
        body_start = len(self.lines)
        if len(function.blocks) == 1:
            self.block(function.entry)
        else:
            self.line("_b = 0")
            self.line("while True:")
            self.dispatch()
        # Registers read on a path that never wrote them are nil, not a Python error.
        bound = {self.local(p) for p in function.params} | {
            self.local(c) for c in function.free_cells
        }
        others = [n for n in self.names.values() if n not in bound]
        if others:
            self.lines.insert(body_start, "    " + " = ".join(others) + " = None")
        return "\n".join([header, *self.lines]) + "\n"


_ENTRY = "ktap_function"


# ------------------------------------------------------------------ the interpreter

CompiledFunction = Callable[..., object]


class Interpreter:
    """Runs one module. Functions are translated when the interpreter is made."""

    def __init__(self, module: ops.Module, env: RuntimeEnv | None = None) -> None:
        self.module = module
        self.env = env if env is not None else RuntimeEnv()
        self._tables = {decl.site: decl for decl in module.tables}
        self._builtin_values: dict[str, object] = {}
        self._in_main = False  # probes may be registered only while the main chunk runs
        self._functions: dict[str, CompiledFunction] = {}
        self.sources: dict[str, str] = {}  # the generated Python, for debugging
        shared = self._shared_namespace()
        for function in module.functions.values():
            translator = _Translator(self, function)
            source = translator.translate()
            namespace = {**shared, **translator.namespace}
            code = compile(source, f"<ktap {function.name!r}>", "exec")
            # The source is built from the translator's own text, checked ints and names
            # it made; every string or object from the IR is reached through `namespace`.
            exec(code, namespace)  # noqa: S102
            entry = namespace[_ENTRY]
            assert callable(entry)  # the `def` of the translated source
            self._functions[function.name] = entry
            self.sources[function.name] = source

    def _shared_namespace(self) -> dict[str, object]:
        env = self.env
        return {
            "I": self,
            "F": self._functions,
            "S": tuple(site.span for site in self.module.errors),
            "E": KtapRuntimeError,
            "TV": TableValue,
            "KT": KtapTable,
            "CLOSURE": Closure,
            "TAIL": TailCall,
            "RUN_TAIL": self._run_tail_calls,
            "BUILTIN": BuiltinFunction,
            "WRAP": wrap_int64,
            "DIVIDE": _divide,
            "MODULO": _modulo,
            "ADD_CELL": _add_cell,
            "NOT_TABLE": _not_table,
            "ATTACH": _attach,
            "NEW_TABLE": self._new_table,
            "MAKE_CELL": env.make_cell,
            "CONTEXT": env.context,
            "REGISTER_PROBE": self._register_probe,
            "SET_TRACE_END": env.set_trace_end,
            "ARITH": ARITH_NON_NUMBER,
            "COMPARE": COMPARE_NON_NUMBER,
            "NEGATE": NEGATE_NON_NUMBER,
            "CONCAT": CONCAT_NON_STRING,
            "TABLE_NIL_INDEX": TABLE_NIL_INDEX,
            "ADD_NON_NUMBER": ADD_NON_NUMBER,
            "ADD_NON_NUMBER_VALUE": ADD_NON_NUMBER_VALUE,
            "FOR_NON_NUMBER": FOR_NON_NUMBER,
            "CALL_NON_FUNCTION": CALL_NON_FUNCTION,
            "STACK_OVERFLOW": STACK_OVERFLOW,
            "LOOP_OVER_BUDGET": LOOP_OVER_BUDGET,
        }

    # -- entry points

    def run_main(self) -> None:
        """Runs the main chunk. Raises `KtapRuntimeError` or `ExitRequest`."""
        self._in_main = True
        try:
            inv = [0]
            result = self._functions[self.module.main]((), 1, inv)
            if type(result) is TailCall:
                self._run_tail_calls(result, 1, inv)
        finally:
            self._in_main = False

    def call(self, closure: object, args: Sequence[object] = ()) -> object:
        """Calls a ktap function value, e.g. a probe body, `trace_end` or `tick` closure,
        as one fresh invocation with its own loop budget."""
        if type(closure) is Closure:
            inv = [0]
            result = self._functions[closure.function_name](closure.cells, 1, inv, *args)
            return self._run_tail_calls(result, 1, inv) if type(result) is TailCall else result
        if type(closure) is BuiltinFunction:
            return closure.call(*args)
        raise KtapRuntimeError(CALL_NON_FUNCTION)

    # -- services for the generated code

    def _run_tail_calls(self, result: object, depth: int, inv: list[int]) -> object:
        """Runs the tail calls a function returned, one after another in its frame (at
        its `depth`), until one returns a value."""
        while type(result) is TailCall:
            closure = result.closure
            result = self._functions[closure.function_name](closure.cells, depth, inv,
                                                            *result.args)
        return result

    def _register_probe(self, decl: ops.ProbeDecl, closure: Closure, span: Span) -> None:
        # A probe statement in a function that trace_end or a tick body calls: ktap's
        # "only can be called in RUNNING state" (the ones written in those bodies are
        # compile errors, frontend.scope).
        if not self._in_main:
            raise KtapRuntimeError(f"'{decl.kind}' can only be registered while the main "
                                   "chunk runs, not in trace_end or a tick body", span)
        self.env.register_probe(decl, closure)

    def table_decl(self, site: int) -> ops.TableDecl:
        return self._tables[site]

    def _new_table(self, decl: ops.TableDecl, narr: object, nrec: object, span: Span) -> KtapTable:
        sizes = []
        for index, size in enumerate((narr, nrec)):
            if size is not None and type(size) is not int:
                raise KtapRuntimeError(f"wrong type of argument {index + 1}", span)
            sizes.append(size or 0)
        return self.env.make_table(decl, table_capacity(*sizes))

    def builtin_value(self, name: str) -> object:
        """A built-in global as a first-class value; the same object on every load, so
        that `print == print`. None for an unknown name."""
        if name not in self._builtin_values:
            self._builtin_values[name] = self._make_builtin_value(name)
        return self._builtin_values[name]

    def _make_builtin_value(self, name: str) -> object:
        if name == "arg":
            table = TableValue()
            for index, value in enumerate(self.env.arg_values()):
                table.set(index, value)
            return table
        if name in builtins.LIBRARIES:
            library = TableValue()
            for member in sorted(builtins.LIBRARIES[name]):
                library.set(member.encode(), self.builtin_value(f"{name}.{member}"))
            return library
        impl = _BUILTINS.get(name)
        if impl is None:
            return None
        return BuiltinFunction(name, lambda *args: impl(self, args))
