"""The ktap abstract syntax tree. Every node carries the span of the source it came from.

Nodes are plain dataclasses compared by identity (`eq=False`): later passes key side
information on the node objects themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from kllvm.diagnostics import Span

# Built-in "register" variables: keywords, not names (Part B §4.1).
BUILTIN_VARIABLES = (
    "argstr",
    "probename",
    "pid",
    "tid",
    "uid",
    "cpu",
    "execname",
    *(f"arg{i}" for i in range(10)),
)


# repr=False throughout: generating a __repr__ per node class costs ~4 ms of every start,
# and frontend.sexpr is the readable form of a tree.
@dataclass(eq=False, repr=False)
class Node:
    span: Span

    def __repr__(self) -> str:
        return f"<{type(self).__name__} at {self.span.line}:{self.span.col}>"


# ---------------------------------------------------------------- expressions


@dataclass(eq=False, repr=False)
class Expr(Node):
    pass


@dataclass(eq=False, repr=False)
class Nil(Expr):
    pass


@dataclass(eq=False, repr=False)
class Bool(Expr):
    value: bool


@dataclass(eq=False, repr=False)
class Number(Expr):
    value: int  # already wrapped to int64 by ktap's rules


@dataclass(eq=False, repr=False)
class String(Expr):
    value: bytes  # escapes already decoded


@dataclass(eq=False, repr=False)
class Vararg(Expr):
    pass


@dataclass(eq=False, repr=False)
class BuiltinVar(Expr):
    name: str  # one of BUILTIN_VARIABLES


@dataclass(eq=False, repr=False)
class Name(Expr):
    name: str


@dataclass(eq=False, repr=False)
class Index(Expr):
    obj: Expr
    key: Expr  # `t.x` is Index(t, String(b"x"))


@dataclass(eq=False, repr=False)
class Call(Expr):
    func: Expr
    args: list[Expr]


@dataclass(eq=False, repr=False)
class MethodCall(Expr):
    obj: Expr
    method: str
    args: list[Expr]


@dataclass(eq=False, repr=False)
class BinOp(Expr):
    op: str  # '||' '&&' '==' '!=' '<' '<=' '>' '>=' '..' '+' '-' '*' '/' '%' '^'
    left: Expr
    right: Expr


@dataclass(eq=False, repr=False)
class UnOp(Expr):
    op: str  # '!' or '-'
    operand: Expr


@dataclass(eq=False, repr=False)
class Paren(Expr):
    expr: Expr


@dataclass(eq=False, repr=False)
class TableField(Node):
    key: Expr | None  # None: positional item, numbered from 1
    value: Expr


@dataclass(eq=False, repr=False)
class TableConstructor(Expr):
    fields: list[TableField]


@dataclass(eq=False, repr=False)
class FunctionExpr(Expr):
    params: list[str]
    is_vararg: bool
    body: Block
    name: str | None = None  # set for `function f() {}` statements


# ---------------------------------------------------------------- statements


@dataclass(eq=False, repr=False)
class Stmt(Node):
    pass


@dataclass(eq=False, repr=False)
class Block(Node):
    stmts: list[Stmt]


@dataclass(eq=False, repr=False)
class Local(Stmt):
    """`var a, b = e1, e2`."""

    names: list[str]
    name_spans: list[Span]
    values: list[Expr]


@dataclass(eq=False, repr=False)
class Assign(Stmt):
    targets: list[Expr]  # Name or Index
    values: list[Expr]


@dataclass(eq=False, repr=False)
class AddAssign(Stmt):
    """`target += value` (only one target is meaningful)."""

    target: Expr
    value: Expr


@dataclass(eq=False, repr=False)
class CallStmt(Stmt):
    call: Expr  # Call or MethodCall


@dataclass(eq=False, repr=False)
class IfClause(Node):
    cond: Expr
    body: Block


@dataclass(eq=False, repr=False)
class If(Stmt):
    clauses: list[IfClause]  # the `if` and each `elseif`
    orelse: Block | None


@dataclass(eq=False, repr=False)
class While(Stmt):
    cond: Expr
    body: Block


@dataclass(eq=False, repr=False)
class NumericFor(Stmt):
    var: str
    var_span: Span
    start: Expr
    limit: Expr
    step: Expr | None
    body: Block


@dataclass(eq=False, repr=False)
class GenericFor(Stmt):
    names: list[str]
    name_spans: list[Span]
    exprs: list[Expr]
    body: Block


@dataclass(eq=False, repr=False)
class Repeat(Stmt):
    body: Block
    cond: Expr


@dataclass(eq=False, repr=False)
class Do(Stmt):
    body: Block


@dataclass(eq=False, repr=False)
class FunctionStmt(Stmt):
    """`function f() {}` and `var function f() {}`: both declare a local visible in its body."""

    name: str
    name_span: Span
    func: FunctionExpr


@dataclass(eq=False, repr=False)
class Return(Stmt):
    values: list[Expr]


@dataclass(eq=False, repr=False)
class Break(Stmt):
    pass


@dataclass(eq=False, repr=False)
class Label(Stmt):
    name: str


@dataclass(eq=False, repr=False)
class Trace(Stmt):
    eventdef: str  # raw text between `trace` and `{`, stripped
    eventdef_span: Span
    body: Block


@dataclass(eq=False, repr=False)
class TraceEnd(Stmt):
    body: Block


@dataclass(eq=False, repr=False)
class Timer(Stmt):
    kind: str  # 'tick' or 'profile'
    interval: str  # raw text after '-', e.g. "1s"
    interval_span: Span
    body: Block


@dataclass(eq=False, repr=False)
class Chunk(Node):
    body: Block
