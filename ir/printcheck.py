"""Compile-time checks of `printf` calls whose format is a constant: the format must be
one `printf` accepts, it must not take more values than the call gives, and a value
whose type inference knows must suit its conversion (`%d` a number, `%s` a string).

What the types leave open (a dynamically typed value, a number that may be nil) is
checked when it runs, as ktap did. Runs over every function, user space and kernel
alike: the error is reported at the call before anything loads.
"""

from __future__ import annotations

from frontend.diagnostics import DiagnosticSink
from frontend.types import (
    AnyT,
    ArgstrT,
    BoolT,
    IntT,
    NilT,
    OptT,
    StackT,
    StrT,
    TableT,
    Type,
)
from ir import fmt, ops
from ir.values import KtapRuntimeError


def _value_type(value: ops.Value) -> Type:
    t = value.type
    return t.inner if isinstance(t, ops.CellT) else t


def _a(t: Type) -> str:
    match t:
        case OptT(inner=inner):
            return _a(inner)
        case IntT():
            return "a number"
        case StrT():
            return "a string"
        case NilT():
            return "nil"
        case BoolT():
            return "a boolean"
        case StackT():
            return "a stack"
        case ArgstrT():
            return "argstr"
        case TableT():
            return "a table"
    return "a function"


def _suits(conversion: str, t: Type) -> bool:
    """Whether a value of type `t` may suit `conversion` (it surely does not if False)."""
    if isinstance(t, AnyT):
        return True
    inner = t.inner if isinstance(t, OptT) else t
    if conversion in fmt.STRING_CONVERSIONS:
        # nil prints as "nil", argstr as the event's text.
        return isinstance(inner, StrT | NilT | ArgstrT)
    return isinstance(inner, IntT)


def _check_printf(op: ops.CallBuiltin, sink: DiagnosticSink) -> None:
    first = op.args[0] if op.args else None
    if not (isinstance(first, ops.Const) and isinstance(first.value, bytes)):
        return  # a computed format is checked when it runs
    try:
        conversions = fmt.printf_conversions(first.value)
    except KtapRuntimeError as e:
        sink.error(op.span, f"printf: {e.message}")
        return
    values = op.args[1:]
    if len(conversions) > len(values):
        sink.error(op.span, f"printf: the format takes {len(conversions)} "
                            f"value{'s' if len(conversions) != 1 else ''} but "
                            f"{len(values)} {'is' if len(values) == 1 else 'are'} given")
        return
    for index, (conversion, value) in enumerate(zip(conversions, values, strict=False)):
        t = _value_type(value)
        if not _suits(conversion, t):
            need = "a string" if conversion in fmt.STRING_CONVERSIONS else "a number"
            # ktap numbers printf's arguments from the format, argument 1.
            sink.error(op.span, f"printf: %{conversion} needs {need}, but argument "
                                f"{index + 2} is {_a(t)}")


def check_prints(module: ops.Module, sink: DiagnosticSink) -> None:
    for function in module.functions.values():
        for block in function.blocks:
            for op in block.ops:
                if isinstance(op, ops.CallBuiltin) and op.name == "printf":
                    _check_printf(op, sink)
