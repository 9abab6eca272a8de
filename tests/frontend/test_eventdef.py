"""Tests of EVENTDEF and timer-interval parsing (frontend/eventdef.py)."""

from __future__ import annotations

import pytest

from frontend.diagnostics import NO_SPAN, Diagnostic, DiagnosticSink, Source, Span
from frontend.eventdef import (
    EventDef,
    FetchArg,
    FilterAnd,
    FilterCompare,
    FilterOr,
    FtraceFunctionSpec,
    KprobeSpec,
    SdtSpec,
    TracepointSpec,
    UprobeSpec,
    parse_eventdef,
    parse_interval,
)

COL = 7  # the text starts after "trace " on line 1


def _sink() -> DiagnosticSink:
    return DiagnosticSink(Source("t.kp", ""))


def _origin(text: str) -> Span:
    return Span(1, COL, 1, COL + len(text))


def at(text: str, fragment: str, occurrence: int = 0) -> Span:
    """The span of `fragment` (its n-th occurrence) inside single-line `text`."""
    index = -1
    for _ in range(occurrence + 1):
        index = text.index(fragment, index + 1)
    return Span(1, COL + index, 1, COL + index + len(fragment))


def ok(text: str) -> EventDef:
    sink = _sink()
    result = parse_eventdef(text, _origin(text), sink)
    assert sink.diagnostics == []
    assert result is not None
    return result


def error(text: str, origin: Span | None = None) -> Diagnostic:
    sink = _sink()
    assert parse_eventdef(text, origin or _origin(text), sink) is None
    assert len(sink.diagnostics) == 1
    diagnostic = sink.diagnostics[0]
    assert diagnostic.severity == "error"
    assert len(diagnostic.hints) == 1
    return diagnostic


def cannot_parse(text: str) -> Span:
    diagnostic = error(text)
    assert diagnostic.message == f"cannot parse eventdef '{text}'"
    return diagnostic.span


def only_spec(text: str) -> object:
    result = ok(text)
    assert result.filter is None
    (spec,) = result.specs
    return spec


# ---------------------------------------------------------------------- forms


@pytest.mark.parametrize(
    ("text", "system", "event"),
    [
        ("sched:sched_switch", "sched", "sched_switch"),
        ("syscalls:sys_enter_*", "syscalls", "sys_enter_*"),
        ("syscalls:*", "syscalls", "*"),
        ("*:*", "*", "*"),
        ("irq:softirq_[!e]?it", "irq", "softirq_[!e]?it"),
        ("ftrace:print", "ftrace", "print"),
        ("ftrace:func*", "ftrace", "func*"),
    ],
)
def test_tracepoints(text: str, system: str, event: str) -> None:
    spec = only_spec(text)
    assert spec == TracepointSpec(system, event, NO_SPAN)
    assert isinstance(spec, TracepointSpec)
    assert spec.span == _origin(text)


def test_ftrace_function() -> None:
    spec = only_spec("ftrace:function")
    assert isinstance(spec, FtraceFunctionSpec)
    assert spec.span == _origin("ftrace:function")


def test_kprobe() -> None:
    assert only_spec("probe:vfs_read") == KprobeSpec("vfs_read", False, (), NO_SPAN)


def test_kprobe_glob_and_dotted_symbol() -> None:
    assert only_spec("probe:*") == KprobeSpec("*", False, (), NO_SPAN)
    assert only_spec("probe:vfs_*") == KprobeSpec("vfs_*", False, (), NO_SPAN)
    assert only_spec("probe:foo.isra.0") == KprobeSpec("foo.isra.0", False, (), NO_SPAN)


def test_kprobe_fetchargs() -> None:
    text = "probe:do_sys_open dfd=%di filename=%si flags=%dx mode=%cx"
    spec = only_spec(text)
    assert spec == KprobeSpec(
        "do_sys_open",
        False,
        (
            FetchArg("dfd", "%di", NO_SPAN),
            FetchArg("filename", "%si", NO_SPAN),
            FetchArg("flags", "%dx", NO_SPAN),
            FetchArg("mode", "%cx", NO_SPAN),
        ),
        NO_SPAN,
    )
    assert isinstance(spec, KprobeSpec)
    assert spec.span == at(text, "probe:do_sys_open")
    assert spec.fetchargs[1].span == at(text, "filename=%si")


