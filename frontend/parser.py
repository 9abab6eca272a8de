"""Parse a ktap script into a frontend.ast.Chunk, reporting every problem to a DiagnosticSink.

The lexer (frontend/lexer.py) runs first and reports all lexical errors; the tokens are then fed
one by one to lark's interactive LALR parser, which lets a syntax error be described in ktap's
terms (the token found, what the parser could accept there, the bracket left open).

After a syntax error, checking resumes only where a new top-level statement surely starts: a
statement keyword first on its line with no bracket open, counted from the start of the file.
The rest is parsed afresh from there, to report further independent errors; anything less
certain (skipping tokens until the LALR state accepts one) mostly produces follow-on errors.
"""

from __future__ import annotations

import bisect
import functools

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedToken

from frontend import ast, parsetables
from frontend.diagnostics import NO_SPAN, DiagnosticSink, Source, Span
from frontend.lexer import KEYWORDS, PUNCTUATION, lex
from frontend.to_ast import AstBuilder, token_end, token_span, token_start

# ktap's LJ_MAX_XLEVEL: deeper nesting is "chunk has too many syntax levels".
MAX_SYNTAX_LEVELS = 200
_NESTING_HINT = (
    f"at most {MAX_SYNTAX_LEVELS} levels of nested blocks, calls, tables and operators; each "
    "operator of a chain like 'a + b + c' is a level: split the chain with a 'var'"
)

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
_CLOSER_OF = {"LPAR": "RPAR", "LSQB": "RSQB", "LBRACE": "RBRACE", "DO": "END", "REPEAT": "UNTIL"}
_MAX_LISTED = 3
# Tokens that can only start a statement (`function` may start an expression).
_STATEMENT_KEYWORDS = frozenset(
    "VAR TRACE TRACE_END TICK PROFILE IF WHILE FOR REPEAT DO DCOLON".split()
)
# What may follow `return explist`: the tokens that can end a block.
_AFTER_RETURN = frozenset({"$END", "END", "RBRACE", "SEMI", "UNTIL"})


@functools.cache
def _lark() -> Lark:
    # From the generated JSON tables (frontend/parsetables.py): never lark's pickle cache.
    return parsetables.load()


def parse(source: Source, sink: DiagnosticSink) -> ast.Chunk | None:
    """The AST of `source`, or None after recording at least one error in `sink`. Never raises."""
    errors_before = len(sink.diagnostics)
    try:
        chunk = _parse(source, sink)
    except Exception as exc:  # the contract is a diagnostic, never a traceback
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
    chunk_span = Span(1, 1, *token_start(lexed.eof))
    chunk = AstBuilder(sink, chunk_span).transform(tree)
    _check_nesting(chunk, sink)
    return chunk


