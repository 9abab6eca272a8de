"""Exact-bytes tests of ktap's output formatting (ir/fmt.py)."""

from __future__ import annotations

import pytest

from ir.fmt import (
    HIST_HEADER,
    ansi_clear_screen,
    ansi_new_line,
    ansi_reset_color,
    ansi_set_color,
    ansi_set_color2,
    ansi_set_color3,
    format_print,
    format_value,
    ktap_printf,
    print_hist,
)
from ir.values import (
    ArgstrValue,
    BuiltinFunction,
    Cell,
    Closure,
    KtapRuntimeError,
    StackValue,
    TableValue,
)

# ------------------------------------------------------------------------- print


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, b"nil"),
        (True, b"true"),
        (False, b"false"),
        (0, b"0"),
        (-42, b"-42"),
        (9223372036854775807, b"9223372036854775807"),
        (-9223372036854775808, b"-9223372036854775808"),
        (b"hello world", b"hello world"),
        (b"", b""),
        (b"a\x00b\xff", b"a\x00b\xff"),
        (ArgstrValue(b"sys_close(fd: 3)"), b"sys_close(fd: 3)"),
    ],
)
def test_format_value_scalars(value: object, expected: bytes) -> None:
    assert format_value(value) == expected


def test_format_value_objects_print_their_identity() -> None:
    table = TableValue()
    closure = Closure("f", (Cell(),))
    builtin = BuiltinFunction("print", print)
    assert format_value(table) == b"table 0x%x" % id(table)
    assert format_value(closure) == b"function 0x%x" % id(closure)
    assert format_value(builtin) == b"cfunction 0x%x" % id(builtin)


def test_format_value_stack() -> None:
    stack = StackValue(("schedule+0x2a/0x80", "do_exit+0x10/0x900"))
    assert format_value(stack) == (
        b"<stack trace>\n => schedule+0x2a/0x80\n => do_exit+0x10/0x900\n"
    )


def test_format_value_empty_stack() -> None:
    assert format_value(StackValue(())) == b"<stack trace>\n"


def test_format_value_unknown_type() -> None:
    with pytest.raises(KtapRuntimeError, match=r"^print unknown value type: float$") as info:
        format_value(1.5)
    assert info.value.fatal


def test_format_print() -> None:
    assert format_print([]) == b"\n"
    assert format_print([b"total", 3]) == b"total\t3\n"
    assert format_print([None, True, -1, b"x"]) == b"nil\ttrue\t-1\tx\n"


def test_print_of_stack_ends_with_blank_line_like_ktap() -> None:
    assert format_print([StackValue(("a+0x1/0x2",))]) == b"<stack trace>\n => a+0x1/0x2\n\n"


# ------------------------------------------------------------------------ printf