def test_kprobe_unnamed_and_complex_fetchargs() -> None:
    spec = only_spec("probe:f %di +4($stack) +0(%si):string arg=@jiffies:u64")
    assert isinstance(spec, KprobeSpec)
    assert spec.fetchargs == (
        FetchArg(None, "%di", NO_SPAN),
        FetchArg(None, "+4($stack)", NO_SPAN),
        FetchArg(None, "+0(%si):string", NO_SPAN),
        FetchArg("arg", "@jiffies:u64", NO_SPAN),
    )


def test_kretprobe() -> None:
    text = "probe:do_sys_open%return fd=$retval"
    spec = only_spec(text)
    assert spec == KprobeSpec("do_sys_open", True, (FetchArg("fd", "$retval", NO_SPAN),), NO_SPAN)
    assert isinstance(spec, KprobeSpec)
    assert spec.span == at(text, "probe:do_sys_open%return")


def test_uprobe_symbol() -> None:
    text = "probe:/lib/x86_64-linux-gnu/libc.so.6:malloc%return"
    spec = only_spec(text)
    assert spec == UprobeSpec("/lib/x86_64-linux-gnu/libc.so.6", "malloc", True, (), NO_SPAN)
    assert isinstance(spec, UprobeSpec)
    assert spec.span == _origin(text)


def test_uprobe_glob_and_fetchargs() -> None:
    assert only_spec("probe:/lib64/libc.so.6:* size=%di") == UprobeSpec(
        "/lib64/libc.so.6", "*", False, (FetchArg("size", "%di", NO_SPAN),), NO_SPAN
    )
    assert only_spec("probe:/lib/libpthread-2.17.so:pthread_mutex_*") == UprobeSpec(
        "/lib/libpthread-2.17.so", "pthread_mutex_*", False, (), NO_SPAN
    )


@pytest.mark.parametrize(
    ("target", "offset"),
    [("0x773c0", 0x773C0), ("0X1F", 0x1F), ("4096", 4096), ("0755", 0o755), ("0", 0)],
)
def test_uprobe_offset(target: str, offset: int) -> None:
    spec = only_spec(f"probe:/bin/bash:{target}")
    assert spec == UprobeSpec("/bin/bash", offset, False, (), NO_SPAN)


def test_uprobe_offset_return() -> None:
    spec = only_spec("probe:/bin/bash:0x10%return")
    assert spec == UprobeSpec("/bin/bash", 0x10, True, (), NO_SPAN)


def test_sdt() -> None:
    text = "sdt:/lib/x86_64-linux-gnu/libgcc_s.so.1:unwind"
    spec = only_spec(text)
    assert spec == SdtSpec("/lib/x86_64-linux-gnu/libgcc_s.so.1", "unwind", NO_SPAN)
    assert isinstance(spec, SdtSpec)
    assert spec.span == _origin(text)
    assert only_spec("sdt:/lib64/libc.so.6:*") == SdtSpec("/lib64/libc.so.6", "*", NO_SPAN)


def test_spans_do_not_take_part_in_equality() -> None:
    first = TracepointSpec("a", "b", Span(1, 1, 1, 4))
    second = TracepointSpec("a", "b", Span(9, 9, 9, 12))
    assert first == second
    assert len({first, second}) == 1


# ---------------------------------------------------------------------- lists


def test_list() -> None:
    text = "sched:sched_wakeup, sched:sched_wakeup_new"
    result = ok(text)
    assert result.specs == (
        TracepointSpec("sched", "sched_wakeup", NO_SPAN),
        TracepointSpec("sched", "sched_wakeup_new", NO_SPAN),
    )
    assert result.specs[1].span == at(text, "sched:sched_wakeup_new")
    assert result.span == _origin(text)


def test_list_of_mixed_forms_without_spaces() -> None:
    result = ok("probe:vfs_read,probe:vfs_read%return,sched:*,probe:/bin/ls:main")
    assert result.specs == (
        KprobeSpec("vfs_read", False, (), NO_SPAN),
        KprobeSpec("vfs_read", True, (), NO_SPAN),
        TracepointSpec("sched", "*", NO_SPAN),
        UprobeSpec("/bin/ls", "main", False, (), NO_SPAN),
    )


def test_list_with_fetchargs_on_each_probe() -> None:
    result = ok("probe:a x=%di, probe:b%return y=$retval")
    assert result.specs == (
        KprobeSpec("a", False, (FetchArg("x", "%di", NO_SPAN),), NO_SPAN),
        KprobeSpec("b", True, (FetchArg("y", "$retval", NO_SPAN),), NO_SPAN),
    )