class _SyntaxChecker:
    """Feeds the tokens to the LALR parser and turns its complaints into diagnostics."""

    def __init__(
        self, source: Source, sink: DiagnosticSink, tokens: list[Token], eof: Token
    ) -> None:
        self.source = source
        self.sink = sink
        self.tokens = tokens
        self.eof = eof
        self.open_brackets: list[Token] = []

    def run(self) -> Tree[Token] | None:
        """The parse tree, or None once every syntax error found has been reported."""
        tree, failed_at = self._parse_from(0)
        while failed_at is not None:
            restart = self._restart_point(failed_at)
            if restart is None:
                break
            _, failed_at = self._parse_from(restart)
        return tree

    def _parse_from(self, start: int) -> tuple[Tree[Token] | None, int | None]:
        """Parse tokens[start:] as a chunk: the tree, or the index of the token that failed."""
        parser = _lark().parse_interactive()
        self.open_brackets = []
        for i in range(start, len(self.tokens)):
            token = self.tokens[i]
            following = self.tokens[i + 1] if i + 1 < len(self.tokens) else self.eof
            misuse = _builtin_misuse(token, following)
            if misuse is not None:
                # ktap rejects these too, but only at a later token and in general terms.
                self.sink.error(token_span(token), misuse)
                return None, i
            try:
                parser.feed_token(token)
            except UnexpectedToken:
                self._report(start, i, self._acceptable(start, i))
                return None, i
            self._track_brackets(token)
        try:
            return parser.feed_token(self.eof), None
        except UnexpectedToken:
            end = len(self.tokens)
            self._report(start, end, self._acceptable(start, end))
            return None, len(self.tokens)

    def _acceptable(self, start: int, failed_at: int) -> set[str]:
        """The terminals the parser could have taken instead of tokens[failed_at].

        The set in lark's exception is LALR's: it belongs to the state reached after the
        reductions the bad token already triggered, and merged states add tokens that are
        valid elsewhere (after `(x)` it lists `{` and everything that may follow
        `until (x)`). Replaying up to the error and trying each terminal is exact.
        """
        parser = _lark().parse_interactive()
        for token in self.tokens[start:failed_at]:
            parser.feed_token(token)
        # lark 1.3.1 leaves InteractiveParser.accepts unannotated; it returns terminal names.
        accepts: set[str] = parser.accepts()  # type: ignore[no-untyped-call]
        return accepts

    def _restart_point(self, failed_at: int) -> int | None:
        points = self._restart_points
        after = bisect.bisect_right(points, failed_at)
        return points[after] if after < len(points) else None

    @functools.cached_property
    def _restart_points(self) -> list[int]:
        """Where a new top-level statement surely starts: a statement keyword first on its
        line with no bracket open, counted from the start of the file (found once, not at
        each error)."""
        points = []
        depth = 0
        for i, token in enumerate(self.tokens):
            if (
                i > 0
                and depth == 0
                and token.type in _STATEMENT_KEYWORDS
                and token_start(token)[0] > token_end(self.tokens[i - 1])[0]
            ):
                points.append(i)
            if token.type in _CLOSER_OF:
                depth += 1
            elif token.type in _CLOSER_OF.values():
                depth = max(depth - 1, 0)
        return points

    def _track_brackets(self, token: Token) -> None:
        if token.type in _CLOSER_OF:
            self.open_brackets.append(token)
        elif token.type in _CLOSER_OF.values() and self.open_brackets:
            self.open_brackets.pop()

    def _report(self, start: int, failed_at: int, expected: set[str]) -> None:
        token = self.tokens[failed_at] if failed_at < len(self.tokens) else self.eof
        if token.type == "$END":
            # Point just after the last token: the end of the file may be far below it.
            last = self.tokens[-1] if self.tokens else token
            line, col = token_end(last)
            span = Span(line, col, line, col + 1)
        else:
            span = token_span(token)
        message = f"unexpected {self._describe(token)}"
        wanted = {name for name in expected if name not in _CONTINUATIONS} or set(expected)
        closer = _CLOSER_OF[self.open_brackets[-1].type] if self.open_brackets else None
        if token.type not in _AFTER_RETURN and self._follows_return(start, failed_at):
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

    def _follows_return(self, start: int, failed_at: int) -> bool:
        """Whether tokens[failed_at] comes after a `return` of the same block, looking no
        further back than `start`, where this parse began (each error would otherwise
        rescan the file: quadratic time in the number of errors)."""
        depth = 0
        for earlier in reversed(self.tokens[start:failed_at]):
            if earlier.type == "RETURN" and depth == 0:
                return True
            if earlier.type in _CLOSER_OF.values():
                depth += 1
            elif earlier.type in _CLOSER_OF:
                if depth == 0:
                    return False
                depth -= 1
        return False

    def _describe(self, token: Token) -> str:
        kind = token.type
        if kind == "NAME":
            return f"identifier '{token}'"
        if kind == "NUMBER":
            return f"number '{self.source.text[token.start_pos : token.end_pos]}'"
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

    Every expression and statement inside another counts as a level (blocks, if-clauses and
    table fields add nothing to the statement or constructor around them). That is stricter
    than ktap for long operator or call chains (`a + b + c ...`), which ktap parses in a loop,
    but it bounds the depth of every tree the recursive passes after the parser walk. This
    check itself is iterative.
    """
    stack: list[tuple[ast.Node, int]] = [(chunk, 0)]
    while stack:
        node, level = stack.pop()
        if level > MAX_SYNTAX_LEVELS:
            sink.error(node.span, "chunk has too many syntax levels", hints=(_NESTING_HINT,))
            return
        for child in ast.children(node):
            flat = isinstance(child, ast.Block | ast.IfClause | ast.TableField)
            stack.append((child, level if flat else level + 1))
