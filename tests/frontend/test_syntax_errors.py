"""Syntax errors: messages, spans, rendering, and reporting more than one error per run."""

from __future__ import annotations

import pytest

from frontend.diagnostics import DiagnosticSink, Source, Span
from frontend.parser import parse


def diagnose(text: str) -> DiagnosticSink:
    sink = DiagnosticSink(Source("test.kp", text))
    assert parse(sink.source, sink) is None
    assert sink.has_errors
    return sink


def errors(text: str) -> list[tuple[Span, str]]:
    return [(d.span, d.message) for d in diagnose(text).diagnostics]


def error(text: str) -> tuple[Span, str]:
    (only,) = errors(text)
    return only


TYPICAL_MISTAKES = [
    # conditions need parentheses, bodies need braces
    ("if a == 1 { f() }", Span(1, 4, 1, 5), "unexpected identifier 'a', expected '('"),
    ("while x { }", Span(1, 7, 1, 8), "unexpected identifier 'x', expected '('"),
    ("while (x) f()", Span(1, 11, 1, 12), "unexpected identifier 'f', expected '{'"),
    ("if (x) f()", Span(1, 8, 1, 9), "unexpected identifier 'f', expected '{'"),
    ("if (a) { } else if (b) { }", Span(1, 17, 1, 19), "unexpected 'if', expected '{'"),
    ("if (a) then { }", Span(1, 8, 1, 12), "unexpected 'then', expected '{'"),
    # no C-style for, no `continue`-like keywords
    ("for (i = 0; i < 10; i += 1) { }", Span(1, 11, 1, 12), "unexpected ';', expected ','"),
    ("for (i) { }", Span(1, 7, 1, 8), "unexpected ')', expected ',', '=' or 'in'"),
    ("for i = 1, 2 { }", Span(1, 5, 1, 6), "unexpected identifier 'i', expected '('"),
    # reserved words
    ("goto x", Span(1, 1, 1, 5), "unexpected 'goto'"),
    ("::x:: goto x", Span(1, 7, 1, 11), "unexpected 'goto'"),
    ("var end = 1", Span(1, 5, 1, 8), "unexpected 'end', expected 'function' or identifier"),
    ("x = ffi.C", Span(1, 5, 1, 8), "unexpected 'ffi', expected expression"),
    ("function a.b() { }", Span(1, 11, 1, 12), "unexpected '.', expected '('"),
    # built-in variables are not names
    ("pid()", Span(1, 1, 1, 4), "built-in variable 'pid' cannot be called"),
    ("x = pid()", Span(1, 5, 1, 8), "built-in variable 'pid' cannot be called"),
    ("print(execname.x)", Span(1, 7, 1, 15), "built-in variable 'execname' cannot be indexed"),
    ("x = arg1[0]", Span(1, 5, 1, 9), "built-in variable 'arg1' cannot be indexed"),
    ("cpu:m()", Span(1, 1, 1, 4), "built-in variable 'cpu' cannot be indexed"),
    ("pid = 1", Span(1, 1, 1, 4), "built-in variable 'pid' cannot be assigned"),
    ("tid += 1", Span(1, 1, 1, 4), "built-in variable 'tid' cannot be assigned"),
    ("var pid = 1", Span(1, 5, 1, 8), "built-in variable 'pid' cannot be assigned"),
    # unbalanced brackets
    ("function f() { print(1)", Span(1, 24, 1, 25), "unexpected end of file, expected '}'"),
    (
        "trace a:b {\n  f()\n\n",
        Span(2, 6, 2, 7),
        "unexpected end of file, expected '}' to close '{' at line 1",
    ),
    ("f(1, 2", Span(1, 7, 1, 8), "unexpected end of file, expected ')' or ','"),
    ("f(1,", Span(1, 5, 1, 6), "unexpected end of file, expected expression"),
    ("f(a b)", Span(1, 5, 1, 6), "unexpected identifier 'b', expected ')' or ','"),
    ("x = t[1", Span(1, 8, 1, 9), "unexpected end of file, expected ']'"),
    ("var t = {1, 2\nf()", Span(2, 1, 2, 2), "unexpected identifier 'f', expected ',', ';' or '}'"),
    ("}", Span(1, 1, 1, 2), "unexpected '}'"),
    ("f())", Span(1, 4, 1, 5), "unexpected ')'"),
    # expressions
    ("x = 1 +", Span(1, 8, 1, 9), "unexpected end of file, expected expression"),
    ("x = * 2", Span(1, 5, 1, 6), "unexpected '*', expected expression"),
    ("x = 1 + + 2", Span(1, 9, 1, 10), "unexpected '+', expected expression"),
    ("print(#t)", Span(1, 7, 1, 8), "unexpected end of file, expected ')'"),
    ("x = a & b", Span(1, 7, 1, 8), "unexpected '&'"),
    ("x = a | b", Span(1, 7, 1, 8), "unexpected '|'"),
    ("s[k] <<< 1", Span(1, 6, 1, 7), "unexpected '<', expected '+=', ',' or '='"),
    ("x = a ? b : c", Span(1, 7, 1, 8), "unexpected character '?'"),
    ("x -= 1", Span(1, 3, 1, 4), "unexpected '-', expected '+=', ',' or '='"),
    ("x++", Span(1, 2, 1, 3), "unexpected '+', expected '+=', ',' or '='"),
    # statements
    ("x", Span(1, 2, 1, 3), "unexpected end of file, expected '+=', ',' or '='"),
    ("1", Span(1, 1, 1, 2), "unexpected number '1'"),
    ("0x10 = 1", Span(1, 1, 1, 5), "unexpected number '0x10'"),
    ('"s"', Span(1, 1, 1, 4), "unexpected string"),
    ("(f)", Span(1, 4, 1, 5), "unexpected end of file"),
    ("f() = 1", Span(1, 5, 1, 6), "unexpected '='"),
    ("a, b += 1", Span(1, 6, 1, 8), "unexpected '+=', expected ',' or '='"),
    ("x += 1, 2", Span(1, 7, 1, 8), "unexpected ','"),
    ("var = 1", Span(1, 5, 1, 6), "unexpected '=', expected 'function' or identifier"),
    ("var function (a) { }", Span(1, 14, 1, 15), "unexpected '(', expected identifier"),
    ("function f(a, ..., b) { }", Span(1, 18, 1, 19), "unexpected ',', expected ')'"),
    (
        "return 1 f()",
        Span(1, 10, 1, 11),
        "unexpected identifier 'f': 'return' must be the last statement of its block",
    ),
    ("trace a:b", Span(1, 10, 1, 11), "unexpected end of file, expected '{'"),
    ("tick 5 { }", Span(1, 6, 1, 7), "unexpected number '5', expected '-'"),
    ("trace_end f()", Span(1, 11, 1, 12), "unexpected identifier 'f', expected '{'"),
    ("repeat f() until x", Span(1, 18, 1, 19), "unexpected identifier 'x', expected '('"),
    ("do f()", Span(1, 7, 1, 8), "unexpected end of file, expected 'end'"),
    ("repeat f()", Span(1, 11, 1, 12), "unexpected end of file, expected 'until'"),
    (
        "if (x) { return 1; f() }",
        Span(1, 20, 1, 21),
        "unexpected identifier 'f': 'return' must be the last statement of its block",
    ),
    ("return f(a b)", Span(1, 12, 1, 13), "unexpected identifier 'b', expected ')' or ','"),
]