def test_multi_line_list_spans() -> None:
    text = "sched:sched_wakeup,\n      sched:sched_wakeup_new"
    sink = _sink()
    result = parse_eventdef(text, Span(3, 7, 4, 29), sink)
    assert result is not None
    assert result.specs[0].span == Span(3, 7, 3, 25)
    assert result.specs[1].span == Span(4, 7, 4, 29)
    assert result.span == Span(3, 7, 4, 29)


# -------------------------------------------------------------------- filters


def compare(field: str, op: str, value: int | str) -> FilterCompare:
    return FilterCompare(field, op, value, NO_SPAN)


def filter_of(text: str) -> object:
    return ok(f"sched:sched_switch /{text}/").filter


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator(op: str) -> None:
    assert filter_of(f"prev_pid {op} 0") == compare("prev_pid", op, 0)
    assert filter_of(f"prev_pid{op}0") == compare("prev_pid", op, 0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0x100", 0x100),
        ("0XfF", 0xFF),
        ("-5", -5),
        ("-0x10", -0x10),
        ("010", 8),  # the kernel reads filter numbers with base 0
        ("0", 0),
        ("18446744073709551615", (1 << 64) - 1),
        ("-9223372036854775808", -(1 << 63)),
    ],
)
def test_number_values(value: str, expected: int) -> None:
    assert filter_of(f"x == {value}") == compare("x", "==", expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("foo", "foo"),
        ("mutex*", "mutex*"),
        ("*lock*", "*lock*"),
        ("09", "09"),
        ("12abc", "12abc"),
        ('"foo"', "foo"),
        ("'foo'", "foo"),
        ('"1"', "1"),  # quoted numbers stay strings
        ('"a b, c"', "a b, c"),
        ('"a/b"', "a/b"),
        ('"x&&y||(z)"', "x&&y||(z)"),
        ('""', ""),
        ("/etc/passwd", "/etc/passwd"),
    ],
)
def test_string_values(value: str, expected: str) -> None:
    assert filter_of(f"f == {value}") == compare("f", "==", expected)


def test_filter_on_ftrace_function() -> None:
    result = ok("ftrace:function /ip==mutex*/")
    assert result.filter == compare("ip", "==", "mutex*")


def test_and_binds_tighter_than_or() -> None:
    a, b, c = compare("a", "==", 1), compare("b", "==", 2), compare("c", "==", 3)
    assert filter_of("a == 1 || b == 2 && c == 3") == FilterOr(a, FilterAnd(b, c, NO_SPAN), NO_SPAN)
    assert filter_of("a == 1 && b == 2 || c == 3") == FilterOr(FilterAnd(a, b, NO_SPAN), c, NO_SPAN)


def test_parentheses_override_precedence() -> None:
    a, b, c = compare("a", "==", 1), compare("b", "==", 2), compare("c", "==", 3)
    expected = FilterAnd(FilterOr(a, b, NO_SPAN), c, NO_SPAN)
    assert filter_of("(a == 1 || b == 2) && c == 3") == expected
    assert filter_of("((a==1)||(b==2))&&(((c==3)))") == expected


def test_chains_group_from_the_left() -> None:
    a, b, c = compare("a", "==", 1), compare("b", "==", 2), compare("c", "==", 3)
    inner = FilterOr(a, b, NO_SPAN)
    assert filter_of("a == 1 || b == 2 || c == 3") == FilterOr(inner, c, NO_SPAN)


def test_long_chains_are_balanced_trees() -> None:
    # && and || over comparisons are associative; a balanced tree keeps a long flat filter
    # shallow for everything that walks it.
    a, b, c, d, e = (compare(name, "==", 1) for name in "abcde")
    ab, cd = FilterAnd(a, b, NO_SPAN), FilterAnd(c, d, NO_SPAN)
    expected = FilterAnd(FilterAnd(ab, cd, NO_SPAN), e, NO_SPAN)
    assert filter_of("a == 1 && b == 1 && c == 1 && d == 1 && e == 1") == expected


def _depth(node: object) -> int:
    if isinstance(node, FilterCompare):
        return 0
    assert isinstance(node, FilterAnd | FilterOr)
    return 1 + max(_depth(node.left), _depth(node.right))


