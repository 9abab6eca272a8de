"""How a live run starts and ends: signals, the traced command's fate and exit status,
bad run options. Each test runs the `kllvm` command as a separate process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for bpf()")

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
KLLVM = (sys.executable, "-m", "kllvm")


def kllvm(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KLLVM, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_user_space_table_beside_probes(tmp_path: Path) -> None:
    """A table no probe uses stays in the interpreter; its drops are still reported."""
    path = tmp_path / "user.kp"
    path.write_text("var u = table.new(0, 1)\nu[1] = 2\nu[2] = 3\n"
                    "trace syscalls:sys_enter_getpid { print(pid > 0) }\n"
                    "trace_end { print(u[1], u[2]) }\n")
    done = kllvm("run", "-q", str(path), "--", sys.executable, str(GETPIDS), "2")
    assert (done.returncode, done.stdout) == (0, "true\ntrue\n2\tnil\n"), done.stderr
    assert done.stderr == (f"{path}:1:9: warning: table 'u' is full (1 entries): "
                           "1 update was dropped\n"
                           "var u = table.new(0, 1)\n        ^~~~~~~~~~~~~~~\n")
