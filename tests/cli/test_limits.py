"""Scripts at the edges of the front end: very long, very deep, huge numbers, raw bytes.

Each gives a located `file:line:col: error:` and exit status 1, or works; never a traceback
or an "internal error".
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# dump --emit=ir/asm of a tracepoint probe reads the event's format from tracefs.
needs_root = pytest.mark.needs_root


def kllvm(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, timeout=120, check=False)


def script(tmp_path: Path, text: str | bytes) -> str:
    path = tmp_path / "s.kp"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return str(path)


def assert_located_error(result: subprocess.CompletedProcess[bytes], where: str,
                         message: str) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    first = stderr.splitlines()[0]
    assert re.fullmatch(rf".+:{where}: error: {re.escape(message)}", first), first


def test_500_nested_parentheses(tmp_path: Path) -> None:
    path = script(tmp_path, "print(" + "(" * 500 + "1" + ")" * 500 + ")\n")
    assert_located_error(kllvm("dump", "--emit=ir", path), "1:205",
                         "chunk has too many syntax levels")


def test_500_nested_parentheses_with_e() -> None:
    result = kllvm("-e", "print(" + "(" * 500 + "1" + ")" * 500 + ")")
    assert_located_error(result, "1:205", "chunk has too many syntax levels")


def test_500_nested_parentheses_in_a_filter(tmp_path: Path) -> None:
    text = "trace syscalls:sys_enter_write /" + "(" * 500 + "fd == 1" + ")" * 500 + "/ { }\n"
    assert_located_error(kllvm("dump", "--emit=ir", script(tmp_path, text)), "1:233",
                         "bad filter: parentheses nested too deeply")


@needs_root
def test_a_2000_term_filter_compiles(tmp_path: Path) -> None:
    terms = " || ".join(f"fd == {i}" for i in range(2000))
    path = script(tmp_path, f"trace syscalls:sys_enter_write /{terms}/ {{ print(1) }}\n")
    result = kllvm("dump", "--emit=ir", path)
    assert result.returncode == 0, result.stderr.decode()
    assert b"fd == 1999" in result.stdout


def test_a_5000_digit_number(tmp_path: Path) -> None:
    path = script(tmp_path, "var x = 1\nprint(x + " + "9" * 5000 + ")\n")
    assert_located_error(kllvm("dump", "--emit=ir", path), "2:11",
                         f"number out of range '{'9' * 30}...': numbers are 64-bit")


def test_a_5000_digit_number_with_e() -> None:
    result = kllvm("-e", "print(" + "9" * 5000 + ")")
    assert_located_error(result, "1:7", f"number out of range '{'9' * 30}...': numbers are 64-bit")


def test_a_5000_digit_timer_interval(tmp_path: Path) -> None:
    path = script(tmp_path, "tick-" + "1" * 5000 + "s { }\n")
    result = kllvm("dump", "--emit=ir", path)
    assert_located_error(result, "1:6", "cannot parse timer interval: " + "1" * 5000 + "s")


def test_a_byte_that_is_not_utf8_in_a_name(tmp_path: Path) -> None:
    path = script(tmp_path, b"var x\xff = 0\ntrace_end { print(x\xff) }\n")
    assert_located_error(kllvm("run", path), "1:6",
                         "byte 0xff is not UTF-8 text; outside a string, write text as UTF-8")


def test_bytes_that_are_not_utf8_in_a_string_are_printed_as_they_are(tmp_path: Path) -> None:
    result = kllvm("run", script(tmp_path, b'print("a\xff\xfeb") # caf\xe9\n'))
    assert (result.returncode, result.stdout, result.stderr) == (0, b"a\xff\xfeb\n", b"")
    result = kllvm("-e", b'print("\xff")')
    assert (result.returncode, result.stdout, result.stderr) == (0, b"\xff\n", b"")


@needs_root
def test_a_probe_with_a_raw_byte_in_its_source_compiles(tmp_path: Path) -> None:
    # The script's text goes into the object's debug info, which must be UTF-8.
    path = script(tmp_path, b'trace syscalls:sys_enter_getpid { print("\xff") } # \xe9\n')
    result = kllvm("dump", "--emit=asm", path)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")


def test_an_error_past_column_65535(tmp_path: Path) -> None:
    path = script(tmp_path, "print(" + " " * 70000 + "undefined_name)\n")
    result = kllvm("run", path)
    assert_located_error(result, "1:70007", "undefined variable 'undefined_name'")


@needs_root
def test_a_probe_past_column_65535_compiles(tmp_path: Path) -> None:
    # LLVM refuses a debug location past column 65535; BTF keeps 10 bits of column.
    text = "var n = 0\ntrace syscalls:sys_enter_getpid {" + " " * 70000 + "n += 1 }\n"
    result = kllvm("dump", "--emit=asm", script(tmp_path, text))
    assert result.returncode == 0, result.stderr.decode()
    assert b"n += 1" in result.stdout


@needs_root
def test_a_10000_line_probe_compiles(tmp_path: Path) -> None:
    body = "".join(f"  t[{i}] += 1\n" for i in range(10000))
    path = script(tmp_path, f"var t = {{}}\ntrace syscalls:sys_enter_getpid {{\n{body}}}\n")
    result = kllvm("dump", "--emit=ir", path)
    assert result.returncode == 0, result.stderr.decode()
