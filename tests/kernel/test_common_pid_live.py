"""Live: `/common_pid OP N/` filters compare the thread id of the task that emitted the
event, on every path a filtered probe can take (per-syscall tracepoints, raw_syscalls,
raw tracepoints), with every comparison operator and exact counts.

The traced process has two threads with known ids: it prints its pid and its worker
thread's tid, waits until kllvm has attached, then the worker makes WORKER getpid calls
and renames itself RENAMES times, and the main thread makes MAIN getpid calls."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from frontend.diagnostics import Source
from kllvm import driver

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for bpf()")

MAIN, WORKER, RENAMES = 3, 5, 4
CHILD = f"""
import ctypes, sys, threading
libc = ctypes.CDLL(None)
go = threading.Event()
ready = threading.Event()
tid = []

def work():
    tid.append(threading.get_native_id())
    ready.set()
    go.wait()
    for _ in range({WORKER}):
        libc.syscall(39)
    for i in range({RENAMES}):
        libc.prctl(15, b"worker%d" % i, 0, 0, 0)

t = threading.Thread(target=work)
t.start()
ready.wait()
print(threading.get_native_id(), tid[0], flush=True)
sys.stdin.readline()
go.set()
t.join()
for _ in range({MAIN}):
    libc.syscall(39)
"""

SCRIPT = """var eq = 0
var ne = 0
var lt = 0
var le = 0
var gt = 0
var ge = 0
var raw = 0
var renames = 0
var nr = -1
trace syscalls:sys_enter_getpid /common_pid == PID/ { eq += 1 }
trace syscalls:sys_enter_getpid /common_pid != PID/ { ne += 1 }
trace syscalls:sys_enter_getpid /common_pid < WTID/ { lt += 1 }
trace syscalls:sys_enter_getpid /common_pid <= PID/ { le += 1 }
trace syscalls:sys_enter_getpid /common_pid > PID/ { gt += 1 }
trace syscalls:sys_enter_getpid /common_pid >= PID && __syscall_nr == 39/ { ge += 1; nr = arg0 }
trace syscalls:sys_enter_get* /common_pid == WTID/ {
  if (probename == "sys_enter_getpid") { raw += 1 }
}
trace task:task_rename /common_pid == WTID/ { renames += 1 }
trace_end { printf("%d %d %d %d %d %d %d %d %d\\n", eq, ne, lt, le, gt, ge, raw, renames, nr) }
"""


def test_common_pid_is_the_emitting_thread(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    kllvm = None
    try:
        assert child.stdout is not None and child.stdin is not None
        pid, wtid = map(int, child.stdout.readline().split())
        assert pid == child.pid and pid < wtid  # tids are handed out upwards
        script = SCRIPT.replace("WTID", str(wtid)).replace("PID", str(pid))
        path = tmp_path / "c.kp"
        path.write_text(script)
        # Which attachment each filtered probe takes: the filter on common_pid does not
        # read the record, so the rename probe stays a raw tracepoint.
        build = driver.compile_script(Source(str(path), script))
        kinds = [(a.kind, a.target) for p in build.manifest.programs for a in p.attach]
        assert ("raw_tracepoint", "task:task_rename") in kinds
        assert ("tracepoint", "raw_syscalls:sys_enter") in kinds
        kllvm = subprocess.Popen([sys.executable, "-m", "kllvm", "run", "-p", str(pid),
                                  str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        assert kllvm.stdout is not None
        # The events: every sys_enter_get* (getpid among them) and task_rename, once each.
        get = sum(line.startswith("syscalls:sys_enter_get") for line in
                  Path("/sys/kernel/tracing/available_events").read_text().splitlines())
        assert kllvm.stdout.readline() == f"Attaching 8 probes to {get + 1} events...\n"
        assert kllvm.stdout.readline() == "Tracing... Hit Ctrl-C to end.\n"
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.wait(timeout=30) == 0
        kllvm.send_signal(signal.SIGINT)
        out, err = kllvm.communicate(timeout=60)
        assert (kllvm.returncode, err) == (0, "")
    finally:
        for process in (child, kllvm):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    both = MAIN + WORKER
    # eq ne lt le gt ge raw renames arg0
    assert out == f"{MAIN} {WORKER} {MAIN} {MAIN} {WORKER} {both} {WORKER} {RENAMES} 39\n"
