"""The ktap lexer: source text to lark tokens, collecting every lexical error.

Why hand-written rather than lark's own lexer: ktap's lexing is not regular in three places —
`trace` is followed by raw EVENTDEF text up to the first `{` and `tick-`/`profile-` by raw
interval text, long brackets `[==[ ... ]==]` must match their level, and each bad escape inside a
string is its own error. Lexing also has to go on after an error so that all lexical errors are
reported in one run. Everything regular is still done with one regular expression per step.

Token values are lark `Token`s (str subclasses). A STRING token's value is the decoded byte
string mapped 1:1 onto code points 0-255 (`bytes.decode("latin-1")`), so that any byte value
survives; to_ast turns it back with `.encode("latin-1")`. A NUMBER token's value is the decimal
text of the already wrapped int64 value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lark import Token

from frontend.ast import BUILTIN_VARIABLES
from frontend.diagnostics import Span
from frontend.literals import bounded_int

# Reserved words and the terminal names of frontend/ktap.lark. GOTO, THEN and FFI are reserved
# but no rule uses them, so they are always syntax errors.
KEYWORDS: dict[str, str] = {
    word: word.upper()
    for word in (
        "break do else elseif end false for function goto if in nil profile repeat return then "
        "tick trace trace_end true until var while ffi"
    ).split()
}
KEYWORDS.update({name: "BUILTIN" for name in BUILTIN_VARIABLES})

PUNCTUATION: dict[str, str] = {
    "...": "ELLIPSIS",
    "..": "DOTDOT",
    "::": "DCOLON",
    "==": "EQ",
    "!=": "NE",
    "<=": "LE",
    ">=": "GE",
    "&&": "ANDAND",
    "||": "OROR",
    "+=": "PLUSEQ",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "SLASH",
    "%": "PERCENT",
    "^": "CARET",
    "<": "LT",
    ">": "GT",
    "!": "BANG",
    "=": "ASSIGN",
    "(": "LPAR",
    ")": "RPAR",
    "{": "LBRACE",
    "}": "RBRACE",
    "[": "LSQB",
    "]": "RSQB",
    ";": "SEMI",
    ",": "COMMA",
    ".": "DOT",
    ":": "COLON",
    # Lexed so that the error is "unexpected '&'" like ktap's, but no rule uses them.
    "&": "AMP",
    "|": "PIPE",
}


# What `surrogateescape` decoding makes of the bytes of a script that are not UTF-8.
_RAW_BYTES = "\udc80-\udcff"
_RAW_BYTE_RE = re.compile(f"[{_RAW_BYTES}]")


def _plus_non_ascii(ascii_class: str) -> str:
    """A class of the ASCII characters in `ascii_class` (a class body) and of every
    non-ASCII character but raw bytes, written as a negated class: the same set as
    `[...\u0080-\U0010ffff]`, which sre takes ~3 ms per class to compile (at every start)."""
    allowed = re.compile(f"[{ascii_class}]")
    others = "".join(f"\\x{c:02x}" for c in range(128) if not allowed.match(chr(c)))
    return f"[^{others}{_RAW_BYTES}]"


_IDENT = _plus_non_ascii("A-Za-z0-9_")
_NUMBER_CHAR = _plus_non_ascii(".A-Za-z0-9_")
_NAME_START = _plus_non_ascii("A-Za-z_")

# One step of the scanner; the first matching alternative wins, so longer operators come first.
_TOKEN_RE = re.compile(
    r"""
    (?P<newline>\r\n|\n|\r)
  | (?P<space>[ \t\v\f]+)
  | (?P<hash_comment>\#[^\r\n]*)
  | (?P<dash_comment>--)
  | (?P<long_open>\[=*\[)
  | (?P<bad_long_open>\[=+)
  | (?P<number>0[xX](?:[pP][+-]|NUMBER_CHAR)*|(?:[0-9]|\.[0-9])(?:[eE][+-]|NUMBER_CHAR)*)
  | (?P<name>NAME_START IDENT*)
  | (?P<quote>["'])
  | (?P<punct>\.\.\.|\.\.|::|==|!=|<=|>=|&&|\|\||\+=|[-+*/%^<>!=(){}\[\];,.:&|])
    """.replace("NUMBER_CHAR", _NUMBER_CHAR).replace("NAME_START ", _NAME_START)
    .replace("IDENT", _IDENT),
    re.VERBOSE,
)
_DECIMAL_RE = re.compile(r"[1-9][0-9]*")
_OCTAL_RE = re.compile(r"0[0-7]*")
_HEX_RE = re.compile(r"0[xX][0-9A-Fa-f]+")
_NEWLINE_RE = re.compile(r"\r\n|\n|\r")
_LONG_OPEN_RE = re.compile(r"\[=*\[")
_TIMER_DASH_RE = re.compile(r"[ \t]*-")
_SPACES_RE = re.compile(r"[ \t\n\r\v\f]*")
_HEX2_RE = re.compile(r"[0-9A-Fa-f]{2}")
_DEC3_RE = re.compile(r"[0-9]{1,3}")
_SIMPLE_ESCAPES = {
    "a": b"\a",
    "b": b"\b",
    "f": b"\f",
    "n": b"\n",
    "r": b"\r",
    "t": b"\t",
    "v": b"\v",
    "\\": b"\\",
    '"': b'"',
    "'": b"'",
}
_ULONG_MAX = 2**64 - 1
_SHOWN_DIGITS = 30  # of a number in a message


def ktap_number(text: str) -> int:
    """ktap's `strtoul(text, 0)` cast to long (so values past LONG_MAX wrap to negative).

    Raises ValueError, with the message to show, if `text` is not entirely a number or its
    value does not fit in 64 bits: ktap's strtoul silently saturated those to -1.
    """
    if _HEX_RE.fullmatch(text):
        value = bounded_int(text[2:], 16)
    elif _OCTAL_RE.fullmatch(text):
        value = bounded_int(text, 8)
    elif _DECIMAL_RE.fullmatch(text):
        value = bounded_int(text, 10)
    else:
        raise ValueError(f"malformed number '{text}'")
    if value > _ULONG_MAX:
        shown = text if len(text) <= _SHOWN_DIGITS else text[:_SHOWN_DIGITS] + "..."
        raise ValueError(f"number out of range '{shown}': numbers are 64-bit")
    return value - 2**64 if value >= 2**63 else value


@dataclass
class LexError:
    """One lexical error; lexing goes on after it so that all are reported at once."""

    span: Span
    message: str


@dataclass
class LexResult:
    """What `lex` returns: the tokens for the parser and every lexical error found."""

    tokens: list[Token]
    eof: Token  # lark's '$END', positioned just after the last character
    errors: list[LexError] = field(default_factory=list)


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0  # offset of the first character of `self.line`
        self.tokens: list[Token] = []
        self.errors: list[LexError] = []

    # -------------------------------------------------------------- positions

    def col(self, pos: int) -> int:
        return pos - self.line_start + 1

    def advance_to(self, pos: int) -> None:
        """Move to `pos`, counting the newlines passed over."""
        for match in _NEWLINE_RE.finditer(self.text, self.pos, pos):
            self.line += 1
            self.line_start = match.end()
        self.pos = pos

    def span_from(self, line: int, col: int) -> Span:
        return Span(line, col, self.line, self.col(self.pos))

    def char_span(self, start: int, line: int, col: int, at: int) -> Span:
        """The span of the character at `at`, given that `start` is at (line, col)."""
        line_start = start - col + 1
        for match in _NEWLINE_RE.finditer(self.text, start, at):
            line, line_start = line + 1, match.end()
        column = at - line_start + 1
        return Span(line, column, line, column + 1)

    def error(self, span: Span, message: str) -> None:
        self.errors.append(LexError(span, message))

    def emit(self, kind: str, value: str, start: int, line: int, col: int) -> None:
        self.tokens.append(
            Token(kind, value, start, line, col, self.line, self.col(self.pos), self.pos)
        )

    # -------------------------------------------------------------- the main loop

    def run(self) -> LexResult:
        if self.text.startswith("\ufeff"):
            self.pos = self.line_start = 1
        if self.text.startswith("#", self.pos):
            self.skip_line()
        while self.pos < len(self.text):
            self.step()
        eof = Token(
            "$END",
            "",
            self.pos,
            self.line,
            self.col(self.pos),
            self.line,
            self.col(self.pos),
            self.pos,
        )
        return LexResult(self.tokens, eof, self.errors)

    def skip_line(self) -> None:
        end = _NEWLINE_RE.search(self.text, self.pos)
        self.pos = end.start() if end else len(self.text)

    def step(self) -> None:
        start, line, col = self.pos, self.line, self.col(self.pos)
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:
            self.pos += 1
            self.error(self.span_from(line, col), _unexpected(self.text[start]))
            return
        kind, text = match.lastgroup, match.group()
        if kind == "dash_comment":
            self.pos = match.end()
            self.dash_comment(line, col)
        elif kind == "long_open":
            self.advance_to(match.end())
            body = self.long_bracket(len(text) - 2, line, col, "long string")
            self.emit("STRING", _utf8(body).decode("latin-1"), start, line, col)
        elif kind == "bad_long_open":
            self.advance_to(match.end())
            self.error(self.span_from(line, col), "invalid long string delimiter")
        elif kind == "number":
            self.advance_to(match.end())
            try:
                value = ktap_number(text)
            except ValueError as error:
                self.error(self.span_from(line, col), str(error))
                value = 0
            self.emit("NUMBER", str(value), start, line, col)
        elif kind == "name":
            self.advance_to(match.end())
            self.emit(KEYWORDS.get(text, "NAME"), text, start, line, col)
            if text == "trace":
                self.raw_text("EVENTDEF", "event definition")
            elif text in ("tick", "profile"):
                self.timer_interval()
        elif kind == "quote":
            self.advance_to(match.end())
            self.quoted_string(text, start, line, col)
        elif kind == "punct":
            self.advance_to(match.end())
            self.emit(PUNCTUATION[text], text, start, line, col)
        else:  # newline, space, hash_comment
            self.advance_to(match.end())

    # -------------------------------------------------------------- comments and long brackets

    def dash_comment(self, line: int, col: int) -> None:
        long_open = _LONG_OPEN_RE.match(self.text, self.pos)
        if long_open:
            self.advance_to(long_open.end())
            self.long_bracket(len(long_open.group()) - 2, line, col, "long comment")
        else:
            self.skip_line()

    def long_bracket(self, level: int, line: int, col: int, what: str) -> str:
        """The body of a long bracket whose opener ends at `self.pos`; moves past its closer."""
        closer = "]" + "=" * level + "]"
        end = self.text.find(closer, self.pos)
        if end < 0:
            opener_span = self.span_from(line, col)
            self.advance_to(len(self.text))
            self.error(opener_span, f"unfinished {what}")
            return ""
        body = self.text[self.pos : end]
        # A newline right after the opening bracket is not part of the string.
        first_newline = _NEWLINE_RE.match(body)
        if first_newline:
            body = body[first_newline.end() :]
        self.advance_to(end + len(closer))
        return body

    # -------------------------------------------------------------- raw text after keywords

    def raw_text(self, kind: str, what: str) -> None:
        """ktap's raw token: every character up to the first `{`, stripped of whitespace."""
        brace = self.text.find("{", self.pos)
        end = brace if brace >= 0 else len(self.text)
        raw = self.text[self.pos : end]
        self.advance_to(self.pos + len(raw) - len(raw.lstrip()))
        start, line, col = self.pos, self.line, self.col(self.pos)
        self.advance_to(self.pos + len(raw.strip()))
        if self.pos == start:
            self.error(Span(line, col, line, col + 1), f"missing {what}")
        raw_byte = _RAW_BYTE_RE.search(self.text, start, self.pos)
        if raw_byte is not None:
            span = self.char_span(start, line, col, raw_byte.start())
            self.error(span, _unexpected(raw_byte.group()))
        self.emit(kind, self.text[start : self.pos], start, line, col)
        self.advance_to(end)

    def timer_interval(self) -> None:
        dash = _TIMER_DASH_RE.match(self.text, self.pos)
        if dash is None:
            return  # the parser reports the missing '-'
        self.advance_to(dash.end() - 1)
        start, line, col = self.pos, self.line, self.col(self.pos)
        self.advance_to(dash.end())
        self.emit("MINUS", "-", start, line, col)
        self.raw_text("INTERVAL", "timer interval")

    # -------------------------------------------------------------- quoted strings

    def quoted_string(self, quote: str, start: int, line: int, col: int) -> None:
        text = self.text
        out = bytearray()
        while True:
            if self.pos >= len(text) or text[self.pos] in "\r\n":
                self.error(self.span_from(line, col), "unfinished string")
                break
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                break
            if char == "\\":
                out += self.escape()
            else:
                out += _utf8(char)
                self.pos += 1
        self.emit("STRING", out.decode("latin-1"), start, line, col)

    def escape(self) -> bytes:
        """Decode the escape sequence at `self.pos` (a backslash); report a bad one."""
        text, start, line, col = self.text, self.pos, self.line, self.col(self.pos)
        char = text[start + 1 : start + 2]
        if char == "":
            self.pos = start + 1
            return b""  # the caller reports the unfinished string
        if char in _SIMPLE_ESCAPES:
            self.pos = start + 2
            return _SIMPLE_ESCAPES[char]
        if char in "\r\n":
            self.advance_to(_match_at(_NEWLINE_RE, text, start + 1).end())
            return b"\n"
        if char == "z":
            self.advance_to(_match_at(_SPACES_RE, text, start + 2).end())
            return b""
        value: int | None = None
        end = start + 2
        if char == "x":
            digits = _HEX2_RE.match(text, start + 2)
            if digits:
                end, value = digits.end(), int(digits.group(), 16)
        elif char in "0123456789":
            digits = _match_at(_DEC3_RE, text, start + 1)
            end, value = digits.end(), int(digits.group())
        self.pos = end
        if value is None or value > 255:
            self.error(
                Span(line, col, line, col + end - start),
                f"invalid escape sequence '{text[start:end]}'",
            )
            return b""
        return bytes([value])


def _match_at(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    """`pattern` at `pos`, where the character already seen guarantees that it matches."""
    match = pattern.match(text, pos)
    assert match is not None, (pattern.pattern, pos)
    return match


def _unexpected(char: str) -> str:
    if _RAW_BYTE_RE.match(char):
        # Raw bytes are kept inside strings (ktap strings are bytes) and ignored in comments.
        byte = ord(char) - 0xDC00
        return f"byte 0x{byte:02x} is not UTF-8 text; outside a string, write text as UTF-8"
    return f"unexpected character {char!r}"


def _utf8(text: str) -> bytes:
    # Bytes a caller decoded with "surrogateescape" come back unchanged; any other lone
    # surrogate is still encodable rather than an exception.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def lex(text: str) -> LexResult:
    """Split `text` into tokens; never raises, errors are collected in the result."""
    return _Scanner(text).run()
