"""ktap's output formatting: `print`, `printf`, `print_hist` and the `ansi` escapes.

Shared by the interpreter and by the BPF runtime, which formats ring-buffer records in
user space, so both produce the same bytes (Part A §14). Everything returns `bytes`;
errors raise a fatal `KtapRuntimeError` without a span (the caller knows the call site).

Decisions (see Part A and Part B §4.2–§4.5 of the language reference):

* Strings are printed whole, NUL bytes included (ktap's C strings stopped at the first
  NUL; the BPF runtime hands over strings already cut at their terminator). An
  unknown value type is named by its Python type, where ktap printed a type number.
* `print(stack())` prints `<stack trace>\\n` and one ` => frame\\n` line per frame, as
  ktap's transport did, so the newline `print` adds leaves a blank line after a stack.
* `printf` follows ktap's `kp_str_fmt` for parsing and the *kernel's* `vsnprintf` for
  the conversions, since that is what produced ktap's output: `%#x` of 0 is `0x0`,
  `%#.3o` of 8 is `0010`, and the `0` flag still pads when a precision is given.
  `%c` prints the low byte and pads with spaces; `%s` pads with spaces only.
* `printf` arguments are numbered as ktap numbers them: the format is argument 1, so
  the first value is argument 2 (`bad argument #2: (no value)`, `wrong type of
  argument 2`).
* Any repeated flag is "invalid format (repeated flags)"; ktap (after Lua) only noticed
  six or more flag characters.
* `%s` with nil prints `nil` and with `argstr` the event text, padded and truncated like
  any string; unlike ktap the rest of the format is not dropped (Part A §18). ktap
  printed long strings (>= 100 bytes) unformatted; with widths of at most 99 that is
  what formatting them gives anyway, so no special case is needed.
* `%p` prints a kernel symbol through an injectable resolver, ignoring flags and width
  as ktap did; without one it prints `0x<hex>`, the kernel's own fallback for an
  address that is not a symbol. There is no 4 KB cap on one `printf`'s output.
* `print_hist` prints the top `n` rows and `...` only when more than `n` entries exist
  (Part A §15); `n` below 1 falls back to 20, as ktap clamped small values to 20. Rows
  are sorted by value descending, ties by key (numbers ascending, then strings in byte
  order) so the output does not depend on map iteration order. The bar total is summed
  exactly: ktap summed into a C `int`, which wrapped past 2^31 and gave garbage bars.
  Bars are clamped to 0..38 characters, so zero or negative values (which made ktap
  divide by zero or overrun its buffer) give empty or full bars. Counts are printed
  as full 64-bit numbers.
* `print_hist` keys: numbers, strings, and stacks (as ktap's key form: one
  `sym+off/size\\n` line per frame, hence usually longer than 32 bytes and printed
  raw, the bar following the key directly as in ktap). Kernel addresses (`ipof`
  values, `KernelIp`) print as `symbolize` names them (in hex without it), cut to 28
  characters plus `...` when longer than 32; passing `symbolize` also says that number
  keys are such addresses. Other keys print as `print` shows them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ir.values import (
    INT64_MASK,
    ArgstrValue,
    BuiltinFunction,
    Closure,
    KernelIp,
    KtapRuntimeError,
    KtapTable,
    StackValue,
)

SymbolResolver = Callable[[int], bytes]

# ------------------------------------------------------------------------- print


def _encode(text: str) -> bytes:
    # Frames come from symbolisers that may have decoded raw bytes with surrogateescape.
    return text.encode("utf-8", "surrogateescape")


def _as_number(value: object, error: str) -> int:
    # bool is an int subclass in Python, but not a number in ktap.
    if isinstance(value, bool) or not isinstance(value, int):
        raise KtapRuntimeError(error)
    return value


def format_stack(stack: StackValue) -> bytes:
    """`print(stack())`: a header line, then one indented line per frame."""
    return b"<stack trace>\n" + b"".join(b" => " + _encode(f) + b"\n" for f in stack.frames)


def format_value(value: object) -> bytes:
    """One value as `print` shows it."""
    if value is None:
        return b"nil"
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, int):
        return b"%d" % value
    if isinstance(value, bytes):
        return value
    if isinstance(value, ArgstrValue):
        return value.text
    if isinstance(value, StackValue):
        return format_stack(value)
    if isinstance(value, KtapTable):
        return b"table 0x%x" % id(value)
    if isinstance(value, Closure):
        return b"function 0x%x" % id(value)
    if isinstance(value, BuiltinFunction):
        return b"cfunction 0x%x" % id(value)
    raise KtapRuntimeError(f"print unknown value type: {type(value).__name__}")


def format_print(args: Sequence[object]) -> bytes:
    """`print(...)`: the values separated by tabs, then a newline."""
    return b"\t".join(format_value(a) for a in args) + b"\n"


# ------------------------------------------------------------------------ printf

_FLAGS = "-+ #0"
# Lua's scanformat: flags, up to two width digits, '.', up to two precision digits.
# Longer digit runs are matched here so that they can be reported.
_SPEC = re.compile(rb"([-+ #0]*)([0-9]*)(?:(\.)([0-9]*))?(.?)", re.DOTALL)


@dataclass(frozen=True)
class _Spec:
    """One parsed `printf` conversion such as `%-8.3s`: flags, width, precision, letter."""

    flags: str
    width: int
    precision: int | None
    conversion: str


def _scan_spec(fmt: bytes, pos: int) -> tuple[_Spec, int]:
    """Parse the conversion spec starting right after a '%'; return it and the next index."""
    match = _SPEC.match(fmt, pos)
    assert match is not None  # every group may be empty
    flags, width, dot, precision, conversion = match.groups()
    if len(set(flags)) != len(flags):
        raise KtapRuntimeError("invalid format (repeated flags)")
    if len(width) > 2 or len(precision or b"") > 2:
        raise KtapRuntimeError("invalid format (width or precision too long)")
    spec = _Spec(
        flags=flags.decode("ascii"),
        width=int(width or b"0"),
        precision=int(precision or b"0") if dot else None,
        conversion=conversion.decode("latin-1"),
    )
    return spec, match.end()


def _justify(head: bytes, body: bytes, spec: _Spec, zero_pad: bool = False) -> bytes:
    """Pad to the field width; zeros go between sign/prefix and digits, as in C."""
    pad = spec.width - len(head) - len(body)
    if pad <= 0:
        return head + body
    if "-" in spec.flags:
        return head + body + b" " * pad
    if zero_pad and "0" in spec.flags:
        return head + b"0" * pad + body
    return b" " * pad + head + body


_INTEGER_DIGITS = {"d": "d", "i": "d", "u": "d", "o": "o", "x": "x", "X": "X"}


def _format_integer(value: int, spec: _Spec) -> bytes:
    conversion = spec.conversion
    sign = b""
    if conversion in "di":
        if value < 0:
            sign, value = b"-", -value
        elif "+" in spec.flags:
            sign = b"+"
        elif " " in spec.flags:
            sign = b" "
    else:
        value &= INT64_MASK  # o u x X print the number as unsigned long long
    digits = format(value, _INTEGER_DIGITS[conversion]).encode("ascii")
    prefix = b""
    if "#" in spec.flags:
        if conversion in "xX":
            prefix = b"0" + conversion.encode("ascii")
        elif conversion == "o" and value:
            prefix = b"0"
    digits = digits.rjust(spec.precision or 0, b"0")
    return _justify(sign + prefix, digits, spec, zero_pad=True)


def _format_string(text: bytes, spec: _Spec) -> bytes:
    if spec.precision is not None:
        text = text[: spec.precision]
    return _justify(b"", text, spec)


def _number_arg(value: object, argn: int) -> int:
    return _as_number(value, f"wrong type of argument {argn}")


def _string_arg(value: object, argn: int) -> bytes:
    if value is None:
        return b"nil"
    if isinstance(value, ArgstrValue):
        return value.text
    if not isinstance(value, bytes):
        raise KtapRuntimeError(f"wrong type of argument {argn}")
    return value


def _hex_address(address: int) -> bytes:
    return b"0x%x" % address


def _convert(spec: _Spec, value: object, argn: int, resolve_symbol: SymbolResolver) -> bytes:
    conversion = spec.conversion
    if conversion in _INTEGER_DIGITS:
        return _format_integer(_number_arg(value, argn), spec)
    if conversion == "c":
        return _justify(b"", bytes([_number_arg(value, argn) & 0xFF]), spec)
    if conversion == "s":
        return _format_string(_string_arg(value, argn), spec)
    if conversion == "p":
        address = value.address if isinstance(value, KernelIp) else _number_arg(value, argn)
        return resolve_symbol(address & INT64_MASK)
    raise KtapRuntimeError(f"invalid option '%{conversion}' to 'format'")


NUMBER_CONVERSIONS = frozenset("diuoxXcp")
STRING_CONVERSIONS = frozenset("s")


def printf_conversions(fmt: bytes) -> list[str]:
    """The conversion letters of `fmt`, one per value it takes, parsed as `ktap_printf`
    parses them; a format it would refuse raises KtapRuntimeError with its message."""
    letters = []
    pos = 0
    while (percent := fmt.find(b"%", pos)) >= 0:
        if fmt[percent + 1 : percent + 2] == b"%":
            pos = percent + 2
            continue
        spec, pos = _scan_spec(fmt, percent + 1)
        if spec.conversion not in NUMBER_CONVERSIONS | STRING_CONVERSIONS:
            raise KtapRuntimeError(f"invalid option '%{spec.conversion}' to 'format'")
        letters.append(spec.conversion)
    return letters


def ktap_printf(
    fmt: bytes, args: Sequence[object], resolve_symbol: SymbolResolver | None = None
) -> bytes:
    """`printf(fmt, ...)` (Part B §4.3); `args` are the values after the format.

    `resolve_symbol` turns a kernel address into its symbol name for `%p`.
    """
    if not isinstance(fmt, bytes):
        raise KtapRuntimeError("wrong type of argument 1")
    resolve = resolve_symbol or _hex_address
    out = bytearray()
    argn = 1  # the format itself is argument 1
    pos = 0
    while pos < len(fmt):
        percent = fmt.find(b"%", pos)
        if percent < 0:
            out += fmt[pos:]
            break
        out += fmt[pos:percent]
        if fmt[percent + 1 : percent + 2] == b"%":
            out += b"%"
            pos = percent + 2
            continue
        argn += 1
        # ktap looks for the value before it parses the spec, so that error wins.
        if argn - 2 >= len(args):
            raise KtapRuntimeError(f"bad argument #{argn}: (no value)")
        spec, pos = _scan_spec(fmt, percent + 1)
        out += _convert(spec, args[argn - 2], argn, resolve)
    return bytes(out)


# -------------------------------------------------------------------- print_hist

DEFAULT_HIST_ROWS = 20
HIST_BAR_WIDTH = 38
HIST_HEADER = b"%31s%s%s\n" % (b"value ", b"------------- Distribution -------------", b" count")
_HIST_MORE = b"%31s |\n" % b"..."
_SHORT_KEY = 32  # longer string keys are printed raw, on lines of their own
_SYMBOL_CUT = 28
_HIST_NOT_NUMBER = "print_hist only can print number"


def _stack_key(stack: StackValue) -> bytes:
    # ktap's string form of a stack used as a table key.
    return b"".join(_encode(f) + b"\n" for f in stack.frames)


def _symbol_label(address: int, symbolize: SymbolResolver) -> bytes:
    name = symbolize(address)
    return name[:_SYMBOL_CUT] + b"..." if len(name) > _SHORT_KEY else name


def _hist_label(key: object, symbolize: SymbolResolver | None) -> int | bytes:
    """What a row shows for `key`: a number, or the text of any other key."""
    if isinstance(key, int) and not isinstance(key, bool):
        return _symbol_label(key, symbolize) if symbolize else key
    if isinstance(key, StackValue):
        return _stack_key(key)
    if isinstance(key, KernelIp):
        return _symbol_label(key.address & INT64_MASK, symbolize or _hex_address)
    return format_value(key)


def _hist_order(row: tuple[int | bytes, int]) -> tuple[int, int, int, bytes]:
    label, count = row
    if isinstance(label, int):
        return (-count, 0, label, b"")
    return (-count, 1, 0, label)


def _hist_bar(count: int, total: int) -> bytes:
    ratio = count * HIST_BAR_WIDTH // total if total > 0 else 0
    ratio = min(max(ratio, 0), HIST_BAR_WIDTH)  # negative values would overrun the bar
    return b"@" * ratio + b" " * (HIST_BAR_WIDTH - ratio)


def _hist_row(label: int | bytes, count: int, total: int) -> bytes:
    bar = _hist_bar(count, total)
    if isinstance(label, int):
        return b"%31d |%s%-7d\n" % (label, bar, count)
    if len(label) > _SHORT_KEY:
        return label + b"%s\n%d\n\n" % (bar, count)
    return b"%31s |%s%-7d\n" % (label, bar, count)


def print_hist(
    entries: Iterable[tuple[object, object]],
    n: int = DEFAULT_HIST_ROWS,
    symbolize: SymbolResolver | None = None,
) -> bytes:
    """`print_hist(t [, n])` over a table's (key, value) pairs (Part B §4.4, Part A §15)."""
    counts, more, total = _hist_counts(entries, n, symbolize)
    rows = [_hist_row(label, count, total) for label, count in counts]
    return HIST_HEADER + b"".join(rows + ([_HIST_MORE] if more else []))


