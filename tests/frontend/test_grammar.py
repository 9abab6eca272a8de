"""Every statement and expression form of the ktap HEAD grammar, checked through sexpr.dump."""

from __future__ import annotations

import time

import pytest

from frontend import ast
from frontend.diagnostics import DiagnosticSink, Source, Span
from frontend.parser import parse
from frontend.sexpr import dump


def parse_ok(text: str) -> ast.Chunk:
    sink = DiagnosticSink(Source("test.kp", text))
    chunk = parse(sink.source, sink)
    assert chunk is not None, sink.render_all()
    assert sink.diagnostics == []
    return chunk


def dumped(text: str) -> str:
    return dump(parse_ok(text)).rstrip("\n")


def expr(text: str) -> str:
    """The dump of one expression, parsed as the value of `var _ = ...`."""
    prefix = "(local (_) ("
    out = dumped(f"var _ = {text}")
    assert out.startswith(prefix) and out.endswith("))")
    return out[len(prefix) : -2]


# ---------------------------------------------------------------- statements

STATEMENTS = [
    (";", ""),
    (";;", ""),
    ("var x", "(local (x) ())"),
    ("var a, b = 1, 2", "(local (a b) (1 2))"),
    ("var x = 1 + 2 * 3", "(local (x) ((+ 1 (* 2 3))))"),
    ("x = 1", "(= (x) (1))"),
    ("a, t[1] = 1, 2", "(= (a (index t 1)) (1 2))"),
    ("t.x.y = f()", '(= ((index (index t "x") "y")) ((call f)))'),
    ("s[probename] += 1", "(+= (index s probename) 1)"),
    ("count += arg1", "(+= count arg1)"),
    ("f()", "(call f)"),
    ("f(1, 2)", "(call f 1 2)"),
    ("o:m(1)", "(method o m 1)"),
    ("f(1)(2)", "(call (call f 1) 2)"),
    ("(f)(1)", "(call (paren f) 1)"),
    ("t.a.b(1)", '(call (index (index t "a") "b") 1)'),
    ("if (x) { f() }", "(if x {(call f)})"),
    ("if (x) { f() } else { g() }", "(if x {(call f)} else {(call g)})"),
    (
        "if (a) { f() } elseif (b) { g() } elseif (c) { } else { h() }",
        "(if a {(call f)} elseif b {(call g)} elseif c {} else {(call h)})",
    ),
    ("while (i < 10) { i = i + 1 }", "(while (< i 10) {(= (i) ((+ i 1)))})"),
    ("for (i = 1, 10) { }", "(for i 1 10 {})"),
    ("for (i = 18, 0, -1) { f(i) }", "(for i 18 0 (- 1) {(call f i)})"),
    ("for (k, v in pairs(t)) { }", "(for-in (k v) ((call pairs t)) {})"),
    ("for (k in pairs(t)) { }", "(for-in (k) ((call pairs t)) {})"),
    ("for (a, b, c in f, s, 0) { }", "(for-in (a b c) (f s 0) {})"),
    ("repeat i = i + 1 until (i > 3)", "(repeat {(= (i) ((+ i 1)))} (> i 3))"),
    ("repeat until (x)", "(repeat {} x)"),
    ("do f() end", "(do {(call f)})"),
    ("do end", "(do {})"),
    ("function f(a, b) { return a + b }", "(function f (a b) {(return (+ a b))})"),
    ("function f(...) { }", "(function f (...) {})"),
    ("function f(a, ...) { }", "(function f (a ...) {})"),
    ("var function g() { return }", "(function g () {(return)})"),
    ("function f() { function g() { } }", "(function f () {(function g () {})})"),
    ("::top::", "(label top)"),
    ("while (1) { break }", "(while 1 {(break)})"),
    ("while (1) { break f() }", "(while 1 {(break) (call f)})"),
    ("return", "(return)"),
    ("return;", "(return)"),
    ("return 1", "(return 1)"),
    ("return f(), 2;", "(return (call f) 2)"),
    ("f() ; return", "(call f)\n(return)"),
    ("do return end", "(do {(return)})"),
    ("if (x) { return 1 }", "(if x {(return 1)})"),
    ("trace syscalls:sys_enter_* { }", '(trace "syscalls:sys_enter_*" {})'),
    (
        "trace probe:do_sys_open dfd=%di filename=%si { print(arg1) }",
        '(trace "probe:do_sys_open dfd=%di filename=%si" {(call print arg1)})',
    ),
    (
        "trace sched:sched_switch /prev_comm == foo || next_comm == foo/ { }",
        '(trace "sched:sched_switch /prev_comm == foo || next_comm == foo/" {})',
    ),
    (
        "trace sched:sched_wakeup,\n      sched:sched_wakeup_new\n{ }",
        '(trace "sched:sched_wakeup,\\n      sched:sched_wakeup_new" {})',
    ),
    ("trace *:* { s[execname] += 1 }", '(trace "*:*" {(+= (index s execname) 1)})'),
    ("trace_end { print_hist(s) }", "(trace_end {(call print_hist s)})"),
    ("tick-1s { print(1) }", '(tick "1s" {(call print 1)})'),
    ("tick-200ms { }", '(tick "200ms" {})'),
    ("tick - 5s { }", '(tick "5s" {})'),
    (
        "profile-10us { s[stack(-1, 12)] += 1 }",
        '(profile "10us" {(+= (index s (call stack (- 1) 12)) 1)})',
    ),
    ("if (x) { trace a:b { } }", '(if x {(trace "a:b" {})})'),
    ("f() g()", "(call f)\n(call g)"),
    ("x = 1 y = 2", "(= (x) (1))\n(= (y) (2))"),
    ("x = f\n.y", '(= (x) ((index f "y")))'),
    ("x = pid\n(f)(1)", "(= (x) (pid))\n(call (paren f) 1)"),
    (
        "and = 1 or = 2 not = 3 local = 4",
        "(= (and) (1))\n(= (or) (2))\n(= (not) (3))\n(= (local) (4))",
    ),
]


