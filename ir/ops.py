"""kllvm's typed IR: a flat control-flow graph of typed ops (the mypyc model).

Registers are locals written by ops; every block ends in exactly one terminator. Variables
captured by closures live in cells (registers of `CellT`). Everything that can fail at run
time (a division by zero, a loop over budget, arithmetic on nil) names an `ErrorSite`, so the
interpreter and the BPF lowering report the same script location.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from frontend.diagnostics import Span
from frontend.eventdef import EventDef
from frontend.types import Type

# ------------------------------------------------------------------ values


@dataclass(frozen=True)
class CellT(Type):
    """The type of a register that holds a cell (a captured variable)."""

    inner: Type

    def __str__(self) -> str:
        return f"cell {self.inner}"


@dataclass(eq=False)
class Register:
    """A virtual register local to one function; its type is ANY until inference sets it."""

    name: str
    type: Type

    def __str__(self) -> str:
        return f"%{self.name}"


@dataclass(frozen=True)
class Const:
    """A constant operand: nil, a boolean, an int64 or a byte string."""

    value: int | bool | bytes | None
    type: Type

    def __str__(self) -> str:
        v = self.value
        if v is None:
            return "nil"
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, bytes):
            return repr(v)[1:]
        return str(v)


Value = Register | Const


# ------------------------------------------------------------------ ops


# repr=False on every op class (and on the blocks, functions and declarations below): a
# generated __repr__ per class costs start-up time; the IR printer gives the readable form.
@dataclass(eq=False, repr=False)
class Op:
    """Base of the IR ops; `span` is the script location the op came from."""

    span: Span

    def __repr__(self) -> str:
        # Short on purpose: ir.printer.format_op gives the readable form (and importing
        # it here would make the two modules import each other).
        return f"<{type(self).__name__} at {self.span.line}:{self.span.col}>"


@dataclass(eq=False, repr=False)
class Move(Op):
    """`dest = src`. A `join` move is one arm of `a && b` / `a || b`: the result may take
    either operand's type, so inference does not force the two operands to agree."""

    dest: Register
    src: Value
    join: bool = False


@dataclass(eq=False, repr=False)
class Arith(Op):
    """`+ - * / %` on int64. `/` and `%` are checked: by zero they fail with `error`."""

    dest: Register
    op: str
    left: Value
    right: Value
    error: int  # ErrorSite id: arithmetic on a non-number, or division by zero


@dataclass(eq=False, repr=False)
class Compare(Op):
    """`== != < <= > >=`: equality takes any values, ordering only numbers."""

    dest: Register
    op: str  # == != < <= > >=
    left: Value
    right: Value
    error: int  # ordered comparison of non-numbers


@dataclass(eq=False, repr=False)
class Not(Op):
    """`!x`: true when `x` is nil or false."""

    dest: Register
    operand: Value


@dataclass(eq=False, repr=False)
class Negate(Op):
    """`-x`; fails with `error` unless `x` is a number."""

    dest: Register
    operand: Value
    error: int


@dataclass(eq=False, repr=False)
class Concat(Op):
    """`a .. b`: both operands must be strings (no number coercion)."""

    dest: Register
    left: Value
    right: Value
    error: int


@dataclass(eq=False, repr=False)
class MakeCell(Op):
    """A fresh cell for a captured variable. `global_name` is set when the variable is a
    top-level one used by kernel code: the cell is then the kernel global of that name."""

    dest: Register
    initial: Value
    global_name: str | None = None


@dataclass(eq=False, repr=False)
class LoadCell(Op):
    """Reads a captured variable from its cell."""

    dest: Register
    cell: Register


@dataclass(eq=False, repr=False)
class StoreCell(Op):
    """Assigns to a captured variable through its cell."""

    cell: Register
    value: Value


@dataclass(eq=False, repr=False)
class AddCell(Op):
    """`upvalue += delta`; atomic in the kernel (Part A §8)."""

    cell: Register
    delta: Value
    error: int


@dataclass(eq=False, repr=False)
class NewTable(Op):
    """`{}` or `table.new(narr, nrec)`: capacity narr + nrec entries, or the default when
    both are 0 or absent (Part A §7)."""

    dest: Register
    site: int  # TableDecl id
    narr: Value | None
    nrec: Value | None
    error: int  # non-number sizes


@dataclass(eq=False, repr=False)
class TableGet(Op):
    """`t[k]`: a table read; nil when the key is missing."""

    dest: Register
    table: Value
    key: Value
    error: int  # indexing a non-table, nil key


@dataclass(eq=False, repr=False)
class TableSet(Op):
    """`t[k] = v`; a nil value deletes the key."""

    table: Value
    key: Value
    value: Value
    error: int


@dataclass(eq=False, repr=False)
class TableAdd(Op):
    """`t[k] += delta`; a missing key counts as 0."""

    table: Value
    key: Value
    delta: Value
    error: int


@dataclass(eq=False, repr=False)
class PairsIter(Op):
    """Starts `for (k, v in pairs(t))`: a snapshot iterator over the table's entries."""

    dest: Register
    table: Value
    error: int  # not a table


@dataclass(eq=False, repr=False)
class PairsNext(Op):
    """Advances the iterator; `key` is nil when it is exhausted."""

    key: Register
    value: Register
    iterator: Register


@dataclass(eq=False, repr=False)
class CheckNumber(Op):
    """Fails with `error` unless the value is a number (numeric `for` bounds)."""

    value: Value
    error: int


@dataclass(eq=False, repr=False)
class Call(Op):
    """Calls a function value: a closure, or a built-in taken as a value."""

    dest: Register
    callee: Value
    args: list[Value]
    error: int  # calling a non-function