def hist_rows(
    entries: Iterable[tuple[object, object]],
    n: int = DEFAULT_HIST_ROWS,
    symbolize: SymbolResolver | None = None,
) -> tuple[list[tuple[int | bytes, int]], bool]:
    """The rows `print_hist` shows (label, count), in its order, and whether more
    entries exist than it shows (its `...` row)."""
    counts, more, _ = _hist_counts(entries, n, symbolize)
    return counts, more


def _hist_counts(
    entries: Iterable[tuple[object, object]], n: int, symbolize: SymbolResolver | None,
) -> tuple[list[tuple[int | bytes, int]], bool, int]:
    values = [(key, _as_number(value, _HIST_NOT_NUMBER)) for key, value in entries]
    counts = sorted(((_hist_label(k, symbolize), v) for k, v in values), key=_hist_order)
    total = sum(count for _, count in counts)
    shown = n if n >= 1 else DEFAULT_HIST_ROWS
    return counts[:shown], len(counts) > shown, total


# -------------------------------------------------------------------------- folded
# The folded stacks that flamegraph.pl, inferno and speedscope read: one line per stack,
# its frames outermost first joined by ';', a space, then its count.


def folded_frame(frame: str) -> str:
    """A frame as a flame graph names it: the function, without offset and size."""
    name = frame.split("+0x", 1)[0] if not frame.startswith("[") else frame
    return name.replace(";", ":") or "?"