@pytest.mark.parametrize(("source", "expected"), STATEMENTS)
def test_statement(source: str, expected: str) -> None:
    assert dumped(source) == expected


# ---------------------------------------------------------------- expressions

EXPRESSIONS = [
    ("nil", "nil"),
    ("true", "true"),
    ("false", "false"),
    ("42", "42"),
    ('"s"', '"s"'),
    ("...", "..."),
    ("x", "x"),
    ("(x)", "(paren x)"),
    ("((x))", "(paren (paren x))"),
    ("t.x", '(index t "x")'),
    ('t["x"]', '(index t "x")'),
    ("t[k][1]", "(index (index t k) 1)"),
    ("f(a)[1].b", '(index (index (call f a) 1) "b")'),
    ("f{1, 2}", "(call f (table 1 2))"),
    ('f"str"', '(call f "str")'),
    ("f[[long]]", '(call f "long")'),
    ("f[==[a]]b]==]", '(call f "a]]b")'),
    ('o:m"x"', '(method o m "x")'),
    ("o:m{}", "(method o m (table))"),
    ("o.p:m(1, 2)", '(method (index o "p") m 1 2)'),
    ("function (a, b) { return a * b }", "(function (a b) {(return (* a b))})"),
    ("function () { }", "(function () {})"),
    ("function (...) { }", "(function (...) {})"),
    ("{}", "(table)"),
    ("{1, 2, 3}", "(table 1 2 3)"),
    ('{x = 3, ["k"] = 4; [5] = "v",}', '(table (= "x" 3) (= "k" 4) (= 5 "v"))'),
    ("{1;}", "(table 1)"),
    ("{f(x), {}}", "(table (call f x) (table))"),
    ("{x}", "(table x)"),
    ("{x == y}", "(table (== x y))"),
    ("pid", "pid"),
    ("tid + uid + cpu", "(+ (+ tid uid) cpu)"),
    ("execname .. argstr .. probename", "(.. execname (.. argstr probename))"),
    ("arg0 + arg9", "(+ arg0 arg9)"),
    ("f(pid, arg1)", "(call f pid arg1)"),
    ("-x", "(- x)"),
    ("!x", "(! x)"),
    ("- -x", "(- (- x))"),
    ("!!x", "(! (! x))"),
    ("-5", "(- 5)"),
]


