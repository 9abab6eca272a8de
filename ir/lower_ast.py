"""Lowers the resolved AST to the IR: one IR function per ktap function or probe body.

Register types are left as `ANY` here; `ir.infer` assigns the real ones. Variables captured
by inner functions live in cells; everything else is a plain register.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatchmethod

from frontend import ast, builtins
from frontend.diagnostics import DiagnosticSink, Span
from frontend.eventdef import parse_eventdef, parse_interval
from frontend.scope import (
    BuiltinGlobal,
    FunctionScope,
    Resolution,
    Symbol,
)
from frontend.types import ANY, BOOL, INT, NIL, STR
from ir import ops
from ir.builder import FunctionBuilder

ARITH_OPS = frozenset({"+", "-", "*", "/", "%"})
COMPARE_OPS = frozenset({"==", "!=", "<", "<=", ">", ">="})


def const(value: int | bool | bytes | None) -> ops.Const:
    if value is None:
        return ops.Const(None, NIL)
    if isinstance(value, bool):
        return ops.Const(value, BOOL)
    if isinstance(value, int):
        return ops.Const(value, INT)
    return ops.Const(value, STR)


NIL_CONST = const(None)


@dataclass
class _Loop:
    """An enclosing loop: `exit` is the block that `break` jumps to."""

    exit: ops.BasicBlock


def free_symbols(resolution: Resolution) -> dict[FunctionScope, list[Symbol]]:
    """For each function, the outer symbols it (or a function nested in it) uses."""
    free: dict[FunctionScope, list[Symbol]] = {}
    for symbol, uses in resolution.uses.items():
        for _, scope in uses:
            walk: FunctionScope | None = scope
            while walk is not None and walk is not symbol.owner:
                needed = free.setdefault(walk, [])
                if symbol not in needed:
                    needed.append(symbol)
                walk = walk.parent
    return free


class _FunctionLowerer:
    """Lowers the body of one function scope."""

    def __init__(self, owner: Lowerer, scope: FunctionScope, function: ops.Function) -> None:
        self.owner = owner
        self.module = owner.module
        self.scope = scope
        self.b = FunctionBuilder(function)
        self.vars: dict[Symbol, ops.Register] = {}
        self.loops: list[_Loop] = []
        for symbol in owner.free.get(scope, []):
            cell = ops.Register(symbol.unique, ops.CellT(ANY))
            function.free_cells.append(cell)
            self.vars[symbol] = cell

    # -- helpers

    def error_site(self, span: Span, message: str) -> int:
        return self.module.error_site(span, message)

    def temp(self, hint: str = "r") -> ops.Register:
        return self.b.register(ANY, hint)

    def emit(self, op: ops.Op) -> None:
        self.b.emit(op)

    def declare(self, symbol: Symbol, value: ops.Value, span: Span) -> None:
        if symbol.captured:
            cell = ops.Register(symbol.unique, ops.CellT(ANY))
            global_name = symbol.name if symbol.is_toplevel else None
            self.emit(ops.MakeCell(span, cell, value, global_name))
            self.vars[symbol] = cell
        else:
            reg = ops.Register(symbol.unique, ANY)
            self.vars[symbol] = reg
            self.emit(ops.Move(span, reg, value))

    def store(self, symbol: Symbol, value: ops.Value, span: Span) -> None:
        reg = self.vars[symbol]
        if isinstance(reg.type, ops.CellT):
            self.emit(ops.StoreCell(span, reg, value))
        else:
            self.emit(ops.Move(span, reg, value))

    def load(self, symbol: Symbol, span: Span) -> ops.Value:
        reg = self.vars[symbol]
        if isinstance(reg.type, ops.CellT):
            dest = self.temp(f"{symbol.name}.v")  # keeps the variable's name for messages
            self.emit(ops.LoadCell(span, dest, reg))
            return dest
        return reg

    def jump(self, target: ops.BasicBlock, span: Span) -> None:
        self.b.terminate(ops.Jump(span, target))

    def body(self, block: ast.Block) -> None:
        for stmt in block.stmts:
            self.stmt(stmt)

    def finish(self, span: Span) -> None:
        self.b.terminate(ops.Return(span, None))

    # -- statements

    @singledispatchmethod
    def stmt(self, node: ast.Stmt) -> None:
        raise NotImplementedError(type(node).__name__)

    @stmt.register
    def _(self, node: ast.Local) -> None:
        values = self.exprs_adjusted(node.values, len(node.names), node.names)
        for symbol, value in zip(self.owner.resolution.declared[node], values, strict=True):
            self.declare(symbol, value, node.span)

    def exprs_adjusted(self, exprs: list[ast.Expr], count: int,
                       hints: list[str] | None = None) -> list[ops.Value]:
        """Lua's adjust-to-count: extra values are evaluated and dropped, missing are nil."""
        values: list[ops.Value] = []
        for i, e in enumerate(exprs):
            hint = hints[i] if hints and i < len(hints) else None
            values.append(self.expr(e, hint))
        values = values[:count]
        return values + [NIL_CONST] * (count - len(values))

    @stmt.register
    def _(self, node: ast.Assign) -> None:
        # Lua evaluates the targets' prefixes and all values before assigning.
        places: list[tuple[ast.Expr, ops.Value | None, ops.Value | None]] = []
        several = len(node.targets) > 1
        for target in node.targets:
            if isinstance(target, ast.Index):
                obj, key = self.expr(target.obj), self.expr(target.key)
                if several:  # `i, t[i] = ...` indexes with the old `i`
                    obj, key = self.copy(obj, target.span), self.copy(key, target.span)
                places.append((target, obj, key))
            else:
                places.append((target, None, None))
        hints = [t.name if isinstance(t, ast.Name) else "" for t in node.targets]
        values = self.exprs_adjusted(node.values, len(node.targets), hints)
        if several:
            values = [self.copy(v, node.span) for v in values]
        for (target, table, index), value in zip(places, values, strict=True):
            if table is not None and index is not None:
                err = self.error_site(target.span, "table set on non-table value")
                self.emit(ops.TableSet(target.span, table, index, value, err))
            else:
                assert isinstance(target, ast.Name)
                symbol = self.owner.resolution.binding(target)
                assert isinstance(symbol, Symbol)
                self.store(symbol, value, target.span)

    def copy(self, value: ops.Value, span: Span) -> ops.Value:
        if isinstance(value, ops.Const):
            return value
        dest = self.temp()
        self.emit(ops.Move(span, dest, value))
        return dest

    @stmt.register
    def _(self, node: ast.AddAssign) -> None:
        target = node.target
        value = node.value
        while isinstance(value, ast.Paren):
            value = value.expr
        if isinstance(value, ast.Nil | ast.Bool | ast.String):
            self.owner.sink.error(node.value.span, "'+=' needs a number on its right")
        if isinstance(target, ast.Index):
            obj, key = self.expr(target.obj), self.expr(target.key)
            delta = self.expr(node.value)
            err = self.error_site(node.span, "use '+=' operator on non-number value")
            self.emit(ops.TableAdd(node.span, obj, key, delta, err))
            return
        if not isinstance(target, ast.Name):
            self.owner.sink.error(target.span, "'+=' needs a variable or a table element")
            return
        symbol = self.owner.resolution.bindings.get(target)
        if not isinstance(symbol, Symbol):
            return  # reported by name resolution
        delta = self.expr(node.value)
        err = self.error_site(node.span, "use '+=' on non-number")
        reg = self.vars[symbol]
        if isinstance(reg.type, ops.CellT):
            self.emit(ops.AddCell(node.span, reg, delta, err))
        else:
            dest = self.temp()
            self.emit(ops.Arith(node.span, dest, "+", reg, delta, err))
            self.emit(ops.Move(node.span, reg, dest))

    @stmt.register
    def _(self, node: ast.CallStmt) -> None:
        statement = self.owner.resolution.registrations.get(node)
        if statement is not None:  # `kdebug.kprobe(...)`: the trace statement it stands for
            self.stmt(statement)
            return
        self.expr(node.call)

    @stmt.register
    def _(self, node: ast.If) -> None:
        done = self.b.new_block("endif")
        for clause in node.clauses:
            cond = self.expr(clause.cond)
            then, other = self.b.new_block("then"), self.b.new_block("else")
            self.b.terminate(ops.Branch(clause.cond.span, cond, then, other))
            self.b.position_at(then)
            self.body(clause.body)
            self.jump(done, clause.span)
            self.b.position_at(other)
        if node.orelse is not None:
            self.body(node.orelse)
        self.jump(done, node.span)
        self.b.position_at(done)

    def loop_tick(self, span: Span) -> None:
        err = self.error_site(span, "loop execute count exceed max limit(100000)")
        self.emit(ops.LoopTick(span, err))

    @stmt.register
    def _(self, node: ast.While) -> None:
        head, body, done = (self.b.new_block(n) for n in ("while", "body", "endwhile"))
        self.jump(head, node.span)
        self.b.position_at(head)
        cond = self.expr(node.cond)
        self.b.terminate(ops.Branch(node.cond.span, cond, body, done))
        self.b.position_at(body)
        self.loops.append(_Loop(done))
        self.body(node.body)
        self.loops.pop()
        self.loop_tick(node.span)
        self.jump(head, node.span)
        self.b.position_at(done)

    @stmt.register
    def _(self, node: ast.Repeat) -> None:
        body, done = self.b.new_block("repeat"), self.b.new_block("endrepeat")
        self.jump(body, node.span)
        self.b.position_at(body)
        self.loops.append(_Loop(done))
        self.body(node.body)
        self.loops.pop()
        cond = self.expr(node.cond)
        again = self.b.new_block("again")
        self.b.terminate(ops.Branch(node.cond.span, cond, done, again))
        self.b.position_at(again)
        self.loop_tick(node.span)
        self.jump(body, node.span)
        self.b.position_at(done)

    @stmt.register
    def _(self, node: ast.NumericFor) -> None:
        err = self.error_site(node.span, "'for' init/limit/step value must be a number")
        bounds = []
        for e in (node.start, node.limit, node.step):
            value = const(1) if e is None else self.copy(self.expr(e), node.span)
            if not (isinstance(value, ops.Const) and value.type == INT):
                self.emit(ops.CheckNumber(node.span, value, err))
            bounds.append(value)
        start, limit, step = bounds
        counter = self.temp("i")
        self.emit(ops.Move(node.span, counter, start))
        head, body, done = (self.b.new_block(n) for n in ("for", "forbody", "endfor"))
        self.jump(head, node.span)
        self.b.position_at(head)
        cond = self.for_condition(counter, limit, step, node.span)
        self.b.terminate(ops.Branch(node.span, cond, body, done))
        self.b.position_at(body)
        [symbol] = self.owner.resolution.declared[node]
        self.declare(symbol, counter, node.var_span)  # a per-iteration copy, as in Lua
        self.loops.append(_Loop(done))
        self.body(node.body)
        self.loops.pop()
        self.loop_tick(node.span)
        nxt = self.temp()
        self.emit(ops.Arith(node.span, nxt, "+", counter, step, err))
        self.emit(ops.Move(node.span, counter, nxt))
        self.jump(head, node.span)
        self.b.position_at(done)

    def for_condition(self, counter: ops.Register, limit: ops.Value, step: ops.Value,
                      span: Span) -> ops.Value:
        err = self.error_site(span, "'for' init/limit/step value must be a number")
        if isinstance(step, ops.Const) and isinstance(step.value, int):
            cond = self.temp()
            self.emit(ops.Compare(span, cond, "<=" if step.value > 0 else ">=",
                                  counter, limit, err))
            return cond
        # The direction is known only at run time: (step > 0 && i <= limit) || (i >= limit).
        up, up_cond, down_cond = self.temp(), self.temp(), self.temp()
        result = self.temp()
        self.emit(ops.Compare(span, up, ">", step, const(0), err))
        when_up, when_down = self.b.new_block("up"), self.b.new_block("down")
        joined = self.b.new_block("cond")
        self.b.terminate(ops.Branch(span, up, when_up, when_down))
        self.b.position_at(when_up)
        self.emit(ops.Compare(span, up_cond, "<=", counter, limit, err))
        self.emit(ops.Move(span, result, up_cond))
        self.jump(joined, span)
        self.b.position_at(when_down)
        self.emit(ops.Compare(span, down_cond, ">=", counter, limit, err))
        self.emit(ops.Move(span, result, down_cond))
        self.jump(joined, span)
        self.b.position_at(joined)
        return result

    @stmt.register
    def _(self, node: ast.GenericFor) -> None:
        table = self.pairs_argument(node)
        if table is None:
            return
        err = self.error_site(node.span, "pairs on non-table value")
        iterator = self.temp("it")
        self.emit(ops.PairsIter(node.span, iterator, table, err))
        head, body, done = (self.b.new_block(n) for n in ("pairs", "pairsbody", "endpairs"))
        self.jump(head, node.span)
        self.b.position_at(head)
        key, value, more = self.temp("k"), self.temp("v"), self.temp()
        self.emit(ops.PairsNext(node.span, key, value, iterator))
        self.emit(ops.Compare(node.span, more, "!=", key, NIL_CONST, err))
        self.b.terminate(ops.Branch(node.span, more, body, done))
        self.b.position_at(body)
        symbols = self.owner.resolution.declared[node]
        for i, symbol in enumerate(symbols):
            self.declare(symbol, key if i == 0 else value if i == 1 else NIL_CONST, node.span)
        self.loops.append(_Loop(done))
        self.body(node.body)
        self.loops.pop()
        self.loop_tick(node.span)
        self.jump(head, node.span)
        self.b.position_at(done)

    def pairs_argument(self, node: ast.GenericFor) -> ops.Value | None:
        match node.exprs:
            case [ast.Call(func=ast.Name() as fn, args=[arg])] if isinstance(
                self.owner.resolution.bindings.get(fn), BuiltinGlobal
            ) and fn.name == "pairs":
                return self.expr(arg)
        self.owner.sink.error(node.span, "ktap only supports the pairs iterator",
                              hints=("write 'for (k, v in pairs(t)) { ... }'",))
        return None

    @stmt.register
    def _(self, node: ast.Do) -> None:
        self.body(node.body)

    @stmt.register
    def _(self, node: ast.FunctionStmt) -> None:
        [symbol] = self.owner.resolution.declared[node]
        if symbol.captured:  # recursive or used by an inner function: bind the cell first
            self.declare(symbol, NIL_CONST, node.name_span)
            closure = self.function_value(node.func, node.name)
            self.store(symbol, closure, node.name_span)
        else:
            self.declare(symbol, self.function_value(node.func, node.name), node.name_span)

    @stmt.register
    def _(self, node: ast.Return) -> None:
        if len(node.values) > 1:
            self.owner.sink.error(node.values[1].span, "don't support return multiple values")
        value = self.expr(node.values[0]) if node.values else None
        self.b.terminate(ops.Return(node.span, value))

    @stmt.register
    def _(self, node: ast.Break) -> None:
        if self.loops:
            self.jump(self.loops[-1].exit, node.span)

    @stmt.register
    def _(self, node: ast.Label) -> None:
        pass

    @stmt.register
    def _(self, node: ast.Trace) -> None:
        eventdef = parse_eventdef(node.eventdef, node.eventdef_span, self.owner.sink)
        self.register_probe(node, ops.ProbeKind.TRACE, eventdef, None)

    @stmt.register
    def _(self, node: ast.Timer) -> None:
        interval = parse_interval(node.interval, node.interval_span, self.owner.sink)
        self.register_probe(node, ops.ProbeKind(node.kind), None, interval)

    def register_probe(self, node: ast.Trace | ast.Timer, kind: ops.ProbeKind, eventdef: object,
                       interval: int | None) -> None:
        scope = self.owner.resolution.scopes[node]
        closure = self.closure_for(scope, node.span)
        probe = ops.ProbeDecl(len(self.module.probes), kind, node.span, scope.name,
                              eventdef, interval)  # type: ignore[arg-type]
        self.module.probes.append(probe)
        self.emit(ops.RegisterProbe(node.span, probe.id, closure))

    @stmt.register
    def _(self, node: ast.TraceEnd) -> None:
        scope = self.owner.resolution.scopes[node]
        self.emit(ops.RegisterTraceEnd(node.span, self.closure_for(scope, node.span)))

    def closure_for(self, scope: FunctionScope, span: Span) -> ops.Register:
        body = scope.node.body  # type: ignore[attr-defined]
        self.owner.lower_function(scope, body, [], False)
        cells = [self.vars[s] for s in self.owner.free.get(scope, [])]
        dest = self.temp("fn")
        self.emit(ops.MakeClosure(span, dest, scope.name, cells))
        return dest

    # -- expressions

    def expr(self, node: ast.Expr, name_hint: str | None = None) -> ops.Value:
        match node:
            case ast.Nil() | ast.Vararg():
                return NIL_CONST
            case ast.Bool(value=v):
                return const(v)
            case ast.Number(value=v):
                return const(v)
            case ast.String(value=v):
                return const(v)
            case ast.Paren(expr=inner):
                return self.expr(inner, name_hint)
            case ast.BuiltinVar(name=name):
                dest = self.temp(name)
                err = self.error_site(node.span, "invalid event context")
                self.emit(ops.Context(node.span, dest, name, err))
                return dest
            case ast.Name():
                return self.name(node)
            case ast.Index(obj=obj, key=key):
                library = self.library_member(node)
                if library is not None:
                    dest = self.temp()
                    self.emit(ops.LoadBuiltin(node.span, dest, library))
                    return dest
                table, k = self.expr(obj), self.expr(key)
                dest = self.temp()
                err = self.error_site(node.span, "table get on non-table value")
                self.emit(ops.TableGet(node.span, dest, table, k, err))
                return dest
            case ast.Call():
                return self.call(node, name_hint)
            case ast.MethodCall(obj=obj, method=method, args=args):
                target = self.expr(obj)
                fn = self.temp()
                err = self.error_site(node.span, "table get on non-table value")
                self.emit(ops.TableGet(node.span, fn, target, const(method.encode()), err))
                return self.call_value(node.span, fn, [target, *[self.expr(a) for a in args]])
            case ast.UnOp():
                return self.unop(node)
            case ast.BinOp():
                return self.binop(node)
            case ast.TableConstructor():
                return self.table_constructor(node, name_hint)
            case ast.FunctionExpr():
                return self.function_value(node, name_hint)
        raise NotImplementedError(type(node).__name__)

    def name(self, node: ast.Name) -> ops.Value:
        binding = self.owner.resolution.bindings.get(node)
        if isinstance(binding, Symbol):
            return self.load(binding, node.span)
        dest = self.temp()
        self.emit(ops.LoadBuiltin(node.span, dest, node.name))
        return dest

    def library_member(self, node: ast.Index) -> str | None:
        """`ansi.clear_screen` and friends: resolved statically, as ktap's libraries are fixed."""
        match node:
            case ast.Index(obj=ast.Name(name=lib) as obj, key=ast.String(value=member)) if (
                isinstance(self.owner.resolution.bindings.get(obj), BuiltinGlobal)
                and lib in builtins.LIBRARIES
            ):
                name = member.decode(errors="replace")
                if name not in builtins.LIBRARIES[lib]:
                    self.owner.sink.error(node.span, f"library '{lib}' has no function '{name}'")
                return f"{lib}.{name}"
        return None

    def call(self, node: ast.Call, name_hint: str | None) -> ops.Value:
        builtin: str | None = None
        match node.func:
            case ast.Name(name=name) as fn if isinstance(
                self.owner.resolution.bindings.get(fn), BuiltinGlobal
            ) and name in builtins.FUNCTIONS:
                builtin = name
            case ast.Index() as index:
                builtin = self.library_member(index)
        if builtin == "table.new":
            return self.new_table(node.span, name_hint, node.args)
        args = [self.expr(a) for a in node.args]
        if builtin is not None:
            dest = self.temp()
            err = self.error_site(node.span, f"wrong type of argument to '{builtin}'")
            self.emit(ops.CallBuiltin(node.span, dest, builtin, args, err))
            return dest
        return self.call_value(node.span, self.expr(node.func), args)

    def call_value(self, span: Span, callee: ops.Value, args: list[ops.Value]) -> ops.Value:
        dest = self.temp()
        err = self.error_site(span, "attempt to call nil function")
        self.emit(ops.Call(span, dest, callee, args, err))
        return dest

    def unop(self, node: ast.UnOp) -> ops.Value:
        if node.op == "-" and isinstance(node.operand, ast.Number) and node.operand.value != 0:
            return const(-node.operand.value if node.operand.value != -(1 << 63) else
                         node.operand.value)
        operand = self.expr(node.operand)
        dest = self.temp()
        if node.op == "!":
            self.emit(ops.Not(node.span, dest, operand))
        else:
            err = self.error_site(node.span, "use '-' operator on non-number")
            self.emit(ops.Negate(node.span, dest, operand, err))
        return dest

    def binop(self, node: ast.BinOp) -> ops.Value:
        if node.op in ("&&", "||"):
            return self.logical(node)
        if node.op == "^":
            self.owner.sink.error(node.span, "ktap don't support pow arith")
            return NIL_CONST
        left, right = self.expr(node.left), self.expr(node.right)
        dest = self.temp()
        if node.op in ARITH_OPS:
            message = {"/": "divide 0 arith operation", "%": "mod 0 arith operation"}.get(
                node.op, "Cannot make arith operation")
            err = self.error_site(node.span, message)
            self.emit(ops.Arith(node.span, dest, node.op, left, right, err))
        elif node.op in COMPARE_OPS:
            err = self.error_site(node.span, "compare with non-number")
            self.emit(ops.Compare(node.span, dest, node.op, left, right, err))
        else:
            err = self.error_site(node.span, "cannot concat non-string")
            self.emit(ops.Concat(node.span, dest, left, right, err))
        return dest

    def logical(self, node: ast.BinOp) -> ops.Value:
        """`a && b` / `a || b` with Lua value semantics: the result is an operand."""
        result = self.temp()
        left = self.expr(node.left)
        self.emit(ops.Move(node.span, result, left, join=True))
        rhs, done = self.b.new_block("rhs"), self.b.new_block("join")
        if node.op == "&&":
            self.b.terminate(ops.Branch(node.span, left, rhs, done))
        else:
            self.b.terminate(ops.Branch(node.span, left, done, rhs))
        self.b.position_at(rhs)
        self.emit(ops.Move(node.span, result, self.expr(node.right), join=True))
        self.jump(done, node.span)
        self.b.position_at(done)
        return result

    def new_table(self, span: Span, name_hint: str | None,
                  sizes: list[ast.Expr]) -> ops.Register:
        values = [self.expr(s) for s in sizes[:2]]
        narr = values[0] if values else None
        nrec = values[1] if len(values) > 1 else None
        site = len(self.module.tables)
        self.module.tables.append(
            ops.TableDecl(site, span, name_hint or f"table@{span.line}", ANY, ANY, False))
        dest = self.temp("t")
        err = self.error_site(span, "wrong type of argument to 'table.new'")
        self.emit(ops.NewTable(span, dest, site, narr, nrec, err))
        return dest

    def table_constructor(self, node: ast.TableConstructor,
                          name_hint: str | None) -> ops.Value:
        table = self.new_table(node.span, name_hint, [])
        position = 0
        for f in node.fields:
            if f.key is None:
                position += 1
                key: ops.Value = const(position)
            else:
                key = self.expr(f.key)
            value = self.expr(f.value)
            err = self.error_site(f.span, "table nil index")
            self.emit(ops.TableSet(f.span, table, key, value, err))
        return table

    def function_value(self, node: ast.FunctionExpr, name_hint: str | None) -> ops.Value:
        scope = self.owner.resolution.scopes[node]
        params = self.owner.resolution.params[node]
        self.owner.lower_function(scope, node.body, params, node.is_vararg)
        cells = [self.vars[s] for s in self.owner.free.get(scope, [])]
        dest = self.temp("fn")
        self.emit(ops.MakeClosure(node.span, dest, scope.name, cells))
        return dest


class Lowerer:
    def __init__(self, resolution: Resolution, sink: DiagnosticSink) -> None:
        self.resolution = resolution
        self.sink = sink
        self.free = free_symbols(resolution)
        self.module = ops.Module(main="main")

    def lower_function(self, scope: FunctionScope, body: ast.Block, params: list[Symbol],
                       is_vararg: bool) -> ops.Function:
        function = ops.Function(scope.name, scope.node.span, [], [], is_vararg=is_vararg)
        self.module.functions[scope.name] = function
        lowerer = _FunctionLowerer(self, scope, function)
        for symbol in params:
            incoming = ops.Register(f"{symbol.unique}.arg", ANY)
            function.params.append(incoming)
            if symbol.captured:
                lowerer.declare(symbol, incoming, symbol.span)
            else:
                lowerer.vars[symbol] = incoming
        lowerer.body(body)
        lowerer.finish(scope.node.span)
        return function


def lower(chunk: ast.Chunk, resolution: Resolution, sink: DiagnosticSink) -> ops.Module:
    lowerer = Lowerer(resolution, sink)
    assert resolution.main is not None
    lowerer.lower_function(resolution.main, chunk.body, [], True)
    return lowerer.module

