"""The raw text after `trace` (EVENTDEF) and after `tick-`/`profile-` (the interval).

The parser hands over the text (stripped) and the span where it starts; this module
turns it into probe specs and a filter AST, reporting errors with spans that point
inside the text, across lines if the text spans several.

Grammar (Part B §3.1, Part A §12):

    eventdef ::= evdef { ',' evdef }
    evdef    ::= SYS ':' EVENT [ FETCHARG... ] [ '/' FILTER '/' ]
    FILTER   ::= or;  or ::= and { '||' and };  and ::= term { '&&' term }
    term     ::= '(' or ')' | FIELD OP VALUE      OP ::= == != < <= > >=

Decisions:

* Forms: `probe:SYM[%return]` is a kprobe; `probe:/PATH:SYM[%return]` a uprobe (the
  event part starts with `/`); `sdt:/PATH:NAME` a USDT marker; `ftrace:function` the
  function tracer; any other `SYS:EVENT` a tracepoint. ktap also took a relative
  binary path (`probe:lib.so:f`); kllvm asks for an absolute one, since the kernel
  resolves uprobe paths without the script's working directory.
* A uprobe target that starts with a digit is a file offset, read as C's `strtol(s, 0)`
  would (`0x773c0`, `0755` octal). ktap read any leading number, so `12abc` was offset
  12; here it is an error.
* Fetch arguments (`name=%di`, `+4($stack)`, `$retval`) are kept verbatim for the kernel's
  kprobe syntax; only `NAME=` is checked, and `$retval` outside a return probe is
  rejected early. Tokens are split on white space and a `/` starts the filter, so
  bitfield types (`b4@3/32`) are not supported.
* One filter, after the last event, applies to every event. The filter ends at the
  first `/` (outside quotes) that is followed only by white space, a `,` or the end; a
  `/` inside it is part of a value (`/filename == /etc/passwd/`).
* Filter values: an unquoted C integer literal (decimal, `0x` hex, leading-`0` octal as
  the kernel's `kstrtoll(s, 0)`, optionally negative) is an `int`; anything else,
  quoted (`"..."` or `'...'`, no escapes) or bare, is a `str` that may hold a glob.
  Strings can only be compared with `==` and `!=`. Field names are checked later, against
  the event's format.
* Spans take no part in equality, so specs and filters compare (and deduplicate) by
  meaning.
* Intervals: N digits directly followed by `s`, `sec`, `ms`, `msec`, `us` or `usec`;
  text after the first space is ignored with a warning. Zero is rejected (a zero
  period would fire continuously), and so is `ns`, which ktap removed.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from frontend.diagnostics import DiagnosticSink, Span
from frontend.literals import bounded_int

# ---------------------------------------------------------------- the results

# repr=False throughout: a generated __repr__ per class costs start-up time (~0.1 ms each,
# at every start), and ir.printer gives the readable form of these specs.


@dataclass(frozen=True, repr=False)
class FetchArg:
    """One kprobe/uprobe fetch argument, e.g. `size=%di`."""

    name: str | None
    fetch: str  # the kernel fetch-arg text after `NAME=`, verbatim
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class TracepointSpec:
    """`SYS:EVENT`: the tracepoints whose system and event names match the two globs."""

    system_glob: str
    event_glob: str
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class KprobeSpec:
    """`probe:SYMBOL[%return] [FETCHARGS]`: a kprobe (or kretprobe) on each kernel function
    the glob matches."""

    symbol_glob: str
    is_return: bool
    fetchargs: tuple[FetchArg, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class UprobeSpec:
    """`probe:/PATH:SYMBOL[%return] [FETCHARGS]`: a uprobe (or uretprobe) in a binary."""

    path: str
    symbol_or_offset: str | int  # an ELF symbol glob, or a file offset
    is_return: bool
    fetchargs: tuple[FetchArg, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class SdtSpec:
    """`sdt:/PATH:NAME`: the USDT markers of a binary that match the name glob."""

    path: str
    name: str  # marker name glob
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class FtraceFunctionSpec:
    """`ftrace:function`; its filter (`/ip==mutex*/`) selects the functions."""

    span: Span = field(compare=False)


ProbeSpec = TracepointSpec | KprobeSpec | UprobeSpec | SdtSpec | FtraceFunctionSpec


@dataclass(frozen=True, repr=False)
class FilterCompare:
    """`field OP value` in a `/filter/`; a string value may be a glob."""

    field: str
    op: str  # == != < <= > >=
    value: int | str
    # Qualified: inside this class body the name `field` is the attribute above.
    span: Span = dataclasses.field(compare=False)


@dataclass(frozen=True, repr=False)
class FilterAnd:
    """`left && right` in a `/filter/`."""

    left: Filter
    right: Filter
    span: Span = field(compare=False)


@dataclass(frozen=True, repr=False)
class FilterOr:
    """`left || right` in a `/filter/`."""

    left: Filter
    right: Filter
    span: Span = field(compare=False)


Filter = FilterCompare | FilterAnd | FilterOr


@dataclass(frozen=True, repr=False)
class EventDef:
    """A parsed EVENTDEF: the probe specs of its comma list and the one filter they share."""

    specs: tuple[ProbeSpec, ...]
    filter: Filter | None  # applies to every spec
    span: Span = field(compare=False)


# ------------------------------------------------------------- shared helpers


class _Error(Exception):
    """A parse error at text offsets [start, end); unwinds to the public entry point."""

    def __init__(self, start: int, end: int, hint: str, message: str | None = None) -> None:
        super().__init__(hint)
        self.start = start
        self.end = end
        self.hint = hint
        self.message = message


@dataclass(frozen=True, repr=False)
class _Locator:
    """Maps offsets in the text to source positions; the text starts at `origin`."""

    origin: Span
    text: str

    def position(self, offset: int) -> tuple[int, int]:
        before = self.text[:offset]
        newlines = before.count("\n")
        if not newlines:
            return self.origin.line, self.origin.col + offset
        return self.origin.line + newlines, offset - before.rfind("\n")

    def span(self, start: int, end: int) -> Span:
        return Span(*self.position(start), *self.position(end))


def _report(sink: DiagnosticSink, locator: _Locator, error: _Error, message: str) -> None:
    span = locator.span(error.start, error.end)
    sink.error(span, error.message or message, hints=(error.hint,))


def _one_line(text: str) -> str:
    # A diagnostic's message is one line, even for an eventdef written over several.
    return " ".join(text.split())


_C_INTEGER = re.compile(r"(-?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))")


def _c_integer(text: str) -> int | None:
    """The value of a C integer literal as `strtoll(s, 0)` reads it, or None."""
    match = _C_INTEGER.fullmatch(text)
    if match is None:
        return None
    sign, hexa, octal, decimal = match.groups()
    if hexa:
        value = bounded_int(hexa, 16)
    else:
        value = bounded_int(octal, 8) if octal else bounded_int(decimal, 10)
    return -value if sign else value


_WHITESPACE = " \t\n\r\v\f"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# ----------------------------------------------------------------- eventdefs

_EVDEF_HINT = "expected SYSTEM:EVENT, e.g. sched:sched_switch or probe:vfs_read"
_NO_ARGS_HINT = "{what} take no fetch arguments; only probe: events do"


class _EventdefParser:
    def __init__(self, text: str, locator: _Locator) -> None:
        self.text = text
        self.locator = locator
        self.pos = 0

    # -- scanning

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def skip_space(self) -> None:
        while self.peek() and self.peek() in _WHITESPACE:
            self.pos += 1

    def word(self, stops: str) -> tuple[int, str]:
        """Consume a run of characters up to white space or one of `stops`."""
        start = self.pos
        while self.peek() and self.peek() not in _WHITESPACE + stops:
            self.pos += 1
        return start, self.text[start : self.pos]

    def at_evdef_end(self) -> bool:
        return self.peek() in ("", ",", "/")

    def fail_here(self, hint: str) -> _Error:
        start, found = self.word(",")
        return _Error(start, start + max(len(found), 1), hint)

    # -- grammar

    def parse(self) -> EventDef:
        specs: list[ProbeSpec] = []
        filters: list[tuple[Filter, int, int]] = []
        while True:
            specs.append(self.evdef())
            self.skip_space()
            if self.peek() == "/":
                filters.append(self.filter())
                self.skip_space()
            if not self.peek():
                break
            if self.peek() != ",":
                raise self.fail_here("expected ',' before the next event, or '{'")
            if filters:
                _, start, end = filters[0]
                raise _Error(
                    start,
                    end,
                    "put the filter after the last event; it applies to all of them",
                    "eventdef only can append one filter",
                )
            self.pos += 1
        the_filter = filters[0][0] if filters else None
        return EventDef(tuple(specs), the_filter, self.locator.span(0, len(self.text)))

    def evdef(self) -> ProbeSpec:
        self.skip_space()
        start, system = self.word(":,/")
        if not system:
            raise self.fail_here(_EVDEF_HINT)
        if self.peek() != ":":
            raise _Error(start, self.pos, _EVDEF_HINT)
        self.pos += 1
        if system == "probe" and self.peek() == "/":
            return self.uprobe(start)
        if system == "probe":
            return self.kprobe(start)
        if system == "sdt":
            return self.sdt(start)
        return self.tracepoint(start, system)

    def tracepoint(self, start: int, system: str) -> ProbeSpec:
        event = self.name(f"expected an event name or glob after '{system}:'")
        if self.peek() in (":", "%"):
            raise self.fail_here("a tracepoint is SYSTEM:EVENT; ':' and '%return' belong to probe:")
        span = self.locator.span(start, self.pos)
        self.no_arguments("tracepoints")
        if system == "ftrace" and event == "function":
            return FtraceFunctionSpec(span)
        return TracepointSpec(system, event, span)

    def kprobe(self, start: int) -> KprobeSpec:
        symbol = self.name("expected a kernel function name or glob after 'probe:'")
        if self.peek() == ":":
            raise self.fail_here("a user-space probe needs an absolute path: probe:/PATH:SYMBOL")
        is_return = self.return_suffix()
        end = self.pos
        fetchargs = self.fetchargs(is_return)
        return KprobeSpec(symbol, is_return, fetchargs, self.locator.span(start, end))

    def uprobe(self, start: int) -> UprobeSpec:
        path = self.path("probe:/PATH:SYMBOL")
        target_start, target = self.word(",/:%")
        if not target:
            raise self.fail_here(f"expected a symbol, glob or file offset after '{path}:'")
        is_return = self.return_suffix()
        end = self.pos
        fetchargs = self.fetchargs(is_return)
        return UprobeSpec(
            path,
            self.offset_or_symbol(target_start, target),
            is_return,
            fetchargs,
            self.locator.span(start, end),
        )

    def sdt(self, start: int) -> SdtSpec:
        if self.peek() != "/":
            raise self.fail_here("expected sdt:/PATH:MARKER with an absolute path")
        path = self.path("sdt:/PATH:MARKER")
        name = self.name(f"expected a marker name or glob after '{path}:'")
        if self.peek() in (":", "%"):
            raise self.fail_here("an SDT marker takes no ':' or '%return' suffix")
        span = self.locator.span(start, self.pos)
        self.no_arguments("SDT markers")
        return SdtSpec(path, name, span)

    # -- pieces

    def name(self, hint: str) -> str:
        _, name = self.word(",/:%")
        if not name:
            raise self.fail_here(hint)
        return name

    def path(self, form: str) -> str:
        _, path = self.word(",:")
        if self.peek() != ":":
            raise self.fail_here(f"expected ':' after the binary path: {form}")
        self.pos += 1
        return path

    def offset_or_symbol(self, start: int, target: str) -> str | int:
        if target[0] not in "0123456789":
            return target
        offset = _c_integer(target)
        if offset is None:
            raise _Error(start, start + len(target), "a file offset is a number such as 0x773c0")
        return offset

    def return_suffix(self) -> bool:
        if self.peek() != "%":
            return False
        start, suffix = self.word(",/")
        if suffix != "%return":
            raise _Error(start, self.pos, "only '%return' may follow a probe symbol")
        return True

    def no_arguments(self, what: str) -> None:
        self.skip_space()
        if not self.at_evdef_end():
            raise self.fail_here(_NO_ARGS_HINT.format(what=what))

    def fetchargs(self, is_return: bool) -> tuple[FetchArg, ...]:
        args: list[FetchArg] = []
        self.skip_space()
        while not self.at_evdef_end():
            start, text = self.word(",/")
            args.append(_fetcharg(text, start, is_return, self.locator))
            self.skip_space()
        return tuple(args)

    def filter(self) -> tuple[Filter, int, int]:
        start = self.pos
        close = _closing_slash(self.text, start)
        if close is None:
            raise _Error(start, start + 1, "the filter is not closed with '/'")
        parsed = _FilterParser(self.text, start + 1, close, self.locator).parse()
        self.pos = close + 1
        return parsed, start, close + 1


def _fetcharg(text: str, start: int, is_return: bool, locator: _Locator) -> FetchArg:
    end = start + len(text)
    name: str | None = None
    fetch = text
    if "=" in text:
        name, _, fetch = text.partition("=")
        if not _IDENTIFIER.fullmatch(name) or not fetch:
            raise _Error(start, end, "a fetch argument is [NAME=]FETCHARG, e.g. size=%di")
    if "$retval" in fetch and not is_return:
        raise _Error(start, end, "'$retval' is only available in a return probe (SYMBOL%return)")
    return FetchArg(name, fetch, locator.span(start, end))


def _closing_slash(text: str, start: int) -> int | None:
    """The `/` ending the filter that opens at `start` (see the module docstring)."""
    slashes: list[int] = []
    quoted: list[int] = []  # slashes inside the open quote
    quote = ""
    for index in range(start + 1, len(text)):
        char = text[index]
        if quote and char == quote:
            quote, quoted = "", []
        elif quote and char == "/":
            quoted.append(index)
        elif not quote and char in "\"'":
            quote = char
        elif not quote and char == "/":
            slashes.append(index)
    # A quote that never closes does not hide the end: the filter parser reports the quote.
    slashes += quoted
    for index in slashes:
        rest = text[index + 1 :].lstrip(_WHITESPACE)
        if not rest or rest.startswith(","):
            return index
    # Without a proper end, the last slash makes the best error about what follows it.
    return slashes[-1] if slashes else None


# -------------------------------------------------------------------- filters


@dataclass(frozen=True, repr=False)
class _Token:
    """A token of a `/filter/`, with its offsets in the EVENTDEF text."""

    kind: str  # "(", ")", "&&", "||", "op", "word" or "string"
    text: str
    start: int
    end: int


_OPERATOR_CHARS = "()&|=!<>~"
_TOKEN = re.compile(r"&&|\|\||==|!=|<=|>=|[()<>]")
_SUPPORTED = "supported: field == != < <= > >= value, joined with && and || and parentheses"


def _tokenize(text: str, start: int, end: int) -> list[_Token]:
    tokens: list[_Token] = []
    pos = start
    while pos < end:
        char = text[pos]
        if char in _WHITESPACE:
            pos += 1
            continue
        token = _next_token(text, pos, end)
        tokens.append(token)
        pos = token.end
    return tokens


def _next_token(text: str, pos: int, end: int) -> _Token:
    match = _TOKEN.match(text, pos, end)
    if match:
        lexeme = match.group()
        kind = lexeme if lexeme in ("(", ")", "&&", "||") else "op"
        return _Token(kind, lexeme, pos, match.end())
    char = text[pos]
    if char in _OPERATOR_CHARS:
        raise _Error(pos, pos + 1, _SUPPORTED, f"bad filter: unsupported operator '{char}'")
    if char in "\"'":
        close = text.find(char, pos + 1, end)
        if close < 0:
            raise _Error(
                pos, end, "close the string with " + char, "bad filter: unterminated string"
            )
        return _Token("string", text[pos + 1 : close], pos, close + 1)
    stop = pos
    while stop < end and text[stop] not in _WHITESPACE + _OPERATOR_CHARS + "\"'":
        stop += 1
    return _Token("word", text[pos:stop], pos, stop)


# How deep a filter may nest, counting parentheses and the levels of its tree: ktap's
# LJ_MAX_XLEVEL ("too many syntax levels"). It bounds the recursion of this parser and of
# everything that walks a filter (backend/events.py, backend/lower.py, ir/printer.py).
MAX_FILTER_LEVELS = 200


class _FilterParser:
    """Recursive descent over the tokens of text[start:end]; `&&` binds tighter than `||`.

    A chain `a || b || c ...` becomes a balanced tree, not a left-leaning one: && and || over
    comparisons are associative and have no side effects, and a 2000-term filter (legitimate:
    ftrace takes thousands of predicates) is then 11 levels deep instead of 2000.
    """

    def __init__(self, text: str, start: int, end: int, locator: _Locator) -> None:
        self.tokens = _tokenize(text, start, end)
        self.index = 0
        self.start = start
        self.end = end
        self.locator = locator
        self.parentheses = 0  # how many are open at self.index

    def parse(self) -> Filter:
        if not self.tokens:
            raise _Error(self.start - 1, self.end + 1, _SUPPORTED, "bad filter: empty filter")
        result, _ = self.disjunction()
        token = self.peek()
        if token is not None:
            raise self.error(token, f"bad filter: unexpected '{token.text}'")
        return result

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token | None:
        token = self.peek()
        if token is not None:
            self.index += 1
        return token

    def error(self, token: _Token | None, message: str, hint: str = _SUPPORTED) -> _Error:
        if token is None:
            return _Error(self.end, self.end + 1, hint, message + " at the end of the filter")
        return _Error(token.start, token.end, hint, message)

    # Each returns the filter and the depth of its tree.

    def disjunction(self) -> tuple[Filter, int]:
        first = self.index
        terms = [self.conjunction()]
        while self.accept("||"):
            terms.append(self.conjunction())
        return self.balanced(FilterOr, terms, first)

    def conjunction(self) -> tuple[Filter, int]:
        first = self.index
        terms = [self.term()]
        while self.accept("&&"):
            terms.append(self.term())
        return self.balanced(FilterAnd, terms, first)

    def balanced(
        self, kind: type[FilterAnd | FilterOr], terms: list[tuple[Filter, int]], first: int
    ) -> tuple[Filter, int]:
        """`terms` joined by `kind` as a balanced tree; three terms group as ((a, b), c)."""
        level = list(terms)
        while len(level) > 1:
            pairs = [
                (kind(left, right, left.span.merge(right.span)), max(ld, rd) + 1)
                for (left, ld), (right, rd) in zip(level[0::2], level[1::2], strict=False)
            ]
            level = pairs + level[len(pairs) * 2 :]
        node, depth = level[0]
        if depth > MAX_FILTER_LEVELS:
            raise _Error(
                self.tokens[first].start,
                self.tokens[self.index - 1].end,
                f"at most {MAX_FILTER_LEVELS} levels of parentheses and && / || groups",
                "bad filter: nested too deeply",
            )
        return node, depth

    def accept(self, kind: str) -> bool:
        token = self.peek()
        if token is None or token.kind != kind:
            return False
        self.index += 1
        return True

    def term(self) -> tuple[Filter, int]:
        token = self.peek()
        if token is None or token.kind != "(":
            return self.comparison(), 0
        if self.parentheses == MAX_FILTER_LEVELS:
            raise self.error(
                token,
                "bad filter: parentheses nested too deeply",
                f"at most {MAX_FILTER_LEVELS} levels of parentheses",
            )
        self.index += 1
        self.parentheses += 1
        inner = self.disjunction()
        if not self.accept(")"):
            raise self.error(token, "bad filter: unclosed '('", "add the matching ')'")
        self.parentheses -= 1
        return inner

    def comparison(self) -> FilterCompare:
        name = self.take()
        if name is None or name.kind != "word" or not _IDENTIFIER.fullmatch(name.text):
            found = f", found '{name.text}'" if name else ""
            raise self.error(name, "bad filter: expected a field name" + found)
        operator = self.take()
        if operator is None or operator.kind != "op":
            raise self.error(operator, f"bad filter: expected a comparison after '{name.text}'")
        value_token = self.take()
        if value_token is None or value_token.kind not in ("word", "string"):
            raise self.error(value_token, f"bad filter: expected a value after '{operator.text}'")
        value = _filter_value(value_token)
        if isinstance(value, str) and operator.text not in ("==", "!="):
            raise _Error(
                value_token.start,
                value_token.end,
                "strings (and globs) can only be compared with == and !=",
                f"bad filter: '{operator.text}' needs a number, not '{value_token.text}'",
            )
        span = self.locator.span(name.start, value_token.end)
        return FilterCompare(name.text, operator.text, value, span)


_VALUE_RANGE = (-(1 << 63), (1 << 64) - 1)  # fits a signed or an unsigned 64-bit field


def _filter_value(token: _Token) -> int | str:
    number = _c_integer(token.text) if token.kind == "word" else None
    if number is None:
        return token.text
    if not _VALUE_RANGE[0] <= number <= _VALUE_RANGE[1]:
        raise _Error(
            token.start,
            token.end,
            "filter numbers must fit in 64 bits",
            f"bad filter: number out of range '{token.text}'",
        )
    return number


# --------------------------------------------------------------- public API


def parse_eventdef(text: str, span: Span, sink: DiagnosticSink) -> EventDef | None:
    """Parse the EVENTDEF text of `trace`; `span` starts where the (stripped) text starts.

    On error, reports one diagnostic to `sink` and returns None.
    """
    locator = _Locator(span, text)
    try:
        return _EventdefParser(text, locator).parse()
    except _Error as error:
        _report(sink, locator, error, f"cannot parse eventdef '{_one_line(text)}'")
        return None


_NS_PER_UNIT = {
    "s": 1_000_000_000,
    "sec": 1_000_000_000,
    "ms": 1_000_000,
    "msec": 1_000_000,
    "us": 1_000,
    "usec": 1_000,
}
_INTERVAL = re.compile(r"([0-9]*)(.*)", re.DOTALL)
_MAX_INTERVAL_NS = (1 << 63) - 1
_UNITS_HINT = ("write a decimal number directly followed by s, sec, ms, msec, us, usec or "
               "hz, e.g. 10us or 99hz")
_NS_HINT = (
    "nanosecond intervals are not supported: ktap removed them because they could hang "
    "the system; use us, ms or s"
)


def _interval_ns(head: str) -> int:
    """The interval in nanoseconds of the text before the first space."""
    match = _INTERVAL.fullmatch(head)
    assert match is not None  # both groups may be empty
    digits, unit = match.groups()
    if not digits:
        raise _Error(0, max(len(head), 1), _UNITS_HINT)
    if unit in ("ns", "nsec"):
        raise _Error(len(digits), len(head), _NS_HINT)
    if unit == "hz":  # beyond ktap: a rate, N times a second (99hz keeps off the clock's beat)
        rate = bounded_int(digits, 10)
        if not 0 < rate <= _NS_PER_UNIT["s"]:
            raise _Error(0, len(head), "the rate must be 1hz to 1000000000hz")
        return _NS_PER_UNIT["s"] // rate
    if unit not in _NS_PER_UNIT:
        raise _Error(len(digits), max(len(head), len(digits) + 1), _UNITS_HINT)
    nanoseconds = bounded_int(digits, 10) * _NS_PER_UNIT[unit]
    if nanoseconds == 0:
        raise _Error(0, len(head), "the interval must be greater than zero")
    if nanoseconds > _MAX_INTERVAL_NS:
        raise _Error(0, len(head), "the interval must be shorter than about 292 years")
    return nanoseconds


def parse_interval(text: str, span: Span, sink: DiagnosticSink) -> int | None:
    """Parse the interval of `tick-`/`profile-` into nanoseconds (Part B §3.3).

    On error, reports one diagnostic to `sink` and returns None.
    """
    locator = _Locator(span, text)
    head, _, rest = text.partition(" ")
    try:
        nanoseconds = _interval_ns(head)
    except _Error as error:
        _report(sink, locator, error, f"cannot parse timer interval: {_one_line(text)}")
        return None
    ignored = rest.strip()
    if ignored:
        start = text.index(ignored, len(head))
        sink.warning(
            locator.span(start, start + len(ignored)),
            f"ignoring '{ignored}' after the timer interval",
        )
    return nanoseconds