@pytest.mark.parametrize(("source", "expected"), EXPRESSIONS)
def test_expression(source: str, expected: str) -> None:
    assert expr(source) == expected


PRECEDENCE = [
    # each level against the next
    ("a || b && c", "(|| a (&& b c))"),
    ("a && b || c", "(|| (&& a b) c)"),
    ("a && b == c", "(&& a (== b c))"),
    ("a == b .. c", "(== a (.. b c))"),
    ("a .. b + c", "(.. a (+ b c))"),
    ("a + b .. c", "(.. (+ a b) c)"),
    ("a + b * c", "(+ a (* b c))"),
    ("a * b + c", "(+ (* a b) c)"),
    ("-a * b", "(* (- a) b)"),
    ("!a == b", "(== (! a) b)"),
    ("-a ^ b", "(- (^ a b))"),
    ("-2 ^ 2", "(- (^ 2 2))"),
    ("2 ^ -3", "(^ 2 (- 3))"),
    ("a ^ b * c", "(* (^ a b) c)"),
    ("(a + b) * c", "(* (paren (+ a b)) c)"),
    # associativity
    ("a || b || c", "(|| (|| a b) c)"),
    ("a && b && c", "(&& (&& a b) c)"),
    ("a < b < c", "(< (< a b) c)"),
    ("a == b != c", "(!= (== a b) c)"),
    ("a .. b .. c", "(.. a (.. b c))"),
    ("a - b - c", "(- (- a b) c)"),
    ("a + b - c", "(- (+ a b) c)"),
    ("a / b / c", "(/ (/ a b) c)"),
    ("a % b * c", "(* (% a b) c)"),
    ("a ^ b ^ c", "(^ a (^ b c))"),
    # every comparison operator
    ("a <= b", "(<= a b)"),
    ("a >= b", "(>= a b)"),
    ("a > b", "(> a b)"),
    ("a != b", "(!= a b)"),
    # comments anywhere, even mid-expression
    ("1 + # comment\n 2", "(+ 1 2)"),
    ("1 + -- comment\n 2", "(+ 1 2)"),
    ("1 + --[[ block ]] 2", "(+ 1 2)"),
    ("1 + --[==[ a ]] b\n ]==] 2", "(+ 1 2)"),
    ("a--1", "a"),
    ("a - -1", "(- a (- 1))"),
]


@pytest.mark.parametrize(("source", "expected"), PRECEDENCE)
def test_precedence_and_associativity(source: str, expected: str) -> None:
    assert expr(source) == expected


# ---------------------------------------------------------------- node details


def test_function_statement_sets_the_function_name() -> None:
    (stmt,) = parse_ok("function inc(n) { return n + 1 }").body.stmts
    assert isinstance(stmt, ast.FunctionStmt)
    assert stmt.name == "inc" and stmt.func.name == "inc"
    assert stmt.func.params == ["n"] and not stmt.func.is_vararg
    assert stmt.name_span == Span(1, 10, 1, 13)


def test_anonymous_function_has_no_name() -> None:
    (stmt,) = parse_ok("var f = function (a) { }").body.stmts
    assert isinstance(stmt, ast.Local)
    (func,) = stmt.values
    assert isinstance(func, ast.FunctionExpr) and func.name is None


def test_field_is_index_with_string_key() -> None:
    (stmt,) = parse_ok("t.x = 1").body.stmts
    assert isinstance(stmt, ast.Assign)
    (target,) = stmt.targets
    assert isinstance(target, ast.Index)
    assert isinstance(target.key, ast.String) and target.key.value == b"x"
    assert target.key.span == Span(1, 3, 1, 4)


