"""The ktap abstract syntax tree. Every node carries the span of the source it came from.

Nodes are plain dataclasses compared by identity (`eq=False`): later passes key side
information on the node objects themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from frontend.builtins import CONTEXT_NAMES
from frontend.diagnostics import Span

# Built-in "register" variables: keywords, not names (Part B §4.1).
BUILTIN_VARIABLES = CONTEXT_NAMES


# repr=False throughout: generating a __repr__ per node class costs ~4 ms of every start,
# and frontend.sexpr is the readable form of a tree.
@dataclass(eq=False, repr=False)
class Node:
    """Base of every AST node; `span` is the source text it came from."""

    span: Span

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {self.span.line}:{self.span.col}>"


# ---------------------------------------------------------------- expressions


@dataclass(eq=False, repr=False)
class Expr(Node):
    """Base of expression nodes."""


@dataclass(eq=False, repr=False)
class Nil(Expr):
    """`nil`."""


@dataclass(eq=False, repr=False)
class Bool(Expr):
    """`true` or `false`."""

    value: bool


@dataclass(eq=False, repr=False)
class Number(Expr):
    """An integer literal (decimal, `0x` hex or leading-`0` octal)."""

    value: int  # already wrapped to int64 by ktap's rules


@dataclass(eq=False, repr=False)
class String(Expr):
    """A string literal, quoted or long-bracketed (`[[...]]`)."""

    value: bytes  # escapes already decoded


@dataclass(eq=False, repr=False)
class Vararg(Expr):
    """`...`, allowed only in a vararg function; it evaluates to nil."""


@dataclass(eq=False, repr=False)
class BuiltinVar(Expr):
    """A built-in event or context variable (`pid`, `execname`, `arg1`, ...), not a name."""

    name: str  # one of BUILTIN_VARIABLES


@dataclass(eq=False, repr=False)
class Name(Expr):
    """A variable, or a built-in global such as `print`, referred to by name."""

    name: str


@dataclass(eq=False, repr=False)
class Index(Expr):
    """`obj[key]` or `obj.name`: a table element, read (nil when missing) or assigned."""

    obj: Expr
    key: Expr  # `t.x` is Index(t, String(b"x"))


@dataclass(eq=False, repr=False)
class Call(Expr):
    """`f(args)`, `f{...}` or `f"str"`: a call of a function value or of a built-in."""

    func: Expr
    args: list[Expr]


@dataclass(eq=False, repr=False)
class MethodCall(Expr):
    """`obj:method(args)`: calls `obj.method` with `obj` as the first argument."""

    obj: Expr
    method: str
    args: list[Expr]


@dataclass(eq=False, repr=False)
class BinOp(Expr):
    """`left op right`; `&&` and `||` short-circuit and return an operand, as in Lua."""

    op: str  # '||' '&&' '==' '!=' '<' '<=' '>' '>=' '..' '+' '-' '*' '/' '%' '^'
    left: Expr
    right: Expr


@dataclass(eq=False, repr=False)
class UnOp(Expr):
    """`!x` (true only when `x` is nil or false) or `-x`."""

    op: str  # '!' or '-'
    operand: Expr


@dataclass(eq=False, repr=False)
class Paren(Expr):
    """`(expr)`: the same value as `expr`."""

    expr: Expr


@dataclass(eq=False, repr=False)
class TableField(Node):
    """One field of a table constructor: `[k] = v`, `name = v` or a positional `v`."""

    key: Expr | None  # None: positional item, numbered from 1
    value: Expr


@dataclass(eq=False, repr=False)
class TableConstructor(Expr):
    """`{...}`: a new table; positional fields get the keys 1, 2, 3, ..."""

    fields: list[TableField]


@dataclass(eq=False, repr=False)
class FunctionExpr(Expr):
    """`function (params) { body }`: a closure; also what a `function f` statement defines."""

    params: list[str]
    is_vararg: bool
    body: Block
    name: str | None = None  # set for `function f() {}` statements


# ---------------------------------------------------------------- statements


@dataclass(eq=False, repr=False)
class Stmt(Node):
    """Base of statement nodes."""


@dataclass(eq=False, repr=False)
class Block(Node):
    """A statement list: the whole chunk's, a `{ ... }` body, or a `do`/`repeat` body."""

    stmts: list[Stmt]