@pytest.mark.parametrize(("source", "span", "message"), TYPICAL_MISTAKES)
def test_typical_mistakes(source: str, span: Span, message: str) -> None:
    assert error(source) == (span, message)


@pytest.mark.parametrize(
    ("source", "span", "message"),
    [
        ('x = "abc', Span(1, 5, 1, 9), "unfinished string"),
        ('x = "\\q"', Span(1, 6, 1, 8), "invalid escape sequence '\\q'"),
        ("x = 1.5", Span(1, 5, 1, 8), "malformed number '1.5'"),
        ("trace {}", Span(1, 7, 1, 8), "missing event definition"),
        ("tick- { }", Span(1, 7, 1, 8), "missing timer interval"),
    ],
)
def test_lexical_mistakes(source: str, span: Span, message: str) -> None:
    assert error(source) == (span, message)


def test_each_bad_character_is_reported() -> None:
    assert errors("x = `sym`") == [
        (Span(1, 5, 1, 6), "unexpected character '`'"),
        (Span(1, 9, 1, 10), "unexpected character '`'"),
    ]


def test_call_on_the_next_line_is_ambiguous() -> None:
    assert error("var x = f\n(g)") == (
        Span(2, 1, 2, 2),
        "ambiguous syntax (function call x new statement)",
    )
    assert error("o:m\n(1)")[0] == Span(2, 1, 2, 2)