def test_spans() -> None:
    chunk = parse_ok("var s = {}\nif (x) {\n  f(a + b)\n}\n")
    local, if_stmt = chunk.body.stmts
    assert local.span == Span(1, 1, 1, 11)
    assert isinstance(local, ast.Local) and local.name_spans == [Span(1, 5, 1, 6)]
    assert if_stmt.span == Span(2, 1, 4, 2)
    assert isinstance(if_stmt, ast.If)
    body = if_stmt.clauses[0].body
    assert body.span == Span(2, 8, 4, 2)
    (call_stmt,) = body.stmts
    assert isinstance(call_stmt, ast.CallStmt)
    assert call_stmt.span == Span(3, 3, 3, 11)
    assert isinstance(call_stmt.call, ast.Call)
    (arg,) = call_stmt.call.args
    assert arg.span == Span(3, 5, 3, 10)
    assert chunk.span == Span(1, 1, 5, 1)


def test_trace_and_timer_keep_raw_text_spans() -> None:
    trace, timer = parse_ok("trace  probe:vfs_read%return fd=$retval  {}\ntick-5s {}").body.stmts
    assert isinstance(trace, ast.Trace) and isinstance(timer, ast.Timer)
    assert trace.eventdef == "probe:vfs_read%return fd=$retval"
    assert trace.eventdef_span == Span(1, 8, 1, 40)
    assert timer.kind == "tick" and timer.interval == "5s"
    assert timer.interval_span == Span(2, 6, 2, 8)


def test_generic_for_and_numeric_for_name_spans() -> None:
    numeric, generic = parse_ok("for (i = 1, 2) {}\nfor (k, v in pairs(t)) {}").body.stmts
    assert isinstance(numeric, ast.NumericFor) and numeric.var_span == Span(1, 6, 1, 7)
    assert numeric.step is None
    assert isinstance(generic, ast.GenericFor)
    assert generic.name_spans == [Span(2, 6, 2, 7), Span(2, 9, 2, 10)]


def test_empty_and_comment_only_scripts() -> None:
    assert parse_ok("").body.stmts == []
    assert parse_ok("# nothing\n-- here\n--[[ at\nall ]]\n").body.stmts == []


def test_nesting_up_to_the_limit() -> None:
    assert dumped("x = " + " + ".join(["1"] * 150)).count("(+") == 149
    assert dumped("x = " + "(" * 150 + "1" + ")" * 150).count("(paren") == 150
    nested_ifs = "if (x) {" * 90 + "}" * 90
    assert dumped(nested_ifs).count("(if") == 90


def test_parses_a_realistic_script() -> None:
    script = """#!/usr/bin/env ktap -q
# thread-local timing
var self = {}
var lats = table.new(0, 2000)
trace probe:vfs_read { self[tid] = gettimeofday_us() }
trace probe:vfs_read%return {
        if (self[tid] == nil) { return }
        var d = gettimeofday_us() - self[tid]
        lats[d / 10 * 10] += 1
        self[tid] = nil
}
trace_end {
        printf("%-10s %s\\n", "LAT", "COUNT")
        for (k, v in pairs(lats)) { printf("%-10d %d\\n", k, v) }
        print_hist(lats)
}
"""
    out = dumped(script).splitlines()
    assert out[0] == "(local (self) ((table)))"
    assert out[2] == '(trace "probe:vfs_read" {(= ((index self tid)) ((call gettimeofday_us)))})'
    assert len(out) == 5


def test_parsing_1000_lines_is_fast() -> None:
    block = (
        "var s = {}\n"
        "trace syscalls:sys_enter_* { s[probename] += 1; if (pid == 3) { print(arg0) } }\n"
        'function f(a, b) { return a * 2 + b .. "x" }\n'
        "for (i = 1, 10) { s[i] = f(i, 2) - -i }\n"
        "tick-1s { print_hist(s); delete(s) }\n"
    )
    parse_ok("x = 1")  # build the parser outside the timed part
    start = time.perf_counter()
    parse_ok(block * 200)
    assert time.perf_counter() - start < 1.0
