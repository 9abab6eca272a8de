"""Source text, spans and rendered diagnostics (`file:line:col: error: message` + caret)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

# The lexer counts only these as line breaks; str.splitlines() also splits at \v, \f, ...
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_RAW_BYTE = re.compile("[\udc80-\udcff]")
# Longer source lines are shown as a window around the span, marked with "..." at the
# cut ends: a 20,000-character line would bury the caret (and fill the terminal).
MAX_SHOWN = 120
CONTEXT_BEFORE = 40
ELLIPSIS = "..."


@dataclass(frozen=True)
class Source:
    """A script's text and the name shown in diagnostics."""

    name: str
    text: str
    # The tapsets linked into the script, as (path, text) pairs: diagnostics at spans in
    # them (Span.file) show their lines.
    tapsets: tuple[tuple[str, str], ...] = ()

    def tapset(self, path: str) -> Source | None:
        for name, text in self.tapsets:
            if name == path:
                return Source(name, text)
        return None

    @cached_property
    def _lines(self) -> list[str]:
        # Split once: a script with thousands of errors renders thousands of lines.
        return _LINE_BREAK.split(self.text)

    def line_text(self, line: int) -> str:
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""


@dataclass(frozen=True)
class Span:
    """A 1-based, end-exclusive region of a source; `end_col` is on `end_line`."""

    line: int
    col: int
    end_line: int
    end_col: int
    # The file the region is in: "" for the script, else the path of the tapset (a library
    # of functions linked into the script) the code came from.
    file: str = ""

    def merge(self, other: Span) -> Span:
        start = min((self.line, self.col), (other.line, other.col))
        end = max((self.end_line, self.end_col), (other.end_line, other.end_col))
        return Span(start[0], start[1], end[0], end[1], self.file)

    def __str__(self) -> str:
        return f"{self.line}:{self.col}"


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True)
class Diagnostic:
    """An error or warning at a span, with notes at other spans and hints for the user."""

    span: Span
    message: str
    severity: str = "error"
    notes: tuple[tuple[Span, str], ...] = ()
    hints: tuple[str, ...] = ()


def _caret_line(source: Source, span: Span) -> tuple[str, str] | None:
    if span.line <= 0:
        return None
    # A byte that is not UTF-8 (decoded with surrogateescape) shows as one U+FFFD, so
    # that the caret stays under its column.
    text = _RAW_BYTE.sub("\ufffd", source.line_text(span.line).expandtabs(1))
    start = max(span.col - 1, 0)
    if span.end_line == span.line and span.end_col > span.col:
        width = span.end_col - span.col
    else:
        width = max(len(text) - start, 1) if span.end_line > span.line else 1
    if len(text) > MAX_SHOWN:
        # Keep the span's start and what leads to it; the marker is cut with the text.
        first = max(start - CONTEXT_BEFORE, 0)
        last = min(first + MAX_SHOWN, len(text))
        width = min(width, last - start) if last > start else 1
        prefix = ELLIPSIS if first > 0 else ""
        suffix = ELLIPSIS if last < len(text) else ""
        text = prefix + text[first:last] + suffix
        start = start - first + len(prefix)
    marker = "^" + "~" * (width - 1)
    return text, " " * start + marker


def _render_at(source: Source, span: Span, severity: str, message: str) -> list[str]:
    # Code from a tapset is shown at its own file and line.
    shown = source.tapset(span.file) if span.file else source
    name = span.file or source.name
    where = f"{name}:{span.line}:{span.col}" if span.line > 0 else name
    lines = [f"{where}: {severity}: {message}"]
    caret = _caret_line(shown, span) if shown is not None else None
    if caret is not None:
        lines.extend(caret)
    return lines


def render(source: Source, diagnostic: Diagnostic) -> str:
    lines = _render_at(source, diagnostic.span, diagnostic.severity, diagnostic.message)
    for span, note in diagnostic.notes:
        lines.extend(_render_at(source, span, "note", note))
    lines.extend(f"hint: {hint}" for hint in diagnostic.hints)
    return "\n".join(lines) + "\n"


@dataclass
class DiagnosticSink:
    """Collects diagnostics of one phase; the driver stops between phases that had errors."""

    source: Source
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        span: Span,
        message: str,
        notes: tuple[tuple[Span, str], ...] = (),
        hints: tuple[str, ...] = (),
    ) -> None:
        self.diagnostics.append(Diagnostic(span, message, "error", notes, hints))

    def warning(self, span: Span, message: str) -> None:
        self.diagnostics.append(Diagnostic(span, message, "warning"))

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    def render_all(self) -> str:
        return "".join(render(self.source, d) for d in self.diagnostics)


class CompileError(Exception):
    """Raised by the driver when a phase recorded errors; carries the rendered text and,
    when made by `of`, the diagnostics themselves (for `-f json`)."""

    def __init__(self, rendered: str, source: Source | None = None,
                 diagnostics: tuple[Diagnostic, ...] = ()) -> None:
        super().__init__(rendered)
        self.rendered = rendered
        self.source = source
        self.diagnostics = diagnostics

    @classmethod
    def of(cls, source: Source, diagnostics: Iterable[Diagnostic]) -> CompileError:
        shown = tuple(diagnostics)
        return cls("".join(render(source, d) for d in shown), source, shown)


class InternalError(Exception):
    """A compiler bug: prints "please report" with the offending IR."""