@dataclass(eq=False, repr=False)
class Local(Stmt):
    """`var a, b = e1, e2`."""

    names: list[str]
    name_spans: list[Span]
    values: list[Expr]


@dataclass(eq=False, repr=False)
class Assign(Stmt):
    """`a, t[k] = e1, e2`: Lua's multiple assignment, values adjusted to the targets' count."""

    targets: list[Expr]  # Name or Index
    values: list[Expr]


@dataclass(eq=False, repr=False)
class AddAssign(Stmt):
    """`target += value` (only one target is meaningful)."""

    target: Expr
    value: Expr


@dataclass(eq=False, repr=False)
class CallStmt(Stmt):
    """A call used as a statement; its result is dropped."""

    call: Expr  # Call or MethodCall


@dataclass(eq=False, repr=False)
class IfClause(Node):
    """`if (cond) { body }` or one `elseif (cond) { body }`."""

    cond: Expr
    body: Block


@dataclass(eq=False, repr=False)
class If(Stmt):
    """`if` with its `elseif` clauses and an optional `else` body."""

    clauses: list[IfClause]  # the `if` and each `elseif`
    orelse: Block | None


@dataclass(eq=False, repr=False)
class While(Stmt):
    """`while (cond) { body }`."""

    cond: Expr
    body: Block


@dataclass(eq=False, repr=False)
class NumericFor(Stmt):
    """`for (i = start, limit [, step]) { body }`: Lua's numeric for, the limit inclusive."""

    var: str
    var_span: Span
    start: Expr
    limit: Expr
    step: Expr | None
    body: Block


@dataclass(eq=False, repr=False)
class GenericFor(Stmt):
    """`for (k, v in pairs(t)) { body }`; `pairs` is the only iterator ktap has."""

    names: list[str]
    name_spans: list[Span]
    exprs: list[Expr]
    body: Block


@dataclass(eq=False, repr=False)
class Repeat(Stmt):
    """`repeat body until (cond)`; the condition sees the body's locals."""

    body: Block
    cond: Expr


@dataclass(eq=False, repr=False)
class Do(Stmt):
    """`do body end`: a nested scope."""

    body: Block


@dataclass(eq=False, repr=False)
class FunctionStmt(Stmt):
    """`function f() {}` and `var function f() {}`: both declare a local visible in its body."""

    name: str
    name_span: Span
    func: FunctionExpr


@dataclass(eq=False, repr=False)
class Return(Stmt):
    """`return [e]`; a ktap function returns at most one value."""

    values: list[Expr]


@dataclass(eq=False, repr=False)
class Break(Stmt):
    """`break`: leaves the innermost loop."""


@dataclass(eq=False, repr=False)
class Label(Stmt):
    """`::name::`: parses but marks nothing, since `goto` is a syntax error."""

    name: str


@dataclass(eq=False, repr=False)
class Trace(Stmt):
    """`trace EVENTDEF { body }`: a probe on the events EVENTDEF names, run in the kernel."""

    eventdef: str  # raw text between `trace` and `{`, stripped
    eventdef_span: Span
    body: Block


@dataclass(eq=False, repr=False)
class TraceEnd(Stmt):
    """`trace_end { body }`: the body run in user space once tracing has ended."""

    body: Block


@dataclass(eq=False, repr=False)
class Timer(Stmt):
    """`tick-N { body }` (run in user space) or `profile-N { body }` (in the kernel, on
    every CPU): a body run every interval N."""

    kind: str  # 'tick' or 'profile'
    interval: str  # raw text after '-', e.g. "1s"
    interval_span: Span
    body: Block


@dataclass(eq=False, repr=False)
class Chunk(Node):
    """The root: the script's top-level statements, the main chunk."""

    body: Block


def children(node: Node) -> list[Node]:
    """The nodes directly under `node`, in field order."""
    found: list[Node] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, Node):
            found.append(value)
        elif isinstance(value, list):
            found.extend(item for item in value if isinstance(item, Node))
    return found


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node`, itself first (iteratively: trees may be deep)."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(children(current))