def test_a_2000_term_filter_is_11_levels_deep() -> None:
    text = " || ".join(f"prev_pid == {i}" for i in range(2000))
    result = filter_of(text)
    assert _depth(result) == 11
    assert result.span == at(f"sched:sched_switch /{text}/", text)


def test_200_levels_of_parentheses_are_accepted() -> None:
    assert filter_of("(" * 200 + "prev_pid == 1" + ")" * 200) == compare("prev_pid", "==", 1)


def test_201_levels_of_parentheses_are_refused_at_the_201st() -> None:
    text = "sched:sched_switch /" + "(" * 500 + "prev_pid == 1" + ")" * 500 + "/"
    diagnostic = error(text)
    assert diagnostic.message == "bad filter: parentheses nested too deeply"
    assert diagnostic.span == at(text, "(", 200)
    assert diagnostic.hints == ("at most 200 levels of parentheses",)


def test_a_filter_tree_deeper_than_200_levels_is_refused() -> None:
    # Each level alternates && and || (so no chain flattens it) without 200 parentheses.
    inner = "prev_pid == 0"
    for level in range(1, 202):
        op = "&&" if level % 2 else "||"
        inner = f"(prev_pid == {level} {op} {inner})" if level % 2 == 0 else \
            f"prev_pid == {level} {op} {inner}"
    text = f"sched:sched_switch /{inner}/"
    diagnostic = error(text)
    assert diagnostic.message == "bad filter: nested too deeply"
    assert diagnostic.hints == ("at most 200 levels of parentheses and && / || groups",)


def test_filter_spans() -> None:
    text = "sched:sched_switch /prev_comm == foo || next_pid > 0x10/"
    result = ok(text)
    assert isinstance(result.filter, FilterOr)
    assert result.filter.left.span == at(text, "prev_comm == foo")
    assert result.filter.right.span == at(text, "next_pid > 0x10")
    assert result.filter.span == at(text, "prev_comm == foo || next_pid > 0x10")


def test_spec_spans_stop_before_the_filter() -> None:
    for text, probe in [
        ("sched:a   /x == 1/", "sched:a"),
        ("sdt:/lib.so:m  /x == 1/", "sdt:/lib.so:m"),
        ("probe:f%return  /x == 1/", "probe:f%return"),
    ]:
        assert ok(text).specs[0].span == at(text, probe)


def test_filter_applies_to_the_whole_list() -> None:
    result = ok("syscalls:sys_enter_open, syscalls:sys_enter_openat /dfd == 1/")
    assert len(result.specs) == 2
    assert result.filter == compare("dfd", "==", 1)


def test_filter_after_fetchargs_without_space() -> None:
    result = ok("probe:do_sys_open dfd=%di/dfd == 1/")
    assert result.specs == (
        KprobeSpec("do_sys_open", False, (FetchArg("dfd", "%di", NO_SPAN),), NO_SPAN),
    )
    assert result.filter == compare("dfd", "==", 1)


def test_filter_on_a_uprobe() -> None:
    result = ok("probe:/lib64/libc.so.6:malloc size=%di /size > 4096/")
    assert result.filter == compare("size", ">", 4096)


def test_benchmark_filter() -> None:
    result = ok("syscalls:sys_enter_futex /uaddr == 0x100 || uaddr == 0x200/")
    expected = FilterOr(compare("uaddr", "==", 0x100), compare("uaddr", "==", 0x200), NO_SPAN)
    assert result.filter == expected