@pytest.mark.parametrize(
    ("fmt", "args", "expected"),
    [
        (b"", [], b""),
        (b"no conversions\n", [], b"no conversions\n"),
        (b"100%%", [], b"100%"),
        (b"%%d", [], b"%d"),
        (b"%d", [42], b"42"),
        (b"%i", [-42], b"-42"),
        (b"%d", [-9223372036854775808], b"-9223372036854775808"),
        (b"%u", [42], b"42"),
        (b"%u", [-1], b"18446744073709551615"),
        (b"%o", [8], b"10"),
        (b"%o", [-1], b"1777777777777777777777"),
        (b"%x", [255], b"ff"),
        (b"%X", [255], b"FF"),
        (b"%x", [-1], b"ffffffffffffffff"),
        (b"%c", [65], b"A"),
        (b"%c", [0x141], b"A"),  # the low byte, as a C char
        (b"%c%c", [104, 105], b"hi"),
        (b"%s", [b"str"], b"str"),
        (b"%s", [b"a\x00b"], b"a\x00b"),
        (b"[%s]", [b""], b"[]"),
        (b"a=%d b=%s\n", [1, b"two"], b"a=1 b=two\n"),
    ],
)
def test_printf_conversions(fmt: bytes, args: list[object], expected: bytes) -> None:
    assert ktap_printf(fmt, args) == expected


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        # width and left alignment
        (b"%5d", 42, b"   42"),
        (b"%-5d|", 42, b"42   |"),
        (b"%1d", 12345, b"12345"),
        (b"%99d", 1, b" " * 98 + b"1"),
        # signs
        (b"%+d", 42, b"+42"),
        (b"%+d", -42, b"-42"),
        (b"% d", 42, b" 42"),
        (b"% d", -42, b"-42"),
        (b"%+ d", 42, b"+42"),
        (b"%+u", 42, b"42"),  # no sign on unsigned conversions
        (b"% x", 42, b"2a"),
        # zero padding
        (b"%05d", 42, b"00042"),
        (b"%05d", -42, b"-0042"),
        (b"%+05d", 42, b"+0042"),
        (b"% 05d", 42, b" 0042"),
        (b"%-05d|", 42, b"42   |"),
        (b"%08x", 255, b"000000ff"),
        # precision on numbers
        (b"%.3d", 5, b"005"),
        (b"%.3d", -5, b"-005"),
        (b"%6.3d", 5, b"   005"),
        (b"%-6.3d|", 5, b"005   |"),
        (b"%06.3d", 5, b"000005"),  # the kernel keeps zero padding with a precision
        (b"%.0d", 0, b"0"),
        (b"%.d", 7, b"7"),
        (b"%.1d", 12345, b"12345"),
        # alternate forms, as the kernel's vsnprintf prints them
        (b"%#x", 255, b"0xff"),
        (b"%#X", 255, b"0XFF"),
        (b"%#x", 0, b"0x0"),
        (b"%#o", 8, b"010"),
        (b"%#o", 0, b"0"),
        (b"%#.3o", 8, b"0010"),
        (b"%#6x", 255, b"  0xff"),
        (b"%#06x", 255, b"0x00ff"),
        (b"%#-6x|", 255, b"0xff  |"),
        (b"%#d", 5, b"5"),
        # %c pads with spaces and ignores zero padding and precision
        (b"%3c", 65, b"  A"),
        (b"%-3c|", 65, b"A  |"),
        (b"%03c", 65, b"  A"),
        (b"%.0c", 65, b"A"),
    ],
)
def test_printf_number_flags(fmt: bytes, value: int, expected: bytes) -> None:
    assert ktap_printf(fmt, [value]) == expected


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        (b"%8s", b"abc", b"     abc"),
        (b"%-8s|", b"abc", b"abc     |"),
        (b"%08s", b"abc", b"     abc"),  # strings are padded with spaces only
        (b"%.2s", b"abc", b"ab"),
        (b"%.s", b"abc", b""),
        (b"%.10s", b"abc", b"abc"),
        (b"%5.2s", b"abc", b"   ab"),
        (b"%-5.2s|", b"abc", b"ab   |"),
        (b"%2s", b"abcdef", b"abcdef"),
        (b"%-15s|", b"x" * 120, b"x" * 120 + b"|"),  # long strings are never cut
        (b"%s", None, b"nil"),
        (b"%5s", None, b"  nil"),
        (b"%s", ArgstrValue(b"sys_close(fd: 3)"), b"sys_close(fd: 3)"),
        (b"%.9s", ArgstrValue(b"sys_close(fd: 3)"), b"sys_close"),
    ],
)
def test_printf_strings(fmt: bytes, value: object, expected: bytes) -> None:
    assert ktap_printf(fmt, [value]) == expected


def test_printf_nil_and_argstr_do_not_drop_the_rest_of_the_format() -> None:
    # ktap stopped formatting after these (a HEAD bug, Part A §18).
    assert ktap_printf(b"%s %d\n", [None, 3]) == b"nil 3\n"
    assert ktap_printf(b"<%s> %s!\n", [ArgstrValue(b"ev"), b"x"]) == b"<ev> x!\n"


def test_printf_pointer_default_is_hex() -> None:
    assert ktap_printf(b"%p", [0xFFFFFFFF81000000]) == b"0xffffffff81000000"
    assert ktap_printf(b"%p", [-1]) == b"0xffffffffffffffff"


def test_printf_pointer_uses_resolver_and_ignores_width() -> None:
    seen: list[int] = []

    def resolve(address: int) -> bytes:
        seen.append(address)
        return b"vfs_read"

    assert ktap_printf(b"[%20p]", [-2], resolve_symbol=resolve) == b"[vfs_read]"
    assert seen == [(1 << 64) - 2]


def test_printf_extra_arguments_are_ignored() -> None:
    assert ktap_printf(b"%d\n", [1, 2, b"three"]) == b"1\n"
    assert ktap_printf(b"plain", [1]) == b"plain"


def _printf_error(fmt: bytes, args: list[object]) -> str:
    with pytest.raises(KtapRuntimeError) as info:
        ktap_printf(fmt, args)
    assert info.value.fatal
    return info.value.message