@dataclass(eq=False, repr=False)
class CallBuiltin(Op):
    """A call of a built-in function known by name at compile time (`print(...)`)."""

    dest: Register
    name: str  # "print", "printf", "ansi.clear_screen", ...
    args: list[Value]
    error: int


@dataclass(eq=False, repr=False)
class LoadBuiltin(Op):
    """A built-in global as a first-class value (`var p = print`, `arg`, `ansi`)."""

    dest: Register
    name: str


@dataclass(eq=False, repr=False)
class Context(Op):
    """A built-in event variable: pid, tid, uid, cpu, execname, probename, argN, argstr."""

    dest: Register
    name: str
    error: int  # used outside an event


@dataclass(eq=False, repr=False)
class MakeClosure(Op):
    """A function value: the IR function `function` bound to the cells it captures."""

    dest: Register
    function: str
    cells: list[Register]


@dataclass(eq=False, repr=False)
class LoopTick(Op):
    """Counts one loop iteration against the per-invocation budget (Part A §11)."""

    error: int


@dataclass(eq=False, repr=False)
class RegisterProbe(Op):
    """Executed by the main chunk when it reaches a `trace`/`profile`/`tick` statement."""

    probe: int
    closure: Register


@dataclass(eq=False, repr=False)
class RegisterTraceEnd(Op):
    """Executed by the main chunk when it reaches `trace_end`; the last one reached wins."""

    closure: Register


# ------------------------------------------------------------------ terminators


@dataclass(eq=False, repr=False)
class Terminator(Op):
    """Base of the ops that end a basic block."""


@dataclass(eq=False, repr=False)
class Jump(Terminator):
    """An unconditional jump to `target`."""

    target: BasicBlock


@dataclass(eq=False, repr=False)
class Branch(Terminator):
    """Branches on Lua truthiness: only nil and false are false."""

    cond: Value
    if_true: BasicBlock
    if_false: BasicBlock


@dataclass(eq=False, repr=False)
class Return(Terminator):
    """`return [value]`: leaves the function with `value`, or nil when it is None."""

    value: Value | None


@dataclass(eq=False, repr=False)
class Fail(Terminator):
    """An unconditional run-time error (e.g. a for loop with non-number bounds)."""

    error: int


# ------------------------------------------------------------------ structure


@dataclass(eq=False, repr=False)
class BasicBlock:
    """A labelled list of ops that ends in exactly one terminator."""

    label: str
    ops: list[Op] = field(default_factory=list)

    @property
    def terminator(self) -> Terminator | None:
        last = self.ops[-1] if self.ops else None
        return last if isinstance(last, Terminator) else None


class Placement(enum.Enum):
    USER = "user"
    KERNEL = "kernel"  # also run in user space by the interpreter in tests


@dataclass(eq=False, repr=False)
class Function:
    """The IR of the main chunk, one ktap function, or one `trace`/timer/`trace_end` body."""

    name: str
    span: Span
    params: list[Register]
    free_cells: list[Register]  # bound from the closure's cells on entry
    blocks: list[BasicBlock] = field(default_factory=list)
    is_vararg: bool = False
    placement: Placement = Placement.USER

    @property
    def entry(self) -> BasicBlock:
        return self.blocks[0]


@dataclass(frozen=True)
class ErrorSite:
    """A place that can fail at run time; `message` is ktap's text for the common case."""

    id: int
    span: Span
    message: str


@dataclass(eq=False, repr=False)
class TableDecl:
    """A table creation site (`{}` or `table.new`); table types and BPF maps are per site."""

    site: int
    span: Span
    name: str  # the variable it was first stored in, for reports
    key: Type
    value: Type
    kernel: bool  # reached by a probe body: becomes a BPF map
    only_added: bool = False  # only ever updated with `+=` in the kernel: per-CPU map


@dataclass(eq=False, repr=False)
class GlobalDecl:
    """A top-level variable used by kernel code: a BPF global."""

    name: str
    span: Span
    type: Type
    written_by_kernel: bool


class ProbeKind(enum.StrEnum):
    """What fires a probe: the one vocabulary of probe kinds (the providers under
    backend/providers say what each kind attaches to)."""

    TRACE = "trace"  # events named by an eventdef: tracepoints, kprobes, uprobes
    PROFILE = "profile"  # a perf timer on every CPU
    TICK = "tick"  # a timer of kllvm's own, in user space

    @property
    def runs_in_kernel(self) -> bool:
        """Whether the probe's body is a BPF program (else the interpreter runs it)."""
        return self is not ProbeKind.TICK


@dataclass(eq=False, repr=False)
class ProbeDecl:
    """A `trace`, `profile` or `tick` statement: its body's function and what fires it."""

    id: int
    kind: ProbeKind
    span: Span
    function: str
    eventdef: EventDef | None  # for TRACE
    interval_ns: int | None  # for PROFILE and TICK


@dataclass(eq=False, repr=False)
class Module:
    """A whole script in IR: functions, table sites, kernel globals, probes and error sites."""

    main: str
    functions: dict[str, Function] = field(default_factory=dict)
    tables: list[TableDecl] = field(default_factory=list)
    globals: list[GlobalDecl] = field(default_factory=list)
    probes: list[ProbeDecl] = field(default_factory=list)
    errors: list[ErrorSite] = field(default_factory=list)

    def error_site(self, span: Span, message: str) -> int:
        site = ErrorSite(len(self.errors), span, message)
        self.errors.append(site)
        return site.id
