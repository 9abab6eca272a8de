"""Lexical rules (Part B §2.1): numbers, strings, long brackets, comments, shebang, BOM, tokens."""

from __future__ import annotations

import pytest

from frontend import ast
from frontend.diagnostics import DiagnosticSink, Source, Span
from frontend.lexer import KEYWORDS, PUNCTUATION, ktap_number, lex
from frontend.parser import _lark, parse


def parse_ok(text: str) -> ast.Chunk:
    sink = DiagnosticSink(Source("test.kp", text))
    chunk = parse(sink.source, sink)
    assert chunk is not None, sink.render_all()
    return chunk


def value_of(text: str) -> ast.Expr:
    """The expression `text`, parsed as the value of `var _ = ...`."""
    (stmt,) = parse_ok(f"var _ = {text}").body.stmts
    assert isinstance(stmt, ast.Local)
    return stmt.values[0]


def number(text: str) -> int:
    node = value_of(text)
    assert isinstance(node, ast.Number)
    return node.value


def string(text: str) -> bytes:
    node = value_of(text)
    assert isinstance(node, ast.String)
    return node.value


def errors(text: str) -> list[tuple[Span, str]]:
    sink = DiagnosticSink(Source("test.kp", text))
    assert parse(sink.source, sink) is None
    return [(d.span, d.message) for d in sink.diagnostics]


# ---------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("123", 123),
        ("0x1F", 31),
        ("0XfF", 255),
        ("010", 8),
        ("00", 0),
        ("0777", 511),
        ("9223372036854775807", 2**63 - 1),
        # between LONG_MAX and ULONG_MAX: wraps negative
        ("9223372036854775808", -(2**63)),
        ("0x8000000000000000", -(2**63)),
        ("0xffffffffffffffff", -1),
        ("18446744073709551615", -1),
        ("01777777777777777777777", -1),
        ("0x" + "0" * 5000 + "ff", 255),  # leading zeros are not digits that count
    ],
)
def test_number_values(text: str, value: int) -> None:
    assert number(text) == value
    assert ktap_number(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "1.5",
        "1e3",
        "1E+3",
        "1e-3",
        ".5",
        "08",
        "09",
        "0x",
        "0xg",
        "12ab",
        "1_000",
        "0x1p4",
        "1..2",
        "3.",
        "1é",
    ],
)
def test_malformed_numbers(text: str) -> None:
    assert errors(f"x = {text}") == [(Span(1, 5, 1, 5 + len(text)), f"malformed number '{text}'")]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # ktap's strtoul saturated these to ULONG_MAX, i.e. -1, without a word
        ("18446744073709551616", "18446744073709551616"),
        ("0x1ffffffffffffffff", "0x1ffffffffffffffff"),
        ("02000000000000000000000", "02000000000000000000000"),
        ("99999999999999999999999999", "99999999999999999999999999"),
        # past Python's 4300-digit int() limit
        ("7" * 5000, "7" * 30 + "..."),
    ],
)
def test_numbers_past_64_bits_are_errors(text: str, shown: str) -> None:
    message = f"number out of range '{shown}': numbers are 64-bit"
    assert errors(f"x = {text}") == [(Span(1, 5, 1, 5 + len(text)), message)]


def test_no_negative_literals() -> None:
    node = value_of("-5")
    assert isinstance(node, ast.UnOp) and node.op == "-"
    assert isinstance(node.operand, ast.Number) and node.operand.value == 5


def test_number_followed_by_concat() -> None:
    node = value_of("a..1")
    assert isinstance(node, ast.BinOp) and node.op == ".."


# ---------------------------------------------------------------- strings


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"abc"', b"abc"),
        ("'abc'", b"abc"),
        ('""', b""),
        ("'say \"hi\"'", b'say "hi"'),
        ('"it\'s"', b"it's"),
        (r'"\a\b\f\n\r\t\v"', b"\a\b\f\n\r\t\v"),
        (r'"\\ \" \'"', b"\\ \" '"),
        (r"'\''", b"'"),
        (r'"\x41\x7a\xFF\x00"', b"Az\xff\x00"),
        (r'"\65\066\0657"', b"AB" + b"A7"),
        (r'"\0\00\000"', b"\x00\x00\x00"),
        (r'"\255"', b"\xff"),
        (r'"\1234"', b"{4"),
        ('"a\\z   \n\t  b"', b"ab"),
        ('"a\\z"', b"a"),
        ('"a\\\nb"', b"a\nb"),
        ('"a\\\r\nb"', b"a\nb"),
        ('"é"', "é".encode()),
        ('"日本"', "日本".encode()),
        ('"tab\there"', b"tab\there"),
        ('"#not a comment"', b"#not a comment"),
        ('"--not a comment"', b"--not a comment"),
    ],
)
def test_string_escapes(text: str, value: bytes) -> None:
    assert string(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("[[abc]]", b"abc"),
        ("[[]]", b""),
        ("[[\nfirst newline dropped]]", b"first newline dropped"),
        ("[[\r\nfirst CRLF dropped]]", b"first CRLF dropped"),
        ("[[\n\nonly one]]", b"\nonly one"),
        ("[[a\nb]]", b"a\nb"),
        ("[[no \\n escapes]]", b"no \\n escapes"),
        ("[=[a]]b]=]", b"a]]b"),
        ("[==[a]=]b]==]", b"a]=]b"),
        ("[===[]]]===]", b"]]"),
        ("[[\"quotes\" and 'more']]", b"\"quotes\" and 'more'"),
        ("[[é]]", "é".encode()),
    ],
)
def test_long_strings(text: str, value: bytes) -> None:
    assert string(text) == value


