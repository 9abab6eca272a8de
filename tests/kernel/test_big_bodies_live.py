"""Live: probe bodies too big for a naive lowering load and count exactly: many map
updates (each would take stack slots of its own: 512 bytes run out at ~16), more
than 32K instructions (LLVM's BPF backend used to abort on the far branches), and
more strings than one 32 KB per-CPU scratch value holds."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for bpf()")

GETPIDS = Path(__file__).with_name("getpids.py")


def run(tmp_path: Path, body: str, end: str, calls: int) -> tuple[int, str]:
    path = tmp_path / "big.kp"
    path.write_text(f"var t = {{}}\nvar n = 0\ntrace syscalls:sys_enter_getpid {{\n{body}}}\n"
                    f"trace_end {{ {end} }}\n")
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable,
                   str(GETPIDS), str(calls)])
    return status, out.read_text() if out.exists() else ""


def test_sixty_table_updates_in_one_probe(tmp_path: Path) -> None:
    body = "".join(f"  t[{k}] += {k}\n" for k in range(60))
    end = "var s = 0\n  for (k, v in pairs(t)) { s = s + k * 1000 + v }\n  print(len(t), s)"
    # 60 keys; each t[k] ends at 3k: sum(1000k + 3k) for k < 60.
    assert run(tmp_path, body, end, 3) == (0, f"60\t{1003 * sum(range(60))}\n")


def test_two_thousand_prints(tmp_path: Path) -> None:
    body = "".join(f"  print({k})\n" for k in range(2000))
    status, out = run(tmp_path, body, 'print("end")', 2)
    assert status == 0
    assert out == "".join(f"{k}\n" for k in range(2000)) * 2 + "end\n"


def test_more_strings_than_one_scratch_value(tmp_path: Path) -> None:
    # 300 table reads of a string, 128 bytes each: two entries of the per-CPU scratch
    # map. (execname, however often used, is read once per event.)
    body = '  n += 1\n  if (n == 1) { s[1] = "key" }\n' + "  t[s[1]] += 1\n" * 300 \
        + "  c[execname] += 1\n" * 50
    end = 'for (k, v in pairs(t)) { print(k, v) }\n  for (k, v in pairs(c)) { print(v) }'
    path = tmp_path / "strings.kp"
    path.write_text(f"var t = {{}}\nvar s = {{}}\nvar c = {{}}\nvar n = 0\ns[0] = \"\"\n"
                    f"trace syscalls:sys_enter_getpid {{\n{body}}}\ntrace_end {{ {end} }}\n")
    out = tmp_path / "out.txt"
    assert main(["run", "-q", "-o", str(out), str(path), "--", sys.executable,
                 str(GETPIDS), "4"]) == 0
    assert out.read_text() == "key\t1200\n200\n"


def test_loop_bounded_by_a_global_runs(tmp_path: Path) -> None:
    # The verifier followed such a loop iteration by iteration and gave up ("The
    # sequence of 8193 jumps is too complex"); the loop budget's iterator lets it see
    # the iterations repeat (tests/kernel/test_loops_live.py).
    body = "  var k = n\n  while (n < k + 5) { n += 1 }\n"
    assert run(tmp_path, body, "print(n)", 3) == (0, "15\n")


def test_loop_bounded_by_a_local_runs(tmp_path: Path) -> None:
    body = "  var i = 0\n  while (i < 5) { i = i + 1; n += 1 }\n  for (j = 1, 3) { n += j }\n"
    assert run(tmp_path, body, "print(n)", 3) == (0, "33\n")
