"""argstr is the kernel's own rendering: the same events, traced by kllvm and by a private
tracefs instance at once, read the same after the timestamp of each line of `trace`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_root

TRACEFS = Path("/sys/kernel/tracing")
# Syscalls (the kernel's own syscall rendering), a print fmt with __get_str, one with a
# ternary, and sched_switch's: arithmetic, __print_flags, '?:' and char arrays.
EVENTS = ("syscalls/sys_enter_close", "syscalls/sys_exit_close", "sched/sched_process_exec",
          "sched/sched_process_exit", "syscalls/sys_enter_getppid", "sched/sched_switch")
SCRIPT = ("trace syscalls:sys_enter_close, syscalls:sys_exit_close, sched:sched_process_exec, "
          "sched:sched_process_exit, syscalls:sys_enter_getppid, sched:sched_switch "
          "{ print(argstr) }")
# `trace` lines: "COMM-PID [CPU] FLAGS TIMESTAMP: REST"
LINE = re.compile(r"^\s*.+-(\d+)\s+\[\d+\]\s+\S+\s+[\d.]+: (.*)$")


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Path]:
    path = TRACEFS / "instances" / f"kllvm-argstr-{tmp_path.name[-20:]}"
    path.mkdir()
    try:
        yield path
    finally:
        for event in EVENTS:
            (path / "events" / event / "enable").write_text("0")
        path.rmdir()


def test_argstr_matches_the_kernels_trace(instance: Path) -> None:
    for event in EVENTS:
        (instance / "events" / event / "enable").write_text("1")
    proc = subprocess.run(
        [sys.executable, "-m", "kllvm", "-q", "--no-cache", "-e", SCRIPT, "--",
         "sh", "-c", "exec 3</dev/null; exec 3<&-; exec python3 -c 'import os; os.getppid()'"],
        capture_output=True, text=True, timeout=120, check=True)
    for event in EVENTS:
        (instance / "events" / event / "enable").write_text("0")
    ours = proc.stdout.splitlines()
    pid = int(re.search(r"sched_process_exec: .* pid=(\d+)", proc.stdout).group(1))  # type: ignore[union-attr]
    theirs = [m.group(2) for line in (instance / "trace").read_text().splitlines()
              if (m := LINE.match(line)) and int(m.group(1)) == pid]
    # kllvm arms its probes before the command's exec; the kernel saw the fork's child before.
    start = next(i for i, line in enumerate(theirs) if line.startswith("sched_process_exec:"))
    theirs = theirs[start:]
    assert len(ours) > 5
    assert any(line.startswith("sys_getppid(") for line in ours)
    assert any(line.startswith("sched_switch: ") for line in ours)
    assert ours == theirs
