"""The `kllvm` command end to end, as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for bpf()")

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
SCRIPT = """var n = 0
trace syscalls:sys_enter_getpid { n += 1; print("hello world") }
trace_end { printf("n=%d\\n", n) }
"""


def kllvm(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_run_prints_banner_output_and_trace_end(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    done = kllvm("run", str(path), "--", sys.executable, str(GETPIDS), "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("Tracing... Hit Ctrl-C to end.\n" + "hello world\n" * 3 + "n=3\n")


def test_duration_stops_a_quiet_run(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    done = kllvm("run", "-q", "-d", "0.2", "-p", "1", str(path))
    assert (done.returncode, done.stdout) == (0, "n=0\n")


def test_build_is_reproducible_and_runs_without_compiling(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    first, second = tmp_path / "a.kpo", tmp_path / "b.kpo"
    assert kllvm("build", str(path), "-o", str(first)).returncode == 0
    assert kllvm("build", str(path), "-o", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    path.unlink()  # the artifact must not need the script
    done = kllvm("run", "-q", str(first), "--", sys.executable, str(GETPIDS), "2")
    assert (done.returncode, done.stdout) == (0, "hello world\nhello world\nn=2\n"), done.stderr


def test_dump_llvm_and_asm(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    llvm = kllvm("dump", "--emit=llvm", str(path))
    asm = kllvm("dump", "--emit=asm", str(path))
    assert llvm.returncode == asm.returncode == 0
    assert 'section "tracepoint/syscalls/sys_enter_getpid"' in llvm.stdout
    assert "call bpf_ringbuf_reserve" in asm.stdout or "call 131" in asm.stdout


def test_without_root_a_clear_message() -> None:
    done = kllvm("-e", SCRIPT, prefix=("setpriv", "--reuid=65534", "--regid=65534",
                                        "--clear-groups"))
    assert done.returncode == 1
    assert "tracing needs root privileges: run kllvm as root" in done.stderr
    assert "Traceback" not in done.stderr
