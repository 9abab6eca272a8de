"""Live: loops bounded by event data pass the verifier within ktap's budget of 100000
iterations per event (the budget is a numeric iterator, whose loops the verifier checks
by their states converging), and the 100001st iteration is the fatal budget error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root

# Closes each fd given (most fail with EBADF): sys_enter_close's arg1 is each number.
CLOSER = "import os, sys\nfor n in sys.argv[1:]:\n    try:\n        os.close(int(n))\n" \
         "    except OSError:\n        pass\n"


def run(tmp_path: Path, script: str, *fds: int) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    closer = tmp_path / "closer.py"
    closer.write_text(CLOSER)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable, str(closer),
                   *map(str, fds)])
    return status, out.read_text() if out.exists() else ""


WHILE = """trace syscalls:sys_enter_close /fd > 1000/ {
  var i = 0
  while (i < arg1) { i = i + 1 }
  print(arg1, i)
}
trace_end { print("end") }
"""


def test_a_loop_bounded_by_event_data_runs_the_whole_budget(tmp_path: Path) -> None:
    assert run(tmp_path, WHILE, 1001, 99999, 100000) == (
        0, "1001\t1001\n99999\t99999\n100000\t100000\nend\n")


def test_one_iteration_over_the_budget_is_fatal(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, WHILE, 5000, 100001, 7000) == (1, "5000\t5000\n")
    assert ("script.kp:3:3: error: loop execute count exceed max limit(100000)"
            in capsys.readouterr().err)


def test_numeric_for_and_nested_loops_share_the_budget(tmp_path: Path) -> None:
    script = """var total = 0
trace syscalls:sys_enter_close /fd > 1000/ {
  var s = 0
  for (k = 1, arg1 / 1000) { s = s + k }
  var j = 0
  while (j < 3) {
    var m = 0
    while (m < arg1 / 100) { m = m + 1 }
    j = j + 1
    total += m
  }
  print(arg1, s)
}
trace_end { print(total) }
"""
    # total: 3 * 20 for fd 2000, 3 * 1000 for fd 100000.
    assert run(tmp_path, script, 2000, 100000) == (0, "2000\t3\n100000\t5050\n3060\n")


def test_a_loop_that_branches_on_its_counter(tmp_path: Path) -> None:
    # The counter is compared with constants in the body: known exactly, it would make
    # every iteration a new state for the verifier (see ProgramLowering.loop_tick).
    script = """var t = {}
t[0] = 0
trace syscalls:sys_enter_close /fd > 1000/ {
  var s = 0
  for (k = 1, arg1 / 1000) {
    if (k % 2 == 0) { s = s + k } else { t[k % 3] += 1 }
    if (k == 5) { s = s + 1000000 }
  }
  print(arg1, s, t[1])
}
"""
    # fd 50000: k = 1..50, even k sum to 650; odd k with k % 3 == 1: 1, 7, ..., 49.
    # fd 100000: k = 1..100: 2550; 1, 7, ..., 97 (17 more).
    assert run(tmp_path, script, 1001, 50000, 100000) == (
        0, "1001\t0\t1\n50000\t1000650\t10\n100000\t1002550\t27\n")
