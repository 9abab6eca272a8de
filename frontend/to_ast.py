"""Turn lark's parse tree (frontend/ktap.lark) into frontend/ast.py nodes.

The only syntax check made here is Lua's "ambiguous syntax": it needs the line of a call's `(`
and of the end of its callee, which the LALR grammar cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token, Transformer_NonRecursive, v_args
from lark.tree import Meta

from frontend import ast
from frontend.diagnostics import NO_SPAN, DiagnosticSink, Span

# The children lark passes to a rule's method: tokens and what the methods of its subrules
# returned, in the order of frontend/ktap.lark. Their types follow from the grammar, which
# a type checker cannot read.
_Children = list[Any]


def meta_span(meta: Meta) -> Span:
    if meta.empty:
        return NO_SPAN
    return Span(meta.line, meta.column, meta.end_line, meta.end_column)


def token_start(token: Token) -> tuple[int, int]:
    """The line and column where a token of frontend/lexer.py starts. The lexer sets every
    position, which lark's Token types as optional."""
    line, column = token.line, token.column
    assert line is not None and column is not None, token
    return line, column


def token_end(token: Token) -> tuple[int, int]:
    """The line and column just after a token of frontend/lexer.py."""
    line, column = token.end_line, token.end_column
    assert line is not None and column is not None, token
    return line, column


def token_span(token: Token) -> Span:
    return Span(*token_start(token), *token_end(token))


def _name_bytes(token: Token) -> bytes:
    return str(token).encode("utf-8", "surrogatepass")


def _string(token: Token) -> ast.String:
    # The lexer maps each byte to the code point of the same value (see frontend/lexer.py).
    return ast.String(token_span(token), str(token).encode("latin-1"))


@dataclass
class _Args:
    """A call's arguments, and its `(` when they are parenthesised."""

    exprs: list[ast.Expr]
    lpar: Token | None


@dataclass
class _FuncBody:
    """`(params) { body }` of a function statement or expression, until it is a FunctionExpr."""

    params: list[str]
    is_vararg: bool
    body: ast.Block


