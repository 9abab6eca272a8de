"""`kllvm run --interp`: probe bodies in the interpreter, fed by a generic BPF program.
Live: the traced command makes an exact number of getpid calls."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
COMM = Path(sys.executable).name[:15]  # the traced command's execname


def kllvm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def getpids(n: int) -> tuple[str, ...]:
    return ("--", sys.executable, str(GETPIDS), str(n))


def test_bodies_tables_globals_and_trace_end() -> None:
    script = f"""var n = 0
var seen = {{}}
trace syscalls:sys_enter_getpid {{
    if (execname == "{COMM}") {{ n += 1; seen[execname] += 1; printf("%d:%d ", n, arg0 - arg0) }}
}}
trace_end {{ print(""); print(n, seen["{COMM}"]) }}
"""
    done = kllvm("run", "--interp", "-e", script, *getpids(4))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("Attaching 1 probe to 1 event...\nTracing... Hit Ctrl-C to end.\n"
                           "1:0 2:0 3:0 4:0 \n4\t4\n")


def test_exit_stops_the_run_and_trace_end_runs() -> None:
    script = (f'var n = 0\ntrace syscalls:sys_enter_getpid /common_pid != 0/ {{ '
              f'if (execname == "{COMM}") {{ n += 1; if (n == 2) {{ exit() }} }} }}\n'
              'trace_end { print("end", n) }\n')
    done = kllvm("run", "-q", "--interp", "-e", script, *getpids(50))
    assert (done.returncode, done.stdout) == (0, "end\t2\n"), done.stderr


def test_a_runtime_error_is_at_the_script_line() -> None:
    script = (f'trace syscalls:sys_enter_getpid {{ if (execname == "{COMM}") {{\n'
              '  print(1 / (pid - pid)) } }\n')
    done = kllvm("run", "-q", "--interp", "-e", script, *getpids(3))
    compiled = kllvm("run", "-q", "-e", script, *getpids(3))
    assert (done.returncode, done.stdout) == (compiled.returncode, compiled.stdout) == (1, "")
    assert done.stderr == compiled.stderr == ("(command line):2:9: error: divide 0 arith "
                                              "operation\n  print(1 / (pid - pid)) } }\n"
                                              "        ^~~~~~~~~~~~~~~\n")


def test_a_full_table_is_reported() -> None:
    script = (f'var t = table.new(0, 2)\nvar k = 0\ntrace syscalls:sys_enter_getpid {{ '
              f'if (execname == "{COMM}") {{ k += 1; t[k] = 1 }} }}\n')
    done = kllvm("run", "-q", "--interp", "-e", script, *getpids(5))
    compiled = kllvm("run", "-q", "-e", script, *getpids(5))
    assert done.returncode == 0, done.stderr
    assert done.stderr == compiled.stderr
    assert "3 updates were dropped" in done.stderr, done.stderr


def test_unsupported_probe_kinds_are_refused_at_the_probe() -> None:
    done = kllvm("run", "--interp", "-e", "profile-1ms { print(cpu) }")
    assert done.returncode == 1
    assert "(command line):1:1: error: this profile probe is not supported on the " \
           "interpreter path yet" in done.stderr, done.stderr


def test_an_artifact_is_refused(tmp_path: Path) -> None:
    path, built = tmp_path / "x.kp", tmp_path / "x.kpo"
    path.write_text("trace syscalls:sys_enter_getpid { print(pid) }\n")
    assert kllvm("build", str(path), "-o", str(built)).returncode == 0
    done = kllvm("run", "--interp", str(built))
    assert done.returncode == 1
    assert "--interp runs a script, not a built artifact" in done.stderr
