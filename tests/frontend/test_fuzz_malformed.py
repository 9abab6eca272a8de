"""Malformed scripts never crash the parser: each gets at least one well-placed diagnostic.

The inputs are mutations (truncation, garbled characters, deleted, duplicated and swapped
tokens) of a corpus of valid ktap scripts, drawn from a fixed seed so that runs are repeatable.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.diagnostics import DiagnosticSink, Source, render
from frontend.parser import parse
from frontend.sexpr import dump

CORPUS = [
    # syscall counting with a histogram at the end
    """#!/usr/bin/env ktap
var s = {}
trace syscalls:sys_enter_* { s[probename] += 1 }
trace_end { print_hist(s) }
""",
    # thread-local latency
    """var self = {}
var lats = table.new(0, 2000)
trace probe:vfs_read { self[tid] = gettimeofday_us() }
trace probe:vfs_read%return {
    if (self[tid] == nil) { return }
    var d = gettimeofday_us() - self[tid]
    lats[d / 10 * 10] += 1
    self[tid] = nil
}
trace_end { print_hist(lats, 30) }
""",
    # kprobe with fetch args and a filter
    """trace probe:do_sys_open dfd=%di filename=%si flags=%dx mode=%cx /dfd == 1/ {
    printf("%s: %s\\n", execname, user_string(arg2))
}
""",
    # timers
    """var n = 0
tick-1s { print("tick", n); n = 0 }
profile-10us { n += 1 }
tick-60s { exit() }
""",
    # sctop-like
    """var s = {}
trace syscalls:sys_enter_* { s[probename] += 1 }
tick-5s {
    ansi.clear_screen()
    print_hist(s)
    delete(s)
}
""",
    # functions, closures, recursion
    """function fib(n) {
    if (n < 2) { return n }
    return fib(n - 1) + fib(n - 2)
}
var mul = function (a, b) { return a * b }
var function twice(f, x) { return f(f(x)) }
print(fib(20), mul(6, 7), twice(function (v) { return v + 1 }, 1))
""",
    # control flow
    """var sum = 0
for (i = 1, 10) { sum = sum + i }
for (i = 10, 1, -2) { if (i % 4 == 0) { break } }
var j = 0
while (j < 5) { j = j + 1 }
repeat j = j - 1 until (j == 0)
do var inner = 3 end
::done::
print(sum, j)
""",
    # tables
    """var days = {"Sunday", "Monday", "Tuesday"}
var conf = {verbose = true, ["level"] = 3; [5] = "five",}
var nested = {inner = {1, 2, {x = 1}}}
for (k, v in pairs(conf)) { print(k, v) }
print(days[2], conf.level, nested.inner[3].x, len(days))
""",
    # strings and escapes
    """var a = "tab\\there\\n"
var b = 'quote \\' and \\x41\\066\\z
       continued'
var c = [[long
string]] .. [==[with ]] inside]==]
print(a .. b .. c)
""",
    # comments everywhere
    """--[[ block
comment ]]
var x = 1 + # hash comment
    2 -- dash comment
--[==[ another ]]
]==]
print(x)
""",
    # errinfo-like big constructor
    """var errno = {[1] = "EPERM", [2] = "ENOENT", [13] = "EACCES"}
trace syscalls:sys_exit_* {
    if (arg1 < 0) {
        var e = errno[-arg1]
        printf("%-15s %s\\n", probename, e || "unknown")
    }
}
""",
    # scheduler events with an event list and elseif chains
    """var state = {}
trace sched:sched_wakeup, sched:sched_wakeup_new {
    state[arg1] = 1
}
trace sched:sched_switch {
    if (arg3 == 0) { state[arg1] = 2 }
    elseif (arg3 == 1) { state[arg1] = 3 } else { state[arg1] = nil }
}
""",
    # methods and calls without parentheses
    """var o = {n = 0}
o.inc = function (self, by) { self.n += by }
o:inc(2)
print{1, 2}
print"hello"
print[[long]]
""",
    # uprobes and stacks
    """var s = {}