@v_args(meta=True)
class AstBuilder(Transformer_NonRecursive[Token, ast.Chunk]):
    """Builds a Chunk. Non-recursive so that deeply nested input cannot exhaust Python's stack."""

    __visit_tokens__ = False

    def __init__(self, sink: DiagnosticSink, chunk_span: Span) -> None:
        super().__init__()
        self.sink = sink
        self.chunk_span = chunk_span

    # ---------------------------------------------------------- blocks and statements

    def start(self, meta: Meta, children: _Children) -> ast.Chunk:
        (block,) = children
        block.span = self.chunk_span
        return ast.Chunk(self.chunk_span, block)

    def block(self, meta: Meta, children: _Children) -> ast.Block:
        return ast.Block(meta_span(meta), [stmt for stmt in children if stmt is not None])

    def body(self, meta: Meta, children: list[ast.Block]) -> ast.Block:
        (block,) = children
        block.span = meta_span(meta)  # braces included, so never empty
        return block

    def retstat(self, meta: Meta, children: _Children) -> ast.Return:
        return ast.Return(meta_span(meta), children[0] if children else [])

    def empty_stat(self, meta: Meta, children: _Children) -> None:
        return None

    def if_clause(self, meta: Meta, children: _Children) -> ast.IfClause:
        cond, body = children
        return ast.IfClause(meta_span(meta), cond, body)

    elseif_clause = if_clause

    def else_clause(self, meta: Meta, children: list[ast.Block]) -> ast.Block:
        (body,) = children
        return body

    def if_stat(self, meta: Meta, children: _Children) -> ast.If:
        clauses = [child for child in children if isinstance(child, ast.IfClause)]
        orelse = children[-1] if isinstance(children[-1], ast.Block) else None
        return ast.If(meta_span(meta), clauses, orelse)

    def while_stat(self, meta: Meta, children: _Children) -> ast.While:
        cond, body = children
        return ast.While(meta_span(meta), cond, body)

    def numeric_for(self, meta: Meta, children: _Children) -> ast.NumericFor:
        var, start, limit, *step, body = children
        return ast.NumericFor(
            meta_span(meta),
            str(var),
            token_span(var),
            start,
            limit,
            step[0] if step else None,
            body,
        )

    def generic_for(self, meta: Meta, children: _Children) -> ast.GenericFor:
        names, exprs, body = children
        return ast.GenericFor(
            meta_span(meta), [str(n) for n in names], [token_span(n) for n in names], exprs, body
        )

    def repeat_stat(self, meta: Meta, children: _Children) -> ast.Repeat:
        body, cond = children
        span = meta_span(meta)
        if body.span is NO_SPAN:
            body.span = span
        return ast.Repeat(span, body, cond)

    def do_stat(self, meta: Meta, children: _Children) -> ast.Do:
        (body,) = children
        span = meta_span(meta)
        if body.span is NO_SPAN:
            body.span = span
        return ast.Do(span, body)

    def function_stat(self, meta: Meta, children: _Children) -> ast.FunctionStmt:
        name, funcbody = children
        span = meta_span(meta)
        func = ast.FunctionExpr(
            span, funcbody.params, funcbody.is_vararg, funcbody.body, name=str(name)
        )
        return ast.FunctionStmt(span, str(name), token_span(name), func)

    def local_stat(self, meta: Meta, children: _Children) -> ast.Local:
        names = children[0]
        values = children[1] if len(children) > 1 else []
        return ast.Local(
            meta_span(meta), [str(n) for n in names], [token_span(n) for n in names], values
        )

    def label_stat(self, meta: Meta, children: _Children) -> ast.Label:
        return ast.Label(meta_span(meta), str(children[0]))

    def break_stat(self, meta: Meta, children: _Children) -> ast.Break:
        return ast.Break(meta_span(meta))

    def trace_stat(self, meta: Meta, children: _Children) -> ast.Trace:
        eventdef, body = children
        return ast.Trace(meta_span(meta), str(eventdef), token_span(eventdef), body)

    def trace_end_stat(self, meta: Meta, children: _Children) -> ast.TraceEnd:
        (body,) = children
        return ast.TraceEnd(meta_span(meta), body)

    def timer_stat(self, meta: Meta, children: _Children) -> ast.Timer:
        kind, interval, body = children
        return ast.Timer(meta_span(meta), str(kind), str(interval), token_span(interval), body)

    def assign_stat(self, meta: Meta, children: _Children) -> ast.Assign:
        targets, values = children
        return ast.Assign(meta_span(meta), targets, values)

    def add_assign_stat(self, meta: Meta, children: _Children) -> ast.AddAssign:
        target, value = children
        return ast.AddAssign(meta_span(meta), target, value)

    def call_stat(self, meta: Meta, children: _Children) -> ast.CallStmt:
        return ast.CallStmt(meta_span(meta), children[0])

    def namelist(self, meta: Meta, children: _Children) -> list[Token]:
        return children

    def varlist(self, meta: Meta, children: _Children) -> list[ast.Expr]:
        return children

    def explist(self, meta: Meta, children: _Children) -> list[ast.Expr]:
        return children

    # ---------------------------------------------------------- prefix expressions

    def paren(self, meta: Meta, children: _Children) -> ast.Paren:
        return ast.Paren(meta_span(meta), children[0])

    def name(self, meta: Meta, children: _Children) -> ast.Name:
        return ast.Name(meta_span(meta), str(children[0]))

    def index(self, meta: Meta, children: _Children) -> ast.Index:
        obj, key = children
        return ast.Index(meta_span(meta), obj, key)

    def field(self, meta: Meta, children: _Children) -> ast.Index:
        obj, name = children
        return ast.Index(meta_span(meta), obj, ast.String(token_span(name), _name_bytes(name)))

    def call(self, meta: Meta, children: _Children) -> ast.Call:
        func, args = children
        self._check_ambiguous(func, args)
        return ast.Call(meta_span(meta), func, args.exprs)

    def method_call(self, meta: Meta, children: _Children) -> ast.MethodCall:
        obj, method, args = children
        self._check_ambiguous(method, args)
        return ast.MethodCall(meta_span(meta), obj, str(method), args.exprs)

    def _check_ambiguous(self, callee: ast.Expr | Token, args: _Args) -> None:
        # Lua's rule: `f` at the end of a line followed by `(g)` could be a call or a new
        # statement; the language refuses to guess.
        end_line = token_end(callee)[0] if isinstance(callee, Token) else callee.span.end_line
        if args.lpar is not None and token_start(args.lpar)[0] != end_line:
            self.sink.error(
                token_span(args.lpar), "ambiguous syntax (function call x new statement)"
            )

    def args(self, meta: Meta, children: _Children) -> _Args:
        if isinstance(children[0], Token):  # "(" explist? ")"
            return _Args(children[1] if len(children) > 1 else [], children[0])
        return _Args(children, None)  # a table constructor

    def string_args(self, meta: Meta, children: _Children) -> _Args:
        return _Args([_string(children[0])], None)

    # ---------------------------------------------------------- other expressions

    def binop(self, meta: Meta, children: _Children) -> ast.BinOp:
        left, op, right = children
        return ast.BinOp(meta_span(meta), str(op), left, right)

    def unop(self, meta: Meta, children: _Children) -> ast.UnOp:
        op, operand = children
        return ast.UnOp(meta_span(meta), str(op), operand)

    def nil(self, meta: Meta, children: _Children) -> ast.Nil:
        return ast.Nil(meta_span(meta))

    def true(self, meta: Meta, children: _Children) -> ast.Bool:
        return ast.Bool(meta_span(meta), True)

    def false(self, meta: Meta, children: _Children) -> ast.Bool:
        return ast.Bool(meta_span(meta), False)

    def number(self, meta: Meta, children: _Children) -> ast.Number:
        return ast.Number(meta_span(meta), int(children[0]))

    def string(self, meta: Meta, children: _Children) -> ast.String:
        return _string(children[0])

    def vararg(self, meta: Meta, children: _Children) -> ast.Vararg:
        return ast.Vararg(meta_span(meta))

    def builtin(self, meta: Meta, children: _Children) -> ast.BuiltinVar:
        return ast.BuiltinVar(meta_span(meta), str(children[0]))

    def function_exp(self, meta: Meta, children: _Children) -> ast.FunctionExpr:
        (funcbody,) = children
        return ast.FunctionExpr(meta_span(meta), funcbody.params, funcbody.is_vararg, funcbody.body)

    def funcbody(self, meta: Meta, children: _Children) -> _FuncBody:
        *parlist, body = children
        params, is_vararg = parlist[0] if parlist else ([], False)
        return _FuncBody(params, is_vararg, body)

    def parlist(self, meta: Meta, children: _Children) -> tuple[list[str], bool]:
        names = [str(tok) for tok in children if tok.type == "NAME"]
        return names, children[-1].type == "ELLIPSIS"

    def table_cons(self, meta: Meta, children: _Children) -> ast.TableConstructor:
        return ast.TableConstructor(meta_span(meta), children)

    def keyed_field(self, meta: Meta, children: _Children) -> ast.TableField:
        key, value = children
        return ast.TableField(meta_span(meta), key, value)

    def named_field(self, meta: Meta, children: _Children) -> ast.TableField:
        name, value = children
        key = ast.String(token_span(name), _name_bytes(name))
        return ast.TableField(meta_span(meta), key, value)

    def positional_field(self, meta: Meta, children: _Children) -> ast.TableField:
        return ast.TableField(meta_span(meta), None, children[0])