def test_string_spans_cover_multiple_lines() -> None:
    node = value_of('"a\\\nb" ')
    assert node.span == Span(1, 9, 2, 3)
    node = value_of("[[x\ny]]")
    assert node.span == Span(1, 9, 2, 4)


def test_every_string_error_is_reported() -> None:
    text = 'x = "\\q" .. "\\x4" .. "\\256" .. "\\xZZ"\ny = "\\c'
    assert errors(text) == [
        (Span(1, 6, 1, 8), "invalid escape sequence '\\q'"),
        (Span(1, 14, 1, 16), "invalid escape sequence '\\x'"),
        (Span(1, 23, 1, 27), "invalid escape sequence '\\256'"),
        (Span(1, 33, 1, 35), "invalid escape sequence '\\x'"),
        (Span(2, 6, 2, 8), "invalid escape sequence '\\c'"),
        (Span(2, 5, 2, 8), "unfinished string"),
    ]


@pytest.mark.parametrize(
    ("text", "span", "message"),
    [
        ('x = "abc\ny = 1', Span(1, 5, 1, 9), "unfinished string"),
        ("x = 'abc", Span(1, 5, 1, 9), "unfinished string"),
        ('x = "abc\\', Span(1, 5, 1, 10), "unfinished string"),
        ("x = [[abc", Span(1, 5, 1, 7), "unfinished long string"),
        ("x = [==[abc]=]", Span(1, 5, 1, 9), "unfinished long string"),
        ("--[[ never closed\n", Span(1, 1, 1, 5), "unfinished long comment"),
        ("--[=[ wrong level ]]", Span(1, 1, 1, 6), "unfinished long comment"),
        ("x = [=abc", Span(1, 5, 1, 7), "invalid long string delimiter"),
    ],
)
def test_unfinished_strings_and_comments(text: str, span: Span, message: str) -> None:
    assert errors(text) == [(span, message)]


# ---------------------------------------------------------------- comments, shebang, BOM


def test_hash_comments_anywhere() -> None:
    chunk = parse_ok("var x = # the value\n  1 # trailing\n# whole line\nf(x, # arg\n 2)")
    assert len(chunk.body.stmts) == 2


def test_dash_comments() -> None:
    assert parse_ok("-- line\nx = 1 -- trailing").body.stmts[0].span == Span(2, 1, 2, 6)
    assert len(parse_ok("--[[ multi\nline ]] x = 1 --[==[ ]] ]==] y = 2").body.stmts) == 2


def test_comment_marker_right_after_name() -> None:
    (stmt,) = parse_ok("x = a--1").body.stmts
    assert isinstance(stmt, ast.Assign) and isinstance(stmt.values[0], ast.Name)


def test_shebang_line_is_skipped() -> None:
    (stmt,) = parse_ok("#!/usr/local/bin/ktap -q -- weird (((\nprint(1)").body.stmts
    assert stmt.span == Span(2, 1, 2, 9)


def test_utf8_bom_is_skipped() -> None:
    (stmt,) = parse_ok("\ufeffprint(1)").body.stmts
    assert stmt.span == Span(1, 1, 1, 9)
    (stmt,) = parse_ok("\ufeff#!/bin/ktap\nprint(1)").body.stmts
    assert stmt.span == Span(2, 1, 2, 9)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    chunk = parse_ok(newline.join(["x = 1", "", "y = [[a", "b]]", "z = 2"]))
    assert [stmt.span.line for stmt in chunk.body.stmts] == [1, 3, 5]


def test_whitespace_characters() -> None:
    assert len(parse_ok("x\t=\v1\fy = 2").body.stmts) == 2


# ---------------------------------------------------------------- names and keywords


def test_identifiers() -> None:
    node = value_of("_a1 + été + B_2")
    assert isinstance(node, ast.BinOp) and isinstance(node.right, ast.Name)
    assert node.right.name == "B_2"


