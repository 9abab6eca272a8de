"""A stable, readable s-expression dump of the AST: one top-level statement per line.

Shapes: expressions are `nil`, `true`, `42`, `"str"`, `...`, names and built-in variables bare,
`(+ a b)`, `(- x)`, `(paren e)`, `(index t k)`, `(call f args...)`, `(method o m args...)`,
`(table item (= key value)...)`, `(function [name] (params) {body})`; blocks are `{stmt ...}`;
statements are `(local (names) (values))`, `(= (targets) (values))`, `(+= target value)`, a call
dumped as its expression, `(if cond {..} elseif cond {..} else {..})`, `(while cond {..})`,
`(for i start limit [step] {..})`, `(for-in (names) (exprs) {..})`, `(repeat {..} cond)`,
`(do {..})`, `(return values...)`, `(break)`, `(label name)`, `(trace "eventdef" {..})`,
`(trace_end {..})` and `(tick "1s" {..})` / `(profile "10us" {..})`.
"""

from __future__ import annotations

from frontend import ast


def dump(chunk: ast.Chunk) -> str:
    """The top-level statements, one per line, without a final newline."""
    return "\n".join(_stmt(stmt) for stmt in chunk.body.stmts)


def dump_bytes(value: bytes) -> str:
    """`value` in double quotes with Python's escapes for bytes."""
    out = []
    for byte in value:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif char in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[char])
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\x{byte:02x}")
    return '"' + "".join(out) + '"'


_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _raw_text(text: str) -> str:
    """Source text kept raw (event definitions, timer intervals), quoted like a string."""
    return dump_bytes(text.encode("utf-8", "surrogatepass"))


def _list(items: list[str]) -> str:
    return "(" + " ".join(items) + ")"


def _form(head: str, *parts: str) -> str:
    return "(" + " ".join((head, *parts)) + ")"


def _block(block: ast.Block) -> str:
    return "{" + " ".join(_stmt(stmt) for stmt in block.stmts) + "}"


def _exprs(exprs: list[ast.Expr]) -> list[str]:
    return [_expr(expr) for expr in exprs]


def _function(func: ast.FunctionExpr) -> str:
    params = func.params + (["..."] if func.is_vararg else [])
    name = [func.name] if func.name is not None else []
    return _form("function", *name, _list(params), _block(func.body))


def _expr(node: ast.Expr) -> str:
    match node:
        case ast.Nil():
            return "nil"
        case ast.Bool(value=value):
            return "true" if value else "false"
        case ast.Number(value=value):
            return str(value)
        case ast.String(value=value):
            return dump_bytes(value)
        case ast.Vararg():
            return "..."
        case ast.BuiltinVar(name=name) | ast.Name(name=name):
            return name
        case ast.Index(obj=obj, key=key):
            return _form("index", _expr(obj), _expr(key))
        case ast.Call(func=func, args=args):
            return _form("call", _expr(func), *_exprs(args))
        case ast.MethodCall(obj=obj, method=method, args=args):
            return _form("method", _expr(obj), method, *_exprs(args))
        case ast.BinOp(op=op, left=left, right=right):
            return _form(op, _expr(left), _expr(right))
        case ast.UnOp(op=op, operand=operand):
            return _form(op, _expr(operand))
        case ast.Paren(expr=expr):
            return _form("paren", _expr(expr))
        case ast.TableConstructor(fields=fields):
            items = [
                _expr(f.value) if f.key is None else _form("=", _expr(f.key), _expr(f.value))
                for f in fields
            ]
            return _form("table", *items)
        case ast.FunctionExpr():
            return _function(node)
    raise TypeError(f"not an expression node: {type(node).__name__}")


def _stmt(node: ast.Stmt) -> str:
    match node:
        case ast.Local(names=names, values=values):
            return _form("local", _list(names), _list(_exprs(values)))
        case ast.Assign(targets=targets, values=values):
            return _form("=", _list(_exprs(targets)), _list(_exprs(values)))
        case ast.AddAssign(target=target, value=value):
            return _form("+=", _expr(target), _expr(value))
        case ast.CallStmt(call=call):
            return _expr(call)
        case ast.If(clauses=clauses, orelse=orelse):
            parts = []
            for i, clause in enumerate(clauses):
                if i:
                    parts.append("elseif")
                parts += [_expr(clause.cond), _block(clause.body)]
            if orelse is not None:
                parts += ["else", _block(orelse)]
            return _form("if", *parts)
        case ast.While(cond=cond, body=body):
            return _form("while", _expr(cond), _block(body))
        case ast.NumericFor(var=var, start=start, limit=limit, step=step, body=body):
            bounds = [start, limit] + ([step] if step is not None else [])
            return _form("for", var, *_exprs(bounds), _block(body))
        case ast.GenericFor(names=names, exprs=exprs, body=body):
            return _form("for-in", _list(names), _list(_exprs(exprs)), _block(body))
        case ast.Repeat(body=body, cond=cond):
            return _form("repeat", _block(body), _expr(cond))
        case ast.Do(body=body):
            return _form("do", _block(body))
        case ast.FunctionStmt(func=func):
            return _function(func)
        case ast.Return(values=values):
            return _form("return", *_exprs(values))
        case ast.Break():
            return "(break)"
        case ast.Label(name=name):
            return _form("label", name)
        case ast.Trace(eventdef=eventdef, body=body):
            return _form("trace", _raw_text(eventdef), _block(body))
        case ast.TraceEnd(body=body):
            return _form("trace_end", _block(body))
        case ast.Timer(kind=kind, interval=interval, body=body):
            return _form(kind, _raw_text(interval), _block(body))
    raise TypeError(f"not a statement node: {type(node).__name__}")