@pytest.mark.parametrize(
    ("fmt", "args", "message"),
    [
        (b"%d", [], "bad argument #2: (no value)"),
        (b"%d %d", [1], "bad argument #3: (no value)"),
        (b"%s", [], "bad argument #2: (no value)"),
        (b"%f", [], "bad argument #2: (no value)"),  # the missing value is noticed first
        (b"%", [], "bad argument #2: (no value)"),
        (b"%f", [1], "invalid option '%f' to 'format'"),
        (b"%d %e", [1, 2], "invalid option '%e' to 'format'"),
        (b"%ld", [1], "invalid option '%l' to 'format'"),
        (b"%*d", [1, 2], "invalid option '%*' to 'format'"),
        (b"%5", [1], "invalid option '%' to 'format'"),
        (b"%--5d", [1], "invalid format (repeated flags)"),
        (b"%00d", [1], "invalid format (repeated flags)"),
        (b"%-+ #0-d", [1], "invalid format (repeated flags)"),
        (b"%123d", [1], "invalid format (width or precision too long)"),
        (b"%1.123d", [1], "invalid format (width or precision too long)"),
        (b"%.100s", [b"x"], "invalid format (width or precision too long)"),
        (b"%s", [5], "wrong type of argument 2"),
        (b"%d %s", [1, 2], "wrong type of argument 3"),
        (b"%s", [True], "wrong type of argument 2"),
        (b"%s", [StackValue(())], "wrong type of argument 2"),
        (b"%d", [b"5"], "wrong type of argument 2"),
        (b"%d", [None], "wrong type of argument 2"),
        (b"%d", [True], "wrong type of argument 2"),
        (b"%x", [b"5"], "wrong type of argument 2"),
        (b"%c", [b"A"], "wrong type of argument 2"),
        (b"%p", [b"sym"], "wrong type of argument 2"),
    ],
)
def test_printf_errors(fmt: bytes, args: list[object], message: str) -> None:
    assert _printf_error(fmt, args) == message


def test_printf_format_must_be_a_string() -> None:
    assert _printf_error(5, []) == "wrong type of argument 1"  # type: ignore[arg-type]


def test_printf_accepts_every_flag_once() -> None:
    assert ktap_printf(b"%-+ #05x|", [255]) == b"0xff |"


# -------------------------------------------------------------------- print_hist

_HEADER = b"                         value ------------- Distribution ------------- count\n"


def test_header() -> None:
    assert HIST_HEADER == _HEADER


def test_reference_example_byte_for_byte() -> None:
    # Part B §4.4; the fourth entry is small enough to keep the bars at 22/11/3.
    table = TableValue()
    for key, value in [
        (b"sys_enter_futex", 100),
        (b"sys_enter_open", 10),
        (b"sys_enter_read", 600),
        (b"sys_enter_write", 300),
    ]:
        table.set(key, value)
    expected = (
        b"                         value ------------- Distribution ------------- count\n"
        b"                 sys_enter_read |@@@@@@@@@@@@@@@@@@@@@@                600    \n"
        b"                sys_enter_write |@@@@@@@@@@@                           300    \n"
        b"                sys_enter_futex |@@@                                   100    \n"
        b"                            ... |\n"
    )
    assert print_hist(table.items(), 3) == expected


def _bar(ats: int) -> bytes:
    return b"@" * ats + b" " * (38 - ats)


def test_number_keys() -> None:
    out = print_hist([(3, 1), (-7, 3)])
    assert out == (
        _HEADER + b"%31d |%s%-7d\n" % (-7, _bar(28), 3) + b"%31d |%s%-7d\n" % (3, _bar(9), 1)
    )
    assert out.splitlines()[1] == b"                             -7 |" + _bar(28) + b"3      "


def test_string_key_of_32_bytes_stays_on_the_row() -> None:
    key = b"k" * 32
    assert print_hist([(key, 5)]) == _HEADER + key + b" |" + _bar(38) + b"5      \n"


def test_long_string_key_is_printed_raw() -> None:
    key = b"k" * 33
    assert print_hist([(key, 5)]) == _HEADER + key + _bar(38) + b"\n5\n\n"


def test_stack_keys_print_as_frame_lines() -> None:
    stack = StackValue(("schedule+0x2a/0x80", "schedule_timeout+0x10/0x100"))
    out = print_hist([(b"short", 4), (stack, 4)])
    assert out == (
        _HEADER
        + b"schedule+0x2a/0x80\nschedule_timeout+0x10/0x100\n"
        + _bar(19)
        + b"\n4\n\n"
        + b"%31s |%s%-7d\n" % (b"short", _bar(19), 4)
    )


def test_other_keys_print_as_print_would() -> None:
    out = print_hist([(True, 1)])
    assert out == _HEADER + b"%31s |%s%-7d\n" % (b"true", _bar(38), 1)


