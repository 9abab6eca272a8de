"""An event's `print fmt` (its `format` file) applied to a record, as the kernel's `trace`
file shows it: `"filename=%s pid=%d", __get_str(filename), REC->pid` gives
`filename=/bin/ls pid=42`.

Written by hand: the kernel's format is C (a printf string and C expressions over REC), and
no Python library evaluates it. Supported: the printf conversions %d %i %u %x %X %o %c %s %p
(with flags, width, precision and the h/l/ll/z length modifiers; %p as 0x-hex: the kernel
hashes pointers, which user space cannot repeat), the arguments `REC->field`,
`__get_str(field)`, integer and string literals, C casts, `cond ? a : b`, the binary
operators of C but comparisons (`| & ^ << >> + - * / % == != && ||`), and
`__print_symbolic` / `__print_flags`.
Anything else raises `Unsupported`, and the caller falls back to `name=value` pairs.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Lookup = Callable[[str, bool], "int | bytes"]  # (field name, as a string?) -> value

_CONV = re.compile(rb"%([-+ #0]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|j|t)?([diuxXocsp%])")
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


class Unsupported(Exception):
    """A print fmt construct this renderer does not evaluate."""


def split(print_fmt: str) -> tuple[bytes, list[str]]:
    """The format string (unescaped) and the argument expressions."""
    if not print_fmt.startswith('"'):
        raise Unsupported("no format string")
    out, i = [], 1
    while i < len(print_fmt) and print_fmt[i] != '"':
        if print_fmt[i] == "\\" and i + 1 < len(print_fmt):
            out.append(_ESCAPES.get(print_fmt[i + 1], "\\" + print_fmt[i + 1]))
            i += 2
            continue
        out.append(print_fmt[i])
        i += 1
    rest = print_fmt[i + 1:].strip()
    args = _top_level(rest[1:]) if rest.startswith(",") else []
    return "".join(out).encode(), args


def _top_level(text: str, sep: str = ",") -> list[str]:
    parts, depth, start, quoted = [], 0, 0, False
    for i, ch in enumerate(text):
        if ch == '"' and (i == 0 or text[i - 1] != "\\"):
            quoted = not quoted
        elif not quoted and ch in "({[":
            depth += 1
        elif not quoted and ch in ")}]":
            depth -= 1
        elif not quoted and depth == 0 and ch == sep:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _strip_parens(expr: str) -> str:
    while expr.startswith("(") and expr.endswith(")") and _closing(expr, 0) == len(expr) - 1:
        expr = expr[1:-1].strip()
    return expr


def _closing(text: str, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return i
    raise Unsupported("unbalanced parentheses")


# C's binary operators, loosest first; each level is left-associative.
_LEVELS = (("||",), ("&&",), ("|",), ("^",), ("&",), ("==", "!="), ("<<", ">>"), ("+", "-"),
           ("*", "/", "%"))
_TOKENS = ("||", "&&", "<<", ">>", "==", "!=", "->", "|", "^", "&", "+", "-", "*", "/", "%")
_OPS: dict[str, Callable[[int, int], int]] = {
    "||": lambda a, b: int(bool(a or b)), "&&": lambda a, b: int(bool(a and b)),
    "|": lambda a, b: a | b, "^": lambda a, b: a ^ b, "&": lambda a, b: a & b,
    "==": lambda a, b: int(a == b), "!=": lambda a, b: int(a != b),
    "<<": lambda a, b: a << min(b, 64), ">>": lambda a, b: a >> min(b, 64),
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: int(a / b), "%": lambda a, b: a - b * int(a / b)}


def _binary(expr: str) -> tuple[str, str, str] | None:
    """The loosest top-level binary operator of `expr` and its operands, if any."""
    found: list[tuple[str, int]] = []
    depth, quoted, i, operand = 0, False, 0, False
    while i < len(expr):
        ch = expr[i]
        if ch == '"':
            quoted = not quoted
        elif quoted:
            pass
        elif ch in "({[":
            depth += 1
        elif ch in ")}]":
            depth -= 1
        elif depth == 0:
            token = next((t for t in _TOKENS if expr.startswith(t, i)), None)
            if token is not None:
                if token != "->" and operand:  # after an operand: binary, not unary
                    found.append((token, i))
                i += len(token)
                operand = token == "->"
                continue
        if not ch.isspace():
            operand = ch not in "({[" or depth == 0
        i += 1
    for level in _LEVELS:
        at = [(op, pos) for op, pos in found if op in level]
        if at:
            op, pos = at[-1]
            return op, expr[:pos], expr[pos + len(op):]
    return None


_CAST = re.compile(r"[A-Za-z_][A-Za-z_0-9 ]*\**")


def evaluate(expr: str, lookup: Lookup) -> int | bytes:
    expr = _strip_parens(expr.strip())
    if len(ternary := _top_level(expr, "?")) == 2:
        choices = _top_level(ternary[1], ":")
        if len(choices) != 2:
            raise Unsupported(expr)
        cond = evaluate(ternary[0], lookup)
        return evaluate(choices[0] if cond else choices[1], lookup)
    if expr.startswith('"'):
        return split(expr)[0]
    if (binary := _binary(expr)) is not None:
        op, left, right = binary
        a, b = evaluate(left, lookup), evaluate(right, lookup)
        if not isinstance(a, int) or not isinstance(b, int) or (op in "/%" and b == 0):
            raise Unsupported(expr)
        return _OPS[op](a, b)
    if m := re.fullmatch(r"REC->(\w+)", expr):
        return lookup(m.group(1), False)
    if m := re.fullmatch(r"__get_str\((\w+)\)", expr):
        return lookup(m.group(1), True)
    if re.fullmatch(r"-?(0x[0-9a-fA-F]+|\d+)[uUlL]*", expr):
        return int(expr.rstrip("uUlL"), 0)
    if expr.startswith("__print_symbolic(") or expr.startswith("__print_flags("):
        return _print_table(expr, lookup)
    if expr.startswith("("):
        end = _closing(expr, 0)
        if _CAST.fullmatch(expr[1:end].strip()):
            return evaluate(expr[end + 1:], lookup)  # a cast: the conversion decides the width
    raise Unsupported(expr)


def _print_table(expr: str, lookup: Lookup) -> bytes:
    flags = expr.startswith("__print_flags(")
    args = _top_level(expr[expr.index("(") + 1:-1])
    value = evaluate(args[0], lookup)
    if not isinstance(value, int):
        raise Unsupported(expr)
    sep = b""
    if flags:
        sep = split(args[1])[0]
    table = []
    for item in args[2 if flags else 1:]:
        pair = _top_level(item.strip()[1:-1])
        if len(pair) != 2:
            raise Unsupported(item)
        key = evaluate(pair[0], lookup)
        if not isinstance(key, int):
            raise Unsupported(item)
        table.append((key, split(pair[1])[0]))
    if not flags:
        return next((name for key, name in table if key == value), b"0x%x" % value)
    # The kernel's trace_print_flags_seq: each set flag by name, what remains in hex.
    names = []
    for key, name in table:
        if key and value & key == key:
            names.append(name)
            value &= ~key
    if value:
        names.append(b"0x%x" % value)
    return sep.join(names)


def render(print_fmt: str, lookup: Lookup) -> bytes:
    fmt, args = split(print_fmt)
    values = iter(args)
    out = []
    pos = 0
    for m in _CONV.finditer(fmt):
        out.append(fmt[pos:m.start()])
        pos = m.end()
        flag, width, prec, length, conv = m.groups()
        if conv == b"%":
            out.append(b"%")
            continue
        if conv == b"p" and fmt[pos:pos + 1].isalpha():
            raise Unsupported("%p extensions")  # %pS, %pI4, ...: kernel-only formatters
        try:
            value = evaluate(next(values), lookup)
        except StopIteration:
            raise Unsupported("too few arguments") from None
        out.append(_convert(flag, width, prec, length, conv, value))
    out.append(fmt[pos:])
    return b"".join(out)


def _convert(flag: bytes, width: bytes, prec: bytes | None, length: bytes | None, conv: bytes,
             value: int | bytes) -> bytes:
    spec = b"%" + flag + width + (b"." + prec if prec is not None else b"")
    if conv == b"s":
        text = value if isinstance(value, bytes) else b"%d" % value
        return (spec + b"s").decode().encode() % text
    if not isinstance(value, int):
        raise Unsupported("a number conversion of a string")
    bits = 64 if length in (b"l", b"ll", b"z", b"j", b"t") or conv == b"p" else 32
    if length == b"h":
        bits = 16
    elif length == b"hh":
        bits = 8
    mask = (1 << bits) - 1
    value &= mask
    if conv in (b"d", b"i"):
        if value >> (bits - 1):
            value -= 1 << bits
        return (spec + b"d") % value
    if conv == b"c":
        return bytes([value & 0xFF])
    if conv == b"p":
        return b"0x%x" % value
    return (spec + (b"d" if conv == b"u" else conv)) % value