def test_filter_spanning_lines() -> None:
    text = "sched:sched_switch /prev_pid == 0 ||\n    next_pid == 0/"
    sink = _sink()
    result = parse_eventdef(text, Span(2, 7, 3, 19), sink)
    assert result is not None
    assert isinstance(result.filter, FilterOr)
    assert result.filter.left.span == Span(2, 27, 2, 40)
    assert result.filter.right.span == Span(3, 5, 3, 18)


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sched", "sched"),  # no ':'
        (":sched_switch", ":sched_switch"),  # no system
        ("sched:", ""),  # no event
        ("sched:a b", "b"),  # fetch arguments on a tracepoint
        ("sched:a%return", "%return"),
        ("sched:a:b", ":b"),
        ("ftrace:function x", "x"),
        ("probe:", ""),
        ("probe:%return", "%return"),
        ("probe:foo:bar", ":bar"),  # relative uprobe path
        ("probe:foo%ret", "%ret"),
        ("probe:foo%returnx", "%returnx"),
        ("probe:foo%return%return", "%return%return"),
        ("probe:/bin/bash", ""),  # no ':' after the path
        ("probe:/bin/bash:", ""),
        ("probe:/bin/bash:12abc", "12abc"),
        ("probe:/bin/bash:0x", "0x"),
        ("probe:f $retval", "$retval"),  # $retval on an entry probe
        ("probe:/bin/ls:main r=$retval", "r=$retval"),
        ("probe:f 1x=%di", "1x=%di"),
        ("probe:f x=", "x="),
        ("probe:f =%di", "=%di"),
        ("sdt:lib.so:m", "lib.so:m"),  # relative path
        ("sdt:/lib.so", ""),
        ("sdt:/lib.so:", ""),
        ("sdt:/lib.so:m x", "x"),
        ("sdt:/lib.so:m%return", "%return"),
        ("sched:a sched:b", "sched:b"),  # missing comma
        ("sched:a,", ""),  # trailing comma
        ("sched:a,,sched:b", ","),
        ("sched:a /x == 1/ junk", "junk"),
        ("sched:a /x == 1", "/"),  # unclosed filter
        ("sched:a /", "/"),
    ],
)
def test_cannot_parse(text: str, fragment: str) -> None:
    span = cannot_parse(text)
    if fragment:
        assert span == at(text, fragment, text.count(fragment) - 1)
    else:  # points just after the text
        assert span == Span(1, COL + len(text), 1, COL + len(text) + 1)


def test_empty_eventdef() -> None:
    assert cannot_parse("") == Span(1, COL, 1, COL + 1)


def test_cannot_parse_collapses_multi_line_text_in_the_message() -> None:
    diagnostic = error("sched:a,\n  sched:b c", Span(1, COL, 2, 12))
    assert diagnostic.message == "cannot parse eventdef 'sched:a, sched:b c'"
    assert diagnostic.span == Span(2, 11, 2, 12)


def test_hint_says_what_was_expected() -> None:
    assert error("probe:foo:bar").hints == (
        "a user-space probe needs an absolute path: probe:/PATH:SYMBOL",
    )
    assert error("probe:f $retval").hints == (
        "'$retval' is only available in a return probe (SYMBOL%return)",
    )


def test_only_one_filter() -> None:
    text = "sched:a /x == 1/, sched:b"
    diagnostic = error(text)
    assert diagnostic.message == "eventdef only can append one filter"
    assert diagnostic.span == at(text, "/x == 1/")


def test_only_one_filter_even_when_the_last_has_one_too() -> None:
    text = "sched:a /x == 1/, sched:b /y == 2/"
    diagnostic = error(text)
    assert diagnostic.message == "eventdef only can append one filter"
    assert diagnostic.span == at(text, "/x == 1/")


@pytest.mark.parametrize(
    ("filter_text", "message", "fragment"),
    [
        ("", "bad filter: empty filter", "//"),
        ("   ", "bad filter: empty filter", "/   /"),
        ("x = 1", "bad filter: unsupported operator '='", "="),
        ("x ~ foo*", "bad filter: unsupported operator '~'", "~"),
        ("x & 1", "bad filter: unsupported operator '&'", "&"),
        ("x == 1 | y == 2", "bad filter: unsupported operator '|'", "|"),
        ("!(x == 1)", "bad filter: unsupported operator '!'", "!"),
        ("x == 1 and y == 2", "bad filter: unexpected 'and'", "and"),
        ("x == 1 y == 2", "bad filter: unexpected 'y'", "y"),
        ("x == 1)", "bad filter: unexpected ')'", ")"),
        ("(x == 1", "bad filter: unclosed '('", "("),
        ("x", "bad filter: expected a comparison after 'x' at the end of the filter", "/"),
        ("x 1", "bad filter: expected a comparison after 'x'", "1"),
        ("x ==", "bad filter: expected a value after '==' at the end of the filter", "/"),
        ("x == )", "bad filter: expected a value after '=='", ")"),
        ("== 1", "bad filter: expected a field name, found '=='", "=="),
        ("1 == x", "bad filter: expected a field name, found '1'", "1"),
        ('"x" == 1', "bad filter: expected a field name, found 'x'", '"x"'),
        ("x == 1 &&", "bad filter: expected a field name at the end of the filter", "/"),
        ("x < foo", "bad filter: '<' needs a number, not 'foo'", "foo"),
        ('x >= "1"', "bad filter: '>=' needs a number, not '1'", '"1"'),
        ('x == "abc', "bad filter: unterminated string", '"abc'),
        (
            "x == 18446744073709551616",
            "bad filter: number out of range '18446744073709551616'",
            "18446744073709551616",
        ),
        (
            "x == -9223372036854775809",
            "bad filter: number out of range '-9223372036854775809'",
            "-9223372036854775809",
        ),
    ],
)
def test_bad_filter(filter_text: str, message: str, fragment: str) -> None:
    text = f"sched:a /{filter_text}/"
    diagnostic = error(text)
    assert diagnostic.message == message
    assert diagnostic.span == at(text, fragment, text.count(fragment) - 1)


