"""Rendering of diagnostics: `file:line:col: severity: message`, the line, a caret."""

from __future__ import annotations

from frontend.diagnostics import MAX_SHOWN, Diagnostic, Source, Span, render


def test_a_short_line_is_shown_whole() -> None:
    source = Source("s.kp", "var x = 1 +\n")
    assert render(source, Diagnostic(Span(1, 9, 1, 10), "bad")) == (
        "s.kp:1:9: error: bad\nvar x = 1 +\n        ^\n")


def test_a_long_line_is_shown_as_a_window_around_the_span() -> None:
    line = "a" * 5000 + "BAD" + "b" * 5000
    source = Source("s.kp", line + "\n")
    rendered = render(source, Diagnostic(Span(1, 5001, 1, 5004), "here"))
    header, text, caret, end = rendered.split("\n")
    assert (header, end) == ("s.kp:1:5001: error: here", "")
    assert text.startswith("...") and text.endswith("...")
    assert len(text) == MAX_SHOWN + 6
    assert text[caret.index("^"):caret.index("^") + 3] == "BAD"
    assert caret.strip() == "^~~"


def test_a_long_span_is_cut_with_its_line() -> None:
    line = "x = " + "9" * 3000
    rendered = render(Source("s.kp", line), Diagnostic(Span(1, 5, 1, 3005), "long"))
    _, text, caret, _ = rendered.split("\n")
    assert text == line[:MAX_SHOWN] + "..."
    assert caret == "    ^" + "~" * (MAX_SHOWN - 5)