def folded_stack(stack: StackValue) -> str:
    return ";".join(folded_frame(f) for f in reversed(stack.frames))


def fold(entries: Iterable[tuple[object, object]]) -> dict[str, int]:
    """A table's counts by folded stack (stacks that differ only in offsets add up; a
    key that is no stack is one frame of its text). A value that is not a number is
    print_hist's error."""
    folded: dict[str, int] = {}
    for key, value in entries:
        count = _as_number(value, _HIST_NOT_NUMBER)
        name = folded_stack(key) if isinstance(key, StackValue) else format_value(key).decode(
            "utf-8", "surrogateescape").replace("\n", " ")
        folded[name] = folded.get(name, 0) + count
    return folded


def print_folded(folded: dict[str, int]) -> bytes:
    """Folded lines, most counted first."""
    rows = sorted(folded.items(), key=lambda row: (-row[1], row[0]))
    return b"".join(_encode(f"{stack} {count}\n") for stack, count in rows)


# -------------------------------------------------------------------------- ansi
# ktap's `ansi` library (lib_ansi.c). Arguments are numbered from 1.


def ansi_clear_screen() -> bytes:
    return b"\033[1;1H\033[J"


def ansi_set_color(fg: object) -> bytes:
    return b"\033[%dm" % _number_arg(fg, 1)


def ansi_set_color2(fg: object, bg: object) -> bytes:
    return b"\033[%d;%dm" % (_number_arg(fg, 1), _number_arg(bg, 2))


def ansi_set_color3(fg: object, bg: object, attr: object) -> bytes:
    colors = (_number_arg(fg, 1), _number_arg(bg, 2))
    attribute = _number_arg(attr, 3)
    # ktap leaves a zero attribute ("all attributes off") out of the sequence.
    if attribute:
        return b"\033[%d;%d;%dm" % (*colors, attribute)
    return b"\033[%d;%dm" % colors


def ansi_reset_color() -> bytes:
    return b"\033[0;0m"


def ansi_new_line() -> bytes:
    return b"\n"
