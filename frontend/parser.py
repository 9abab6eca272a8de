"""Parse a ktap script into a frontend.ast.Chunk, reporting every problem to a DiagnosticSink.

The lexer (frontend/lexer.py) runs first and reports all lexical errors; the tokens are then fed
one by one to lark's interactive LALR parser, which lets the first syntax error be described in
ktap's terms (the token found, what the parser could accept there, the bracket left open).
Parsing stops at the first syntax error: LALR recovery tends to produce follow-on errors that
only confuse.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken

from frontend import ast
from frontend.lexer import KEYWORDS, PUNCTUATION, lex
from frontend.to_ast import AstBuilder, token_span
from kllvm.diagnostics import NO_SPAN, DiagnosticSink, Source, Span

# ktap's LJ_MAX_XLEVEL: deeper nesting is "chunk has too many syntax levels".
MAX_SYNTAX_LEVELS = 200

_TERMINAL_NAMES = {
    "$END": "end of file",
    "NAME": "identifier",
    "NUMBER": "number",
    "STRING": "string",
    "BUILTIN": "built-in variable",
    "EVENTDEF": "event definition",
    "INTERVAL": "timer interval",
}
_TERMINAL_TEXT = {name: text for text, name in {**KEYWORDS, **PUNCTUATION}.items()}

# Terminals that could only extend the expression before the error; listing them ("expected
# '+', '..', '[' ...") would hide the one the user most likely forgot.
_CONTINUATIONS = frozenset(
    "OROR ANDAND EQ NE LT LE GT GE DOTDOT PLUS MINUS STAR SLASH PERCENT CARET "
    "LSQB DOT COLON LPAR LBRACE STRING".split()
)
_CLOSERS = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE"}
_MAX_LISTED = 3
# What may follow `return explist`: exactly the tokens that can end a block.
_AFTER_RETURN = frozenset({"$END", "END", "RBRACE", "SEMI", "UNTIL"})


@functools.cache
def _lark() -> Lark:
    grammar = Path(__file__).with_name("ktap.lark").read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", lexer="basic", propagate_positions=True)


def parse(source: Source, sink: DiagnosticSink) -> ast.Chunk | None:
    """The AST of `source`, or None after recording at least one error in `sink`. Never raises."""
    errors_before = len(sink.diagnostics)
    try:
        chunk = _parse(source, sink)
    except Exception as exc:  # noqa: BLE001 - the contract is a diagnostic, never a traceback
        sink.error(NO_SPAN, f"internal error in the parser: {type(exc).__name__}: {exc}")
        return None
    if any(d.severity == "error" for d in sink.diagnostics[errors_before:]):
        return None
    return chunk


def _parse(source: Source, sink: DiagnosticSink) -> ast.Chunk | None:
    lexed = lex(source.text)
    for error in lexed.errors:
        sink.error(error.span, error.message)
    if lexed.errors:
        return None
    tree = _SyntaxChecker(source, sink, lexed.tokens, lexed.eof).run()
    if tree is None:
        return None
    chunk_span = Span(1, 1, lexed.eof.line, lexed.eof.column)
    chunk = AstBuilder(sink, chunk_span).transform(tree)
    _check_nesting(chunk, sink)
    return chunk


class _SyntaxChecker:
    """Feeds the tokens to the LALR parser and turns its first complaint into a diagnostic."""

    def __init__(
        self, source: Source, sink: DiagnosticSink, tokens: list[Token], eof: Token
    ) -> None:
        self.source = source
        self.sink = sink
        self.tokens = tokens
        self.eof = eof
        self.open_brackets: list[Token] = []

    def run(self) -> Tree | None:
        parser = _lark().parse_interactive()
        for i, token in enumerate(self.tokens):
            following = self.tokens[i + 1] if i + 1 < len(self.tokens) else self.eof
            misuse = _builtin_misuse(token, following)
            if misuse is not None:
                # ktap rejects these too, but only at a later token and in general terms.
                self.sink.error(token_span(token), misuse)
                return None
            try:
                parser.feed_token(token)
            except UnexpectedToken as exc:
                self._report(token, exc.expected)
                return None
            self._track_brackets(token)
        try:
            return parser.feed_token(self.eof)
        except UnexpectedToken as exc:
            self._report(self.eof, exc.expected)
            return None

    def _track_brackets(self, token: Token) -> None:
        if token.type in _CLOSERS:
            self.open_brackets.append(token)
        elif token.type in _CLOSERS.values() and self.open_brackets:
            self.open_brackets.pop()

    def _report(self, token: Token, expected: set[str]) -> None:
        if token.type == "$END":
            # Point just after the last token: the end of the file may be far below it.
            last = self.tokens[-1] if self.tokens else token
            line, col = last.end_line, last.end_column
            span = Span(line, col, line, col + 1)
        else:
            span = token_span(token)
        message = f"unexpected {self._describe(token)}"
        wanted = {name for name in expected if name not in _CONTINUATIONS} or set(expected)
        closer = _CLOSERS[self.open_brackets[-1].type] if self.open_brackets else None
        if wanted <= _AFTER_RETURN:
            message += ": 'return' must be the last statement of its block"
        elif 0 < len(wanted) <= _MAX_LISTED:
            message += ", expected " + _one_of(sorted(_terminal(name) for name in wanted))
        elif closer in wanted:
            opener = self.open_brackets[-1]
            message += f", expected {_terminal(closer)}"
            if opener.line != span.line:
                message += f" to close '{opener}' at line {opener.line}"
        elif "NUMBER" in wanted:  # no statement starts with a number: only an expression fits
            message += ", expected expression"
        self.sink.error(span, message)

    def _describe(self, token: Token) -> str:
        kind = token.type
        if kind == "NAME":
            return f"identifier '{token}'"
        if kind == "NUMBER":
            return f"number '{self.source.text[token.start_pos:token.end_pos]}'"
        if kind in ("STRING", "EVENTDEF", "INTERVAL", "$END"):
            return _TERMINAL_NAMES[kind]
        return f"'{token}'"  # keywords, built-in variables and punctuation


def _builtin_misuse(token: Token, following: Token) -> str | None:
    if token.type != "BUILTIN":
        return None
    if following.type == "LPAR" and following.line == token.end_line:
        what = "called"
    elif following.type in ("LSQB", "DOT", "COLON"):
        what = "indexed"
    elif following.type in ("ASSIGN", "PLUSEQ"):
        what = "assigned"
    else:
        return None
    return f"built-in variable '{token}' cannot be {what}"


def _terminal(name: str) -> str:
    if name in _TERMINAL_NAMES:
        return _TERMINAL_NAMES[name]
    return f"'{_TERMINAL_TEXT.get(name, name)}'"


def _one_of(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


def _check_nesting(chunk: ast.Chunk, sink: DiagnosticSink) -> None:
    """Report the first construct nested deeper than MAX_SYNTAX_LEVELS.

    Levels approximate ktap's count: a chain `a + b + c` (the left operand of a binary
    operator being another) is one level, and blocks, if-clauses and table fields, which ktap
    does not count separately from the statement around them, add nothing. Iterative, because
    the point is to stop input too deep for the recursive passes that follow.
    """
    stack: list[tuple[ast.Node, int]] = [(chunk, 0)]
    while stack:
        node, level = stack.pop()
        if level > MAX_SYNTAX_LEVELS:
            sink.error(node.span, "chunk has too many syntax levels")
            return
        for child in _children(node):
            flat = isinstance(child, ast.Block | ast.IfClause | ast.TableField) or (
                isinstance(node, ast.BinOp) and child is node.left
            )
            stack.append((child, level if flat else level + 1))


def _children(node: ast.Node) -> list[ast.Node]:
    children: list[ast.Node] = []
    for field in dataclasses.fields(node):
        value = getattr(node, field.name)
        if isinstance(value, ast.Node):
            children.append(value)
        elif isinstance(value, list):
            children.extend(item for item in value if isinstance(item, ast.Node))
    return children
