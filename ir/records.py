"""Where a run's output and diagnostics go, as text (ktap's) or, under `-f json`, as
newline-delimited JSON: one object per line with a `type`.

Output (`print`, `printf`, `print_hist`, the banner) goes to the script's output (standard
output or `-o FILE`); warnings and errors go to standard error, as JSON lines too under
`-f json`, so that `2>&1` gives one stream. JSON strings are the output's bytes read as
UTF-8, a byte that is not UTF-8 becoming U+FFFD.
"""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Sequence
from typing import BinaryIO, TextIO

from frontend.diagnostics import Diagnostic, Source, Span, render
from ir import fmt
from ir.values import ArgstrValue, StackValue


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    # Text, but print_hist of a stack-keyed table prints folded stacks (flamegraph.pl).
    FOLDED = "folded"


def _text(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def json_value(value: object) -> object:
    """A ktap value as JSON: numbers, strings, booleans and nil as themselves, a stack as
    its frames, anything else (tables, functions) as `print` shows it."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, bytes):
        return _text(value)
    if isinstance(value, ArgstrValue):
        return _text(value.text)
    if isinstance(value, StackValue):
        return list(value.frames)
    return _text(fmt.format_value(value))


def _where(source: Source, span: Span) -> dict[str, object]:
    file = span.file or source.name  # a span in a tapset names the tapset
    if span.line <= 0:
        return {"file": file}
    return {"file": file, "line": span.line, "col": span.col}


class Records:
    """The one writer of a run's output and diagnostics, in `format`."""

    def __init__(self, out: BinaryIO | None, format: Format = Format.TEXT,
                 err: TextIO | None = None) -> None:
        self.out = out  # None: diagnostics only (before the output is opened)
        self.format = format
        self._err = err  # None: sys.stderr when written (tests replace it)

    @property
    def json(self) -> bool:
        return self.format is Format.JSON

    @property
    def err(self) -> TextIO:
        return self._err or sys.stderr

    def _output(self) -> BinaryIO:
        assert self.out is not None, "output before the output was opened"
        return self.out

    def _record(self, record: dict[str, object]) -> None:
        self._output().write(json.dumps(record, ensure_ascii=False).encode() + b"\n")

    def _diagnostic_record(self, record: dict[str, object]) -> None:
        self.err.write(json.dumps(record, ensure_ascii=False) + "\n")

    # -- output

    def print(self, values: Sequence[object]) -> None:
        if self.json:
            self._record({"type": "print", "values": [json_value(v) for v in values]})
        else:
            self._output().write(fmt.format_print(values))

    def printf(self, text: bytes) -> None:
        if self.json:
            self._record({"type": "printf", "data": _text(text)})
        else:
            self._output().write(text)

    def text(self, data: bytes) -> None:
        """Other output (print_trace_clock, ansi escapes): as it is, or one record."""
        if self.json:
            self._record({"type": "text", "data": _text(data)})
        else:
            self._output().write(data)

    def hist(self, entries: Iterable[tuple[object, object]], n: int,
             symbolize: fmt.SymbolResolver | None = None) -> None:
        if not self.json:
            self._output().write(fmt.print_hist(entries, n, symbolize))
            return
        rows, more = fmt.hist_rows(entries, n, symbolize)
        self._record({"type": "print_hist", "rows": [
            {"key": _text(k) if isinstance(k, bytes) else k, "value": v} for k, v in rows],
            "more": more})

    def notice(self, line: str, kind: str, **fields: object) -> None:
        """A line about the run itself (the banner): `line`, or a record of `kind`."""
        if self.json:
            self._record({"type": kind, **fields})
        else:
            self._output().write(line.encode())

    # -- diagnostics

    def diagnostic(self, source: Source, diagnostic: Diagnostic) -> None:
        """A located error or warning: rendered with its caret, or one record."""
        self.flush()  # what came before it first
        if not self.json:
            self.err.write(render(source, diagnostic))
            return
        record: dict[str, object] = {"type": diagnostic.severity, "message": diagnostic.message,
                                     **_where(source, diagnostic.span)}
        if diagnostic.notes:
            record["notes"] = [{"message": note, **_where(source, span)}
                               for span, note in diagnostic.notes]
        if diagnostic.hints:
            record["hints"] = list(diagnostic.hints)
        self._diagnostic_record(record)

    def message(self, severity: str, text: str, file: str | None = None) -> None:
        """An error or warning without a line in the script: `FILE: SEVERITY: text`
        (kllvm's own when there is no file), or one record."""
        self.flush()
        if self.json:
            where = {} if file is None else {"file": file}
            self._diagnostic_record({"type": severity, "message": text, **where})
        else:
            self.err.write(f"{file or 'kllvm'}: {severity}: {text}\n")

    def rendered_error(self, text: str) -> None:
        """An error already rendered (lines with a caret, hints): as it is, or one
        record whose message is that text."""
        self.flush()
        if self.json:
            self._diagnostic_record({"type": "error", "message": text.rstrip("\n")})
        else:
            self.err.write(text)

    def flush(self) -> None:
        if self.out is not None:
            self.out.flush()