@pytest.mark.parametrize("word", ["and", "or", "not", "local", "self", "print", "trace_", "ticks"])
def test_ordinary_names(word: str) -> None:
    node = value_of(word)
    assert isinstance(node, ast.Name) and node.name == word


@pytest.mark.parametrize("word", [*ast.BUILTIN_VARIABLES])
def test_builtin_variables(word: str) -> None:
    node = value_of(word)
    assert isinstance(node, ast.BuiltinVar) and node.name == word


@pytest.mark.parametrize(
    "word",
    "trace trace_end ffi profile tick break do else elseif end false for function goto if in "
    "var nil repeat return then true until while argstr pid arg0".split(),
)
def test_reserved_words_are_not_names(word: str) -> None:
    sink = DiagnosticSink(Source("test.kp", f"var {word} = 1"))
    assert parse(sink.source, sink) is None


def test_lexer_and_grammar_agree_on_terminal_names() -> None:
    grammar_terminals = {terminal.name for terminal in _lark().terminals}
    unused = {"GOTO", "THEN", "FFI", "AMP", "PIPE"}  # reserved or lexed, never accepted
    lexer_terminals = set(KEYWORDS.values()) | set(PUNCTUATION.values())
    assert lexer_terminals - unused <= grammar_terminals | {"BUILTIN"}
    assert not unused & grammar_terminals


def test_tokens_of_a_line() -> None:
    result = lex("s[probename] += 0x10 .. 'x' ... :: ~")
    assert [(t.type, str(t)) for t in result.tokens] == [
        ("NAME", "s"),
        ("LSQB", "["),
        ("BUILTIN", "probename"),
        ("RSQB", "]"),
        ("PLUSEQ", "+="),
        ("NUMBER", "16"),
        ("DOTDOT", ".."),
        ("STRING", "x"),
        ("ELLIPSIS", "..."),
        ("DCOLON", "::"),
    ]
    assert [(e.span, e.message) for e in result.errors] == [
        (Span(1, 36, 1, 37), "unexpected character '~'")
    ]
    assert (result.eof.line, result.eof.column) == (1, 37)


def test_all_lexical_errors_are_collected() -> None:
    assert [message for _, message in errors("x = 1.5 + 08\ny = `sym` .. '\\q'\n")] == [
        "malformed number '1.5'",
        "malformed number '08'",
        "unexpected character '`'",
        "unexpected character '`'",
        "invalid escape sequence '\\q'",
    ]


# ---------------------------------------------------------------- bytes that are not UTF-8
# kllvm reads scripts with surrogateescape: a byte that is not UTF-8 becomes U+DC80 + byte.


def _script(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def test_raw_bytes_in_strings_are_kept() -> None:
    # ktap strings are bytes: a raw byte means what its escape "\xff" means.
    assert string(_script(b'"a\xff\xfeb"')) == b"a\xff\xfeb"
    assert string(_script(b"[[\xc3\x28]]")) == b"\xc3\x28"


def test_raw_bytes_in_comments_are_ignored() -> None:
    assert number(_script(b"1 # caf\xe9\n")) == 1
    assert number(_script(b"1 --[[ \xff ]]")) == 1


RAW_BYTE_ERROR = "byte 0x{:02x} is not UTF-8 text; outside a string, write text as UTF-8"


@pytest.mark.parametrize(
    ("raw", "span", "byte"),
    [
        (b"x\xff = 1", Span(1, 2, 1, 3), 0xFF),  # in a name: ktap allowed it, names are text here
        (b"x = \xc3\x28", Span(1, 5, 1, 6), 0xC3),  # a broken sequence
        (b"x = 1\n  \x80", Span(2, 3, 2, 4), 0x80),
        (b"trace sys\xfe:x { }", Span(1, 10, 1, 11), 0xFE),  # in an event definition
        (b"trace a:b\n  /f == \xfe/ { }", Span(2, 9, 2, 10), 0xFE),
        (b"tick-1\xffs { }", Span(1, 7, 1, 8), 0xFF),  # in a timer interval
    ],
)
def test_raw_bytes_elsewhere_are_located_errors(raw: bytes, span: Span, byte: int) -> None:
    assert errors(_script(raw)) == [(span, RAW_BYTE_ERROR.format(byte))]


def test_a_raw_byte_is_rendered_as_one_replacement_character() -> None:
    sink = DiagnosticSink(Source("t.kp", _script(b"print(\xff, x\xfe)\n")))
    assert parse(sink.source, sink) is None
    assert sink.render_all() == (
        f"t.kp:1:7: error: {RAW_BYTE_ERROR.format(0xFF)}\n"
        "print(\ufffd, x\ufffd)\n"
        "      ^\n"
        f"t.kp:1:11: error: {RAW_BYTE_ERROR.format(0xFE)}\n"
        "print(\ufffd, x\ufffd)\n"
        "          ^\n"
    )
