"""Live: `t[k] += d` on integer keys goes through per-CPU counter slots (backend.slots)
before the hash map. These tests make more distinct keys than a CPU has slots, so both
paths run, and check that every count, the table's size, full-table drops and user-space
writes stay exact."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from backend.slots import SLOTS_PER_CPU
from kllvm.cli import main

pytestmark = pytest.mark.needs_root

# close(fd) on fds this high fails with EBADF at once: distinct keys for free.
FIRST_FD = 100_000
# Closes FIRST_FD + i exactly (i % 5) + 1 times for each i < N.
CLOSER = """
import ctypes, sys
libc = ctypes.CDLL(None)
for i in range(int(sys.argv[1])):
    for _ in range(i % 5 + 1):
        libc.close(FIRST + i)
""".replace("FIRST", str(FIRST_FD))


def run(tmp_path: Path, script: str, keys: int) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable, "-c",
                   CLOSER, str(keys)])
    return status, out.read_text() if out.exists() else ""


def test_every_key_counted_exactly_with_more_keys_than_slots(tmp_path: Path) -> None:
    keys = 4 * SLOTS_PER_CPU
    script = f"""var s = {{}}
trace syscalls:sys_enter_close /fd >= {FIRST_FD}/ {{ s[arg1] += 1 }}
trace_end {{
  var total = 0
  var wrong = 0
  for (k, v in pairs(s)) {{
    total = total + v
    if (v != (k - {FIRST_FD}) % 5 + 1) {{ wrong = wrong + 1 }}
  }}
  printf("%d keys, %d closes, %d wrong\\n", len(s), total, wrong)
}}
"""
    expected_total = sum(i % 5 + 1 for i in range(keys))
    assert run(tmp_path, script, keys) == (
        0, f"{keys} keys, {expected_total} closes, 0 wrong\n")


def test_full_table_refuses_new_keys_on_the_slot_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = f"""var t = table.new(0, 4)
trace syscalls:sys_enter_close /fd >= {FIRST_FD}/ {{ t[arg1] += 1 }}
trace_end {{ print(len(t)) }}
"""
    # Keys 0..9 are closed 1,2,3,4,5,1,2,3,4,5 times; the first four keys fit.
    assert run(tmp_path, script, 10) == (0, "4\n")
    dropped = sum(i % 5 + 1 for i in range(4, 10))
    assert (f"table 't' is full (4 entries): {dropped} updates were dropped"
            in capsys.readouterr().err)


def test_user_space_writes_replace_slot_counts(tmp_path: Path) -> None:
    first, second, third = FIRST_FD, FIRST_FD + 1, FIRST_FD + 2
    script = f"""var s = {{}}
trace syscalls:sys_enter_close /fd >= {FIRST_FD}/ {{ s[arg1] += 10 }}
trace_end {{
  print(s[{first}], s[{second}], s[{third}], len(s))
  s[{first}] = 7
  s[{second}] = nil
  s[{third}] += 1
  print(s[{first}], s[{second}], s[{third}], len(s))
}}
"""
    assert run(tmp_path, script, 3) == (0, "10\t20\t30\t3\n7\tnil\t31\t2\n")


# Two threads, pinned to different CPUs, close the same fds: each key's count is split
# between both CPUs' slots (and the hash map, for colliding keys) and must add up.
TWO_CPUS = """
import ctypes, os, sys, threading
libc = ctypes.CDLL(None)
keys, rounds = int(sys.argv[1]), int(sys.argv[2])
def work(cpu):
    os.sched_setaffinity(0, {cpu})
    for _ in range(rounds):
        for i in range(keys):
            libc.close(FIRST + i)
threads = [threading.Thread(target=work, args=(cpu,)) for cpu in (0, 1)]
for t in threads: t.start()
for t in threads: t.join()
""".replace("FIRST", str(FIRST_FD))


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs")
def test_counts_from_two_cpus_add_up(tmp_path: Path) -> None:
    keys, rounds = SLOTS_PER_CPU + 50, 7
    path = tmp_path / "script.kp"
    path.write_text(f"""var s = {{}}
trace syscalls:sys_enter_close /fd >= {FIRST_FD}/ {{ s[arg1] += 1 }}
trace_end {{
  var wrong = 0
  for (k, v in pairs(s)) {{ if (v != {2 * rounds}) {{ wrong = wrong + 1 }} }}
  printf("%d keys, %d wrong\\n", len(s), wrong)
}}
""")
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable, "-c",
                   TWO_CPUS, str(keys), str(rounds)])
    assert (status, out.read_text()) == (0, f"{keys} keys, 0 wrong\n")