def test_bad_filter_span_on_a_later_line() -> None:
    text = "sched:a /x == 1 &&\n  y = 2/"
    diagnostic = error(text, Span(5, 7, 6, 9))
    assert diagnostic.message == "bad filter: unsupported operator '='"
    assert diagnostic.span == Span(6, 5, 6, 6)


def test_rendered_diagnostic() -> None:
    source = Source("t.kp", "trace sched:a /x < foo/ { }\n")
    sink = DiagnosticSink(source)
    assert parse_eventdef("sched:a /x < foo/", Span(1, 7, 1, 24), sink) is None
    assert sink.render_all() == (
        "t.kp:1:20: error: bad filter: '<' needs a number, not 'foo'\n"
        "trace sched:a /x < foo/ { }\n"
        "                   ^~~\n"
        "hint: strings (and globs) can only be compared with == and !=\n"
    )


# ------------------------------------------------------------------ intervals


def interval(text: str) -> tuple[int | None, DiagnosticSink]:
    sink = _sink()
    return parse_interval(text, Span(2, 6, 2, 6 + len(text)), sink), sink


@pytest.mark.parametrize(
    ("text", "nanoseconds"),
    [
        ("1s", 1_000_000_000),
        ("5sec", 5_000_000_000),
        ("200ms", 200_000_000),
        ("200msec", 200_000_000),
        ("10us", 10_000),
        ("10usec", 10_000),
        ("010ms", 10_000_000),  # decimal, not octal
        ("60s", 60_000_000_000),
        ("99hz", 10_101_010),  # beyond ktap: a rate, whole nanoseconds
        ("1hz", 1_000_000_000),
    ],
)
def test_interval(text: str, nanoseconds: int) -> None:
    result, sink = interval(text)
    assert result == nanoseconds
    assert sink.diagnostics == []


def test_interval_ignores_text_after_the_first_space_with_a_warning() -> None:
    result, sink = interval("1s  trailing words")
    assert result == 1_000_000_000
    (warning,) = sink.diagnostics
    assert warning.severity == "warning"
    assert warning.message == "ignoring 'trailing words' after the timer interval"
    assert warning.span == Span(2, 10, 2, 24)
    assert not sink.has_errors


@pytest.mark.parametrize(
    ("text", "span", "hint_part"),
    [
        ("10ns", (8, 10), "ktap removed them"),
        ("10nsec", (8, 12), "ktap removed them"),
        ("10m", (8, 9), "directly followed by"),
        ("10min", (8, 11), "directly followed by"),
        ("10S", (8, 9), "directly followed by"),
        ("10", (8, 9), "directly followed by"),
        ("1.5s", (7, 10), "directly followed by"),
        ("10 s", (8, 9), "directly followed by"),
        ("s", (6, 7), "directly followed by"),
        ("-1s", (6, 9), "directly followed by"),
        ("", (6, 7), "directly followed by"),
        ("0s", (6, 8), "greater than zero"),
        ("0000us", (6, 12), "greater than zero"),
        ("9223372037s", (6, 17), "shorter"),
        ("1s\tx", (7, 10), "directly followed by"),
        ("0hz", (6, 9), "the rate must be"),
        ("2000000000hz", (6, 18), "the rate must be"),
    ],
)
def test_bad_interval(text: str, span: tuple[int, int], hint_part: str) -> None:
    result, sink = interval(text)
    assert result is None
    (diagnostic,) = sink.diagnostics
    assert diagnostic.message == f"cannot parse timer interval: {' '.join(text.split())}"
    assert diagnostic.span == Span(2, span[0], 2, span[1])
    assert hint_part in diagnostic.hints[0]