@pytest.mark.parametrize(
    "source",
    [
        "x = " + "(" * 250 + "1" + ")" * 250,
        "x = " + " + ".join(["1"] * 300),
        "x = f" + "(1)" * 300,
        "if (x) {" * 250 + "}" * 250,
        "x = " + "{" * 250 + "}" * 250,
    ],
)
def test_too_deep_nesting(source: str) -> None:
    (span, message) = error(source)
    assert message == "chunk has too many syntax levels"
    assert span.line == 1


def test_too_deep_nesting_says_what_counts() -> None:
    sink = DiagnosticSink(Source("t.kp", "x = " + " + ".join(["1"] * 300)))
    assert parse(sink.source, sink) is None
    (diagnostic,) = sink.diagnostics
    assert diagnostic.hints == (
        "at most 200 levels of nested blocks, calls, tables and operators; each operator of "
        "a chain like 'a + b + c' is a level: split the chain with a 'var'",
    )


def test_several_errors_in_one_run() -> None:
    text = (
        "var x = = 1\n"
        "trace syscalls:* { x += }\n"
        "if (x) { f() } else if (y) { }\n"
        "var fine = 1\n"
        "tick-1s { pid() }\n"
        "var z = 3 +\n"
    )
    assert errors(text) == [
        (Span(1, 9, 1, 10), "unexpected '=', expected expression"),
        (Span(2, 25, 2, 26), "unexpected '}', expected expression"),
        (Span(3, 21, 3, 23), "unexpected 'if', expected '{'"),
        (Span(5, 11, 5, 14), "built-in variable 'pid' cannot be called"),
        (Span(6, 12, 6, 13), "unexpected end of file, expected expression"),
    ]


def test_no_second_error_inside_an_unclosed_block() -> None:
    # After a missing `}` nothing is surely a new top-level statement: one error only.
    assert len(errors("trace a:b {\n  x = = 1\nvar y = 2\nvar z = = 3\n")) == 1


# ---------------------------------------------------------------- rendered form


def test_rendered_syntax_error() -> None:
    sink = diagnose("var s = {}\nif s == 1 {\n}\n")
    assert sink.render_all() == (
        "test.kp:2:4: error: unexpected identifier 's', expected '('\nif s == 1 {\n   ^\n"
    )


def test_rendered_unexpected_keyword() -> None:
    sink = diagnose("if (a) {\n} else if (b) {\n}")
    assert sink.render_all() == (
        "test.kp:2:8: error: unexpected 'if', expected '{'\n} else if (b) {\n       ^~\n"
    )


def test_rendered_lexical_errors() -> None:
    sink = diagnose('print("\\q", 1.5)\nprint("open\n')
    assert sink.render_all() == (
        "test.kp:1:8: error: invalid escape sequence '\\q'\n"
        'print("\\q", 1.5)\n'
        "       ^~\n"
        "test.kp:1:13: error: malformed number '1.5'\n"
        'print("\\q", 1.5)\n'
        "            ^~~\n"
        "test.kp:2:7: error: unfinished string\n"
        'print("open\n'
        "      ^~~~~\n"
    )


def test_rendered_end_of_file_error() -> None:
    sink = diagnose("trace_end {\n    print_hist(s)\n\n# the end\n")
    assert sink.render_all() == (
        "test.kp:2:18: error: unexpected end of file, expected '}' to close '{' at line 1\n"
        "    print_hist(s)\n"
        "                 ^\n"
    )


def test_rendered_builtin_misuse() -> None:
    sink = diagnose("trace a:b {\n\tx = execname()\n}")
    assert sink.render_all() == (
        "test.kp:2:6: error: built-in variable 'execname' cannot be called\n"
        " x = execname()\n"  # render() shows a tab as one space, keeping carets aligned
        "     ^~~~~~~~\n"
    )