def test_symbolized_keys_are_cut_to_28_characters_plus_dots() -> None:
    names = {1: b"vfs_read", 2: b"x" * 32, 3: b"a_very_long_kernel_function_name_indeed"}
    out = print_hist([(1, 3), (2, 2), (3, 1)], symbolize=names.__getitem__)
    assert out == (
        _HEADER
        + b"%31s |%s%-7d\n" % (b"vfs_read", _bar(19), 3)
        + b"%31s |%s%-7d\n" % (b"x" * 32, _bar(12), 2)
        + b"%31s |%s%-7d\n" % (b"a_very_long_kernel_function_...", _bar(6), 1)
    )


def test_ties_are_ordered_by_key_numbers_first() -> None:
    out = print_hist([(b"b", 1), (2, 1), (b"a", 1), (1, 1), (b"z", 5)])
    labels = [line.split(b"|")[0].strip() for line in out.splitlines()[1:]]
    assert labels == [b"z", b"1", b"2", b"a", b"b"]


def test_truncation_shows_dots_only_when_more_than_n() -> None:
    rows = [(i, 100 - i) for i in range(5)]
    exactly = print_hist(rows, 5)
    assert b"..." not in exactly
    assert len(exactly.splitlines()) == 6
    truncated = print_hist(rows, 4)
    assert truncated.endswith(b"                            ... |\n")
    assert len(truncated.splitlines()) == 6  # header, 4 rows, "..."


def test_n_larger_than_table() -> None:
    assert print_hist([(1, 1)], 1000) == _HEADER + b"%31d |%s%-7d\n" % (1, _bar(38), 1)


def test_any_n_of_at_least_one_is_honoured() -> None:
    out = print_hist([(1, 2), (2, 1)], 1)
    assert out == _HEADER + b"%31d |%s%-7d\n" % (1, _bar(25), 2) + b"%31s |\n" % b"..."


def test_default_shows_twenty_rows() -> None:
    out = print_hist([(i, i + 1) for i in range(25)])
    assert len(out.splitlines()) == 1 + 20 + 1


def test_n_below_one_falls_back_to_default() -> None:
    rows = [(i, i + 1) for i in range(25)]
    assert print_hist(rows, 0) == print_hist(rows)


def test_empty_table_prints_the_header_only() -> None:
    assert print_hist([]) == _HEADER


def test_zero_and_negative_values_give_empty_bars() -> None:
    assert print_hist([(1, 0)]) == _HEADER + b"%31d |%s%-7d\n" % (1, _bar(0), 0)
    out = print_hist([(1, 5), (2, -4)])
    assert out == (
        _HEADER
        + b"%31d |%s%-7d\n" % (1, _bar(38), 5)  # 5*38/1 is clamped to the bar width
        + b"%31d |%s%-7d\n" % (2, _bar(0), -4)
    )


def test_sum_does_not_overflow_like_a_c_int() -> None:
    big = 3_000_000_000
    out = print_hist([(1, big), (2, big)])
    assert out == _HEADER + b"".join(b"%31d |%s%-7d\n" % (k, _bar(19), big) for k in (1, 2))


def test_count_wider_than_seven_digits() -> None:
    assert print_hist([(1, 123456789)]).endswith(b" |" + _bar(38) + b"123456789\n")


@pytest.mark.parametrize("value", [b"3", None, True, TableValue()])
def test_non_number_values_are_rejected(value: object) -> None:
    with pytest.raises(KtapRuntimeError, match=r"^print_hist only can print number$"):
        print_hist([(1, 1), (2, value)])


# -------------------------------------------------------------------------- ansi


def test_ansi_sequences() -> None:
    assert ansi_clear_screen() == b"\x1b[1;1H\x1b[J"
    assert ansi_set_color(31) == b"\x1b[31m"
    assert ansi_set_color2(31, 40) == b"\x1b[31;40m"
    assert ansi_set_color3(31, 40, 1) == b"\x1b[31;40;1m"
    assert ansi_set_color3(31, 40, 0) == b"\x1b[31;40m"
    assert ansi_reset_color() == b"\x1b[0;0m"
    assert ansi_new_line() == b"\n"


def test_ansi_arguments_must_be_numbers() -> None:
    with pytest.raises(KtapRuntimeError, match=r"^wrong type of argument 1$"):
        ansi_set_color(b"red")
    with pytest.raises(KtapRuntimeError, match=r"^wrong type of argument 2$"):
        ansi_set_color2(31, None)
    with pytest.raises(KtapRuntimeError, match=r"^wrong type of argument 3$"):
        ansi_set_color3(31, 40, True)
