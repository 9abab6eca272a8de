"""Live: gettimeofday_* and argstr in probe bodies, driven by a `-- CMD` child that makes
a known number of known syscalls."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root

GETPIDS = Path(__file__).with_name("getpids.py")
SYS_LSEEK, SYS_CLOSE = 8, 3
# Raw syscalls with chosen arguments (their results do not matter: fd 77 is not open).
SYSCALLS = (f"import ctypes; libc = ctypes.CDLL(None); libc.syscall({SYS_CLOSE}, 77); "
            f"libc.syscall({SYS_LSEEK}, 77, 1024, 1)")


def run(tmp_path: Path, script: str, command: list[str]) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", *command])
    return status, out.read_text() if out.exists() else ""


def getpids(calls: int) -> list[str]:
    return [sys.executable, str(GETPIDS), str(calls)]


# -- gettimeofday


def test_gettimeofday_is_the_wall_clock(tmp_path: Path) -> None:
    script = """var t = {}
trace syscalls:sys_enter_getpid {
  t["us"] = gettimeofday_us()
  t["s"] = gettimeofday_s()
  t["ms"] = gettimeofday_ms()
  t["ns"] = gettimeofday_ns()
}
trace_end { printf("%d %d %d %d\\n", t["us"], t["s"], t["ms"], t["ns"]) }
"""
    before = time.time()
    status, out = run(tmp_path, script, getpids(1))
    after = time.time()
    assert status == 0
    us, s, ms, ns = map(int, out.split())
    slack_us = 2_000  # the offset is read around a clock read, not atomically
    assert before * 1e6 - slack_us <= us <= after * 1e6 + slack_us
    # The four readings follow one another within one probe invocation.
    assert s * 1_000_000 <= us < (s + 1) * 1_000_000
    assert us // 1000 <= ms <= us // 1000 + 1
    assert us * 1000 <= ns < us * 1000 + 1_000_000


def test_latency_deltas_are_never_negative(tmp_path: Path) -> None:
    script = """var self = {}
var n = 0
var negative = 0
trace syscalls:sys_enter_getpid { self[tid] = gettimeofday_ns() }
trace syscalls:sys_exit_getpid {
  if (self[tid] == nil) { return }
  var delta = gettimeofday_ns() - self[tid]
  self[tid] = nil
  n += 1
  if (delta < 0) { negative += 1 }
}
trace_end { printf("%d %d\\n", n, negative) }
"""
    assert run(tmp_path, script, getpids(300)) == (0, "300 0\n")


def test_gettimeofday_deltas_in_microseconds(tmp_path: Path) -> None:
    # A probe delta and Python's own view of the same interval: a child that sleeps
    # 50 ms between two getpid calls.
    script = """var start = nil
var took = 0
trace syscalls:sys_enter_getpid {
  if (start == nil) { start = gettimeofday_us() } else { took = gettimeofday_us() - start }
}
trace_end { print(took) }
"""
    child = [sys.executable, "-c",
             "import os, time; os.getpid(); time.sleep(0.05); os.getpid()"]
    status, out = run(tmp_path, script, child)
    assert status == 0
    assert 50_000 <= int(out) < 250_000


# -- argstr


def test_print_argstr_of_getpid(tmp_path: Path) -> None:
    script = "trace syscalls:sys_enter_getpid { print(argstr) }\n"
    assert run(tmp_path, script, getpids(4)) == (0, "sys_getpid()\n" * 4)


def test_argstr_with_arguments_and_printf(tmp_path: Path) -> None:
    script = """trace syscalls:sys_enter_close /fd == 77/ {
  printf("[%s] %d\\n", argstr, pid - pid)
}
trace syscalls:sys_enter_lseek /fd == 77/ { print(argstr, execname) }
trace syscalls:sys_exit_lseek { if (arg1 == -9) { print(argstr) } }
"""
    status, out = run(tmp_path, script, [sys.executable, "-c", SYSCALLS])
    assert status == 0
    # The kernel's syscall rendering (backend/argstr.py): values under 10 in decimal, others
    # in 0x-hex (fd 77 is 0x4d, offset 1024 is 0x400); lseek on a closed fd returns -EBADF.
    comm = Path(sys.executable).name[:15]
    assert out == ("[sys_close(fd: 0x4d)] 0\n"
                   f"sys_lseek(fd: 0x4d, offset: 0x400, whence: 1)\t{comm}\n"
                   "sys_lseek -> 0xfffffffffffffff7\n")


def test_argstr_of_many_syscalls_in_one_program(tmp_path: Path) -> None:
    # `sys_enter_*` with argstr: each event rendered with its own format.
    script = """trace syscalls:sys_enter_* {
  if (probename == "sys_enter_close" || probename == "sys_enter_lseek") { print(argstr) }
}
"""
    status, out = run(tmp_path, script, [sys.executable, "-c", SYSCALLS])
    assert status == 0
    lines = out.splitlines()
    assert "sys_close(fd: 0x4d)" in lines
    assert "sys_lseek(fd: 0x4d, offset: 0x400, whence: 1)" in lines


def test_the_seed_example_prints_every_syscall_of_the_traced_command(tmp_path: Path) -> None:
    # The seed, as written: every enter and exit of every syscall, formatted.
    status, out = run(tmp_path, "trace syscalls:* { print(argstr) }\n",
                      [sys.executable, "-c", SYSCALLS])
    assert status == 0
    lines = out.splitlines()
    at = lines.index("sys_close(fd: 0x4d)")
    assert lines[at + 1] == "sys_close -> 0xfffffffffffffff7"  # EBADF: fd 77 is not open
    assert lines[at + 2:at + 4] == ["sys_lseek(fd: 0x4d, offset: 0x400, whence: 1)",
                                    "sys_lseek -> 0xfffffffffffffff7"]
    # Python's own start-up made many more, each printed as its own record.
    assert len(lines) > 100 and all(line.startswith("sys_") for line in lines)


@pytest.mark.parametrize(("body", "message"), [
    ("t[argstr] = 1", "argstr cannot be used as a table key in a probe body"),
    ("t[1] = argstr", "argstr cannot be stored in a table in a probe body"),
    ('if (argstr == "x") { print(1) }', "argstr cannot be compared in a probe body"),
    ("var a = argstr; print(a)", "argstr cannot be assigned in a probe body"),
    ("f(argstr)", "argstr cannot be passed to a function in a probe body"),
])
def test_argstr_outside_print_is_a_compile_error(tmp_path: Path, body: str, message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    script = ("var t = {}\nfunction f(x) { print(x) }\n"
              f"trace syscalls:sys_enter_getpid {{ {body} }}\n")
    status, out = run(tmp_path, script, getpids(1))
    err = capsys.readouterr().err
    assert (status, out) == (1, "")
    assert "script.kp:3:" in err and f"error: {message}" in err
    assert "only print(argstr) and printf" in err and "Traceback" not in err


def test_argstr_in_profile_is_a_compile_error(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(tmp_path, "profile-10ms { print(argstr) }\n", getpids(1))
    assert status == 1
    assert "argstr is only available in tracepoint probes" in capsys.readouterr().err