trace probe:/lib64/libc.so.6:malloc size=%di { s[stack(-1, 12)] += arg1 }
trace probe:/lib64/libc.so.6:free%return { print(cpu, pid, tid, uid, execname, argstr) }
trace_end { for (k, v in pairs(s)) { print(k, v) } }
""",
    # numbers
    """var big = 0xffffffffffffffff
var oct = 0755
var neg = -5 - -3
print(big, oct, neg, 2 ^ 3, !true, 1 != 2 && 3 <= 4 || 5 >= 6)
""",
]

_TOKEN = re.compile(r"[A-Za-z_0-9]+|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|\S")
_GARBAGE = list("(){}[];,.:=+-*/%^!<>&|#\"'`$?~\\@") + ["\n", "0x", "..", "end", "var", "if"]


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _splice(text: str, match: re.Match[str], replacement: str) -> str:
    return text[: match.start()] + replacement + text[match.end() :]


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(1, len(text))]


def garble(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 3)):
        chars[rng.randrange(len(chars))] = rng.choice(_GARBAGE)
    return "".join(chars)


def delete_token(rng: random.Random, text: str) -> str:
    return _splice(text, rng.choice(_tokens(text)), "")


def duplicate_token(rng: random.Random, text: str) -> str:
    match = rng.choice(_tokens(text))
    return _splice(text, match, match.group() + " " + match.group())


def swap_tokens(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    i = rng.randrange(len(tokens) - 1)
    first, second = tokens[i], tokens[i + 1]
    return (
        text[: first.start()]
        + second.group()
        + text[first.end() : second.start()]
        + first.group()
        + text[second.end() :]
    )


def shuffle_line(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True)
    i = rng.randrange(len(lines))
    words = [m.group() for m in _TOKEN.finditer(lines[i])]
    rng.shuffle(words)
    lines[i] = " ".join(words) + "\n"
    return "".join(lines)


MUTATIONS: list[Callable[[random.Random, str], str]] = [
    truncate,
    garble,
    delete_token,
    duplicate_token,
    swap_tokens,
    shuffle_line,
]


def _check_malformed(source: Source, sink: DiagnosticSink) -> None:
    assert sink.diagnostics, source.text
    for diagnostic in sink.diagnostics:
        assert diagnostic.severity == "error"
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1, (source.text, diagnostic)
        assert "internal error" not in diagnostic.message, (source.text, diagnostic)
        rendered = render(source, diagnostic)
        where = f"fuzz.kp:{diagnostic.span.line}:{diagnostic.span.col}: error: "
        assert rendered.startswith(where + diagnostic.message + "\n")


def test_corpus_is_valid() -> None:
    for text in CORPUS:
        sink = DiagnosticSink(Source("corpus.kp", text))
        assert parse(sink.source, sink) is not None, sink.render_all()


def test_malformed_scripts_get_diagnostics_never_exceptions() -> None:
    rng = random.Random(20140527)
    malformed = 0
    for _ in range(900):
        text = rng.choice(CORPUS)
        for _ in range(rng.randint(1, 2)):
            text = rng.choice(MUTATIONS)(rng, text)
        source = Source("fuzz.kp", text)
        sink = DiagnosticSink(source)
        chunk = parse(source, sink)  # must not raise
        if chunk is None:
            malformed += 1
            _check_malformed(source, sink)
        else:
            assert sink.diagnostics == []
            dump(chunk)
    assert malformed >= 500


_PIECES = [*"ab1 \n\t(){}[]=+-.,;:#\"'\\x0", "var ", "if ", "trace ", "pid", "--[["]


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map("".join))
def test_arbitrary_text_never_raises(text: str) -> None:
    source = Source("fuzz.kp", text)
    sink = DiagnosticSink(source)
    if parse(source, sink) is None:
        _check_malformed(source, sink)
    else:
        assert sink.diagnostics == []
