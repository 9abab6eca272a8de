"""Name resolution: ktap's static lexical scoping over a fixed set of built-in globals.

Every `Name` node is bound to a `Symbol` (a `var`, parameter, loop variable or function) or
to a built-in global. Symbols used by an inner function are marked captured: they live in
cells. Reads of unknown names and assignments to undeclared names are errors, as in ktap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import singledispatchmethod

from frontend import ast, builtins
from frontend.diagnostics import DiagnosticSink, Span


class ScopeKind:
    MAIN = "main"
    FUNCTION = "function"
    TRACE = "trace"
    PROFILE = "profile"
    TICK = "tick"
    TRACE_END = "trace_end"

    PROBES = frozenset({TRACE, PROFILE})  # bodies compiled to BPF


@dataclass(eq=False)
class FunctionScope:
    """A function body: the main chunk, a function, or a trace/tick/trace_end body."""

    kind: str
    node: ast.Node
    parent: FunctionScope | None
    name: str  # unique IR function name
    symbols: list[Symbol] = field(default_factory=list)

    @property
    def in_probe(self) -> bool:
        scope: FunctionScope | None = self
        while scope is not None:
            if scope.kind in ScopeKind.PROBES:
                return True
            scope = scope.parent
        return False


@dataclass(eq=False)
class Symbol:
    """A declared variable (`var`, parameter, loop variable or `function` name); `unique`
    is its name in the IR."""

    name: str
    span: Span
    owner: FunctionScope
    unique: str
    captured: bool = False  # used by an inner function: lives in a cell
    assigned_after_init: bool = False
    function_node: ast.FunctionExpr | None = None  # `function f() {}`: statically known

    @property
    def is_toplevel(self) -> bool:
        return self.owner.kind == ScopeKind.MAIN


@dataclass(frozen=True)
class BuiltinGlobal:
    """A name bound to one of ktap's fixed built-in globals (`print`, `arg`, `ansi`, ...)."""

    name: str


Binding = Symbol | BuiltinGlobal


@dataclass
class Resolution:
    """The result of name resolution, keyed by AST node identity."""

    bindings: dict[ast.Name, Binding] = field(default_factory=dict)
    declared: dict[ast.Node, list[Symbol]] = field(default_factory=dict)  # Local/For/FunctionStmt
    params: dict[ast.FunctionExpr, list[Symbol]] = field(default_factory=dict)
    scopes: dict[ast.Node, FunctionScope] = field(default_factory=dict)  # body owner → scope
    uses: dict[Symbol, list[tuple[ast.Name, FunctionScope]]] = field(default_factory=dict)
    main: FunctionScope | None = None

    def binding(self, name: ast.Name) -> Binding:
        return self.bindings[name]


