"""ktap's function-style probe registration (Part B §3.4) as the statements it stands for.

`kdebug.kprobe("f", function () { body })` is `trace probe:f { body }`,
`kdebug.kretprobe("f", fn)` is `trace probe:f%return { ... }`,
`kdebug.tracepoint("ev", fn)` is `trace *:ev { ... }` (or `trace sys:ev` when a system is
named), `kdebug.trace_end(fn)` is `trace_end { ... }`, and `timer.tick("1s", fn)` and
`timer.profile("10us", fn)` are `tick-1s { ... }` and `profile-10us { ... }`.

kllvm compiles probes ahead of time, so the call must be a statement whose arguments are
known when compiling: a string constant and a function literal without parameters. The
name resolver calls `statement_for` on each call statement of a library function that
registers probes (the library not shadowed by a variable) and resolves the statement it
gives instead of the call; the IR lowering lowers that statement in the call's place.
"""

from __future__ import annotations

import re

from frontend import ast
from frontend.diagnostics import DiagnosticSink

# What each registration function becomes; the name argument's pattern and its use.
_KERNEL_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,127}")
_EVENT = re.compile(r"(?:[A-Za-z0-9_]{1,64}:)?[A-Za-z0-9_]{1,128}")
_INTERVAL = re.compile(r"[0-9]{1,20}[a-z]{0,4}")

_NAMED: dict[str, tuple[re.Pattern[str], str]] = {
    "kdebug.kprobe": (_KERNEL_SYMBOL, "a kernel function name"),
    "kdebug.kretprobe": (_KERNEL_SYMBOL, "a kernel function name"),
    "kdebug.tracepoint": (_EVENT, "a tracepoint name, e.g. \"sys_enter_open\""),
    "timer.tick": (_INTERVAL, "an interval, e.g. \"1s\""),
    "timer.profile": (_INTERVAL, "an interval, e.g. \"10us\""),
}
FUNCTIONS = frozenset({*_NAMED, "kdebug.trace_end"})


def usage(name: str) -> str:
    """How a registration function is written."""
    if name == "kdebug.trace_end":
        return f"{name}(function () {{ ... }})"
    return f"{name}(\"NAME\", function () {{ ... }})"


def called(call: ast.Call) -> tuple[ast.Name, str] | None:
    """The library name node and the full name of a registration function called by `call`."""
    match call.func:
        case ast.Index(obj=ast.Name(name=library) as obj, key=ast.String(value=member)):
            name = f"{library}.{member.decode(errors='replace')}"
            if name in FUNCTIONS:
                return obj, name
    return None


def statement_for(name: str, call: ast.CallStmt, sink: DiagnosticSink) -> ast.Stmt | None:
    """The statement the registration call stands for; None after reporting why it has none."""
    assert isinstance(call.call, ast.Call)
    args = call.call.args
    expected = 1 if name == "kdebug.trace_end" else 2
    how = f"write {usage(name)}"
    if len(args) != expected:
        sink.error(call.span, f"'{name}' takes {expected} argument{'s' * (expected > 1)}",
                   hints=(how,))
        return None
    handler = args[-1]
    if not isinstance(handler, ast.FunctionExpr):
        sink.error(handler.span, f"the handler of '{name}' must be a function literal",
                   hints=("kllvm compiles probes ahead of time: " + how,))
        return None
    if handler.params or handler.is_vararg:
        sink.error(handler.span, "a probe handler takes no parameters",
                   hints=("read the event through argN, probename, pid, ...",))
        return None
    if expected == 1:
        return ast.TraceEnd(call.span, handler.body)
    target = args[0]
    pattern, what = _NAMED[name]
    text = target.value.decode(errors="replace") if isinstance(target, ast.String) else None
    if text is None or not pattern.fullmatch(text):
        sink.error(target.span, f"the first argument of '{name}' must be {what}, "
                                "as a string constant", hints=(how,))
        return None
    match name:
        case "kdebug.kprobe":
            return ast.Trace(call.span, f"probe:{text}", target.span, handler.body)
        case "kdebug.kretprobe":
            return ast.Trace(call.span, f"probe:{text}%return", target.span, handler.body)
        case "kdebug.tracepoint":
            eventdef = text if ":" in text else f"*:{text}"
            return ast.Trace(call.span, eventdef, target.span, handler.body)
    kind = name.removeprefix("timer.")
    return ast.Timer(call.span, kind, text, target.span, handler.body)