class _Resolver:
    def __init__(self, sink: DiagnosticSink) -> None:
        self.sink = sink
        self.result = Resolution()
        self.blocks: list[dict[str, Symbol]] = []
        self.function: FunctionScope | None = None
        self.loop_depth = 0
        self.counter = 0

    # -- helpers

    def unique(self, base: str) -> str:
        self.counter += 1
        return f"{base}.{self.counter}"

    def declare(self, name: str, span: Span) -> Symbol:
        assert self.function is not None
        symbol = Symbol(name, span, self.function, self.unique(name))
        self.blocks[-1][name] = symbol
        self.function.symbols.append(symbol)
        return symbol

    def lookup(self, name: str) -> Symbol | None:
        for block in reversed(self.blocks):
            if name in block:
                return block[name]
        return None

    def enter_function(self, kind: str, node: ast.Node, name: str) -> FunctionScope:
        scope = FunctionScope(kind, node, self.function, name)
        self.result.scopes[node] = scope
        return scope

    def run_function(self, scope: FunctionScope, body: ast.Block,
                     setup: list[tuple[str, Span]]) -> list[Symbol]:
        outer_function, outer_loop = self.function, self.loop_depth
        self.function, self.loop_depth = scope, 0
        self.blocks.append({})
        declared = [self.declare(n, s) for n, s in setup]
        self.block(body, new_scope=False)
        self.blocks.pop()
        self.function, self.loop_depth = outer_function, outer_loop
        return declared

    def block(self, block: ast.Block, new_scope: bool = True) -> None:
        if new_scope:
            self.blocks.append({})
        for stmt in block.stmts:
            self.stmt(stmt)
        if new_scope:
            self.blocks.pop()

    def use(self, node: ast.Name) -> None:
        symbol = self.lookup(node.name)
        if symbol is not None:
            assert self.function is not None
            self.result.bindings[node] = symbol
            self.result.uses.setdefault(symbol, []).append((node, self.function))
            if symbol.owner is not self.function:
                symbol.captured = True
        elif node.name in builtins.GLOBALS:  # only built-ins are global (Part B §2.4)
            self.result.bindings[node] = BuiltinGlobal(node.name)
        else:
            self.sink.error(node.span, f"undefined variable '{node.name}'",
                            hints=("declare it with 'var' first",))

    # -- statements

    @singledispatchmethod
    def stmt(self, node: ast.Stmt) -> None:
        raise NotImplementedError(type(node).__name__)

    @stmt.register
    def _(self, node: ast.Local) -> None:
        for value in node.values:
            self.expr(value)
        self.result.declared[node] = [
            self.declare(n, s) for n, s in zip(node.names, node.name_spans, strict=True)
        ]

    @stmt.register
    def _(self, node: ast.Assign) -> None:
        for value in node.values:
            self.expr(value)
        for target in node.targets:
            self.target(target)

    @stmt.register
    def _(self, node: ast.AddAssign) -> None:
        self.expr(node.value)
        if isinstance(node.target, ast.Name):
            symbol = self.lookup(node.target.name)
            if symbol is not None and symbol.owner is self.function:
                self.sink.error(
                    node.target.span,
                    f"'+=' on local variable '{node.target.name}' of the same function",
                    hints=(f"write '{node.target.name} = {node.target.name} + ...'", ),
                )
        self.target(node.target)

    def target(self, target: ast.Expr) -> None:
        if isinstance(target, ast.Name):
            symbol = self.lookup(target.name)
            if symbol is None:
                self.sink.error(target.span, f"cannot set global variable '{target.name}'",
                                hints=("declare it with 'var' first",))
                return
            symbol.assigned_after_init = True
            self.use(target)
        else:
            self.expr(target)

    @stmt.register
    def _(self, node: ast.CallStmt) -> None:
        self.expr(node.call)

    @stmt.register
    def _(self, node: ast.If) -> None:
        for clause in node.clauses:
            self.expr(clause.cond)
            self.block(clause.body)
        if node.orelse is not None:
            self.block(node.orelse)

    @stmt.register
    def _(self, node: ast.While) -> None:
        self.expr(node.cond)
        self.loop(node.body)

    @stmt.register
    def _(self, node: ast.Repeat) -> None:
        # Lua: the `until` condition sees the body's locals.
        self.blocks.append({})
        self.loop_depth += 1
        self.block(node.body, new_scope=False)
        self.loop_depth -= 1
        self.expr(node.cond)
        self.blocks.pop()

    def loop(self, body: ast.Block, variables: Sequence[tuple[str, Span]] = (),
             node: ast.Node | None = None) -> None:
        self.blocks.append({})
        declared = [self.declare(n, s) for n, s in variables]
        if node is not None:
            self.result.declared[node] = declared
        self.loop_depth += 1
        self.block(body)
        self.loop_depth -= 1
        self.blocks.pop()

    @stmt.register
    def _(self, node: ast.NumericFor) -> None:
        for e in (node.start, node.limit, node.step):
            if e is not None:
                self.expr(e)
        self.loop(node.body, [(node.var, node.var_span)], node)

    @stmt.register
    def _(self, node: ast.GenericFor) -> None:
        for e in node.exprs:
            self.expr(e)
        self.loop(node.body, tuple(zip(node.names, node.name_spans, strict=True)), node)

    @stmt.register
    def _(self, node: ast.Do) -> None:
        self.block(node.body)

    @stmt.register
    def _(self, node: ast.FunctionStmt) -> None:
        # Declared before the body so that the function sees itself (recursion).
        symbol = self.declare(node.name, node.name_span)
        symbol.function_node = node.func
        self.result.declared[node] = [symbol]
        self.function_expr(node.func)

    @stmt.register
    def _(self, node: ast.Return) -> None:
        for value in node.values:
            self.expr(value)

    @stmt.register
    def _(self, node: ast.Break) -> None:
        if self.loop_depth == 0:
            self.sink.error(node.span, "no loop to break")

    @stmt.register
    def _(self, node: ast.Label) -> None:
        pass  # labels parse but `goto` does not, so they mark nothing

    @stmt.register
    def _(self, node: ast.Trace) -> None:
        self.body_function(ScopeKind.TRACE, node, node.body, "probe")

    @stmt.register
    def _(self, node: ast.Timer) -> None:
        kind = ScopeKind.PROFILE if node.kind == "profile" else ScopeKind.TICK
        self.body_function(kind, node, node.body, node.kind)

    @stmt.register
    def _(self, node: ast.TraceEnd) -> None:
        self.body_function(ScopeKind.TRACE_END, node, node.body, "trace_end")

    def body_function(self, kind: str, node: ast.Stmt, body: ast.Block, base: str) -> None:
        if kind != ScopeKind.TRACE_END and self.function is not None \
                and self.function.kind == ScopeKind.TRACE_END:
            # trace_end runs after every probe is detached (ktap: "timer.tick only can be
            # called in RUNNING state"): a probe registered there would never fire.
            self.sink.error(node.span, f"'{base}' cannot be registered in trace_end: "
                            "tracing has already stopped")
        scope = self.enter_function(kind, node, self.unique(f"{base}@{node.span.line}"))
        self.run_function(scope, body, [])

    # -- expressions

    def expr(self, node: ast.Expr) -> None:
        match node:
            case ast.Name():
                self.use(node)
            case ast.Index(obj=obj, key=key):
                self.expr(obj)
                self.expr(key)
            case ast.Call(func=func, args=args):
                self.expr(func)
                for a in args:
                    self.expr(a)
            case ast.MethodCall(obj=obj, args=args):
                self.expr(obj)
                for a in args:
                    self.expr(a)
            case ast.BinOp(left=left, right=right):
                self.expr(left)
                self.expr(right)
            case ast.UnOp(operand=operand) | ast.Paren(expr=operand):
                self.expr(operand)
            case ast.TableConstructor(fields=fields):
                for f in fields:
                    if f.key is not None:
                        self.expr(f.key)
                    self.expr(f.value)
            case ast.FunctionExpr():
                self.function_expr(node)
            case ast.Vararg():
                assert self.function is not None
                fn = self.function.node
                if not (isinstance(fn, ast.FunctionExpr) and fn.is_vararg):
                    self.sink.error(node.span, "cannot use '...' outside a vararg function")
            case _:
                pass  # literals and built-in variables

    def function_expr(self, node: ast.FunctionExpr) -> None:
        base = node.name or "anon"
        scope = self.enter_function(ScopeKind.FUNCTION, node,
                                    self.unique(f"{base}@{node.span.line}"))
        params = [(p, node.span) for p in node.params]
        self.result.params[node] = self.run_function(scope, node.body, params)


def resolve(chunk: ast.Chunk, sink: DiagnosticSink) -> Resolution:
    resolver = _Resolver(sink)
    main = resolver.enter_function(ScopeKind.MAIN, chunk, "main")
    resolver.result.main = main
    resolver.run_function(main, chunk.body, [])
    return resolver.result
