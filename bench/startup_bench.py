"""Start-up side by side with bpftrace: time to the first event, print-and-exit, peak memory.

    .venv/bin/python bench/startup_bench.py [--runs R]

First event: a trigger process calls getpid every millisecond; the tracer's script prints on
the first call and exits. Timed from spawning the tracer to that line on its output, for
bpftrace and for kllvm three ways: a script compiled afresh (--no-cache), the same script
again (from the compile cache, in a folder of this run) and its built artifact.
Imports: the modules an artifact run imports, with their median self time.
Print-and-exit: `print("hi")` with no probe (bpftrace: `BEGIN { printf("hi\\n"); exit(); }`),
wall time to exit. Peak RSS of each is the tracer process's (wait4's ru_maxrss).
Each run starts SETTLE_S after the last has exited, on a machine at rest.
Targets (issue 16): first event from an artifact and from the cache at or below bpftrace's,
a cold script within 2x of it; peak RSS of the artifact run at most half of bpftrace's.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_COMMAND = Path(sys.executable).with_name("kllvm")
KLLVM = [str(_COMMAND)] if _COMMAND.exists() else [sys.executable, "-m", "kllvm"]
KLLVM_FIRST = 'trace syscalls:sys_enter_getpid { print("first"); exit() }\n'
BPFTRACE_FIRST = 'tracepoint:syscalls:sys_enter_getpid { printf("first\\n"); exit(); }'
TRIGGER = ("import ctypes, time\nlibc = ctypes.CDLL(None)\n"
           "while True:\n    libc.syscall(39)\n    time.sleep(0.001)\n")


@dataclass(frozen=True)
class Sample:
    """One run: seconds to the awaited line (or to exit), seconds to exit, peak RSS in KiB."""

    ready: float
    done: float
    rss_kib: int


# Between runs: the kernel finishes detaching the last run's probes after that process has
# exited (a perf-event tracepoint's release waits for RCU grace periods, under a mutex that
# the next attach takes); without a pause, each run would partly time the last one's exit.
SETTLE_S = 0.5


def timed(command: list[str], awaited: bytes | None) -> Sample:
    time.sleep(SETTLE_S)
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=ROOT)
    assert proc.stdout is not None
    ready = None
    for line in proc.stdout:
        if awaited is not None and awaited in line and ready is None:
            ready = time.perf_counter() - start
    _, status, usage = os.wait4(proc.pid, 0)
    done = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or (awaited is not None and ready is None):
        raise SystemExit(f"{' '.join(command)} failed (status {proc.returncode})")
    return Sample(ready if ready is not None else done, done, usage.ru_maxrss)


def import_costs(command: list[str], runs: int) -> dict[str, float]:
    """Median self time (ms) of importing each module in `command` (a kllvm run under
    `python -X importtime`)."""
    seen: dict[str, list[float]] = {}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-X", "importtime", "-m", "kllvm", *command],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "self [us]" not in line:
                own, _, name = line[len("import time:"):].split("|")
                seen.setdefault(name.strip(), []).append(int(own) / 1000)
    return {name: statistics.median(times) for name, times in seen.items()}


def print_import_costs(costs: dict[str, float], shown: int = 12) -> None:
    packages: dict[str, float] = {}
    for name, ms in costs.items():
        top = name.split(".")[0]
        packages[top] = packages.get(top, 0.0) + ms
    print(f"imports of an artifact run: {len(costs)} modules, {sum(costs.values()):.1f} ms "
          "(python -X importtime, which adds its own overhead)")
    print("  by package: " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(packages.items(), key=lambda i: -i[1])[:8]))
    print("  slowest modules: " + ", ".join(
        f"{name} {ms:.1f}" for name, ms in sorted(costs.items(), key=lambda i: -i[1])[:shown]))


def summary(samples: list[Sample]) -> tuple[float, float, int]:
    return (statistics.median(s.ready for s in samples) * 1000,
            statistics.median(s.done for s in samples) * 1000,
            max(s.rss_kib for s in samples))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    # An installed kllvm has its bytecode compiled (see kernel_bench.py).
    for package in ("backend", "frontend", "ir", "kllvm"):
        compileall.compile_dir(ROOT / package, quiet=1)
    bpftrace = shutil.which("bpftrace")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")
        script = Path(tmp) / "first.kp"
        script.write_text(KLLVM_FIRST)
        artifact = Path(tmp) / "first.kpa"
        subprocess.run([*KLLVM, "build", str(script), "-o", str(artifact)], check=True)
        first = {"kllvm cold script": [*KLLVM, "run", "-q", "--no-cache", str(script)],
                 "kllvm cached script": [*KLLVM, "run", "-q", str(script)],
                 "kllvm artifact": [*KLLVM, "run", "-q", str(artifact)]}
        hello = {"kllvm -e print": [*KLLVM, "-e", 'print("hi")']}
        if bpftrace is not None:
            first["bpftrace"] = [bpftrace, "-e", BPFTRACE_FIRST]
            hello["bpftrace BEGIN printf"] = [bpftrace, "-e",
                                              'BEGIN { printf("hi\\n"); exit(); }']
        trigger = subprocess.Popen([sys.executable, "-c", TRIGGER])
        try:
            timed(first["kllvm cached script"], b"first")  # fills the cache
            results = {name: [timed(command, b"first") for _ in range(options.runs)]
                       for name, command in first.items()}
        finally:
            trigger.send_signal(signal.SIGKILL)
            trigger.wait()
        hellos = {name: [timed(command, None) for _ in range(options.runs)]
                  for name, command in hello.items()}
        costs = import_costs(["run", "-q", "-d", "0", str(artifact)], options.runs)

    print(f"median of {options.runs} runs; peak RSS is the largest")
    print(f"{'first event (getpid every 1 ms)':<34}{'first ms':>10}{'exit ms':>10}"
          f"{'peak RSS MiB':>14}")
    for name, samples in results.items():
        ready, done, rss = summary(samples)
        print(f"{name:<34}{ready:>10.0f}{done:>10.0f}{rss / 1024:>14.1f}")
    print()
    print(f"{'print and exit':<34}{'':>10}{'exit ms':>10}{'peak RSS MiB':>14}")
    for name, samples in hellos.items():
        _, done, rss = summary(samples)
        print(f"{name:<34}{'':>10}{done:>10.0f}{rss / 1024:>14.1f}")
    print()
    print_import_costs(costs)
    if bpftrace is None:
        print("\nbpftrace is not installed: no figures to compare with")
        return
    print()
    reference = summary(results["bpftrace"])
    for name in ("kllvm artifact", "kllvm cached script", "kllvm cold script"):
        ready, _, rss = summary(results[name])
        print(f"{name} / bpftrace: first event {ready / reference[0]:.2f}x, "
              f"peak RSS {rss / reference[2]:.2f}x")
    print("targets: artifact and cached <= 1.0x first event, cold <= 2.0x, "
          "artifact RSS <= 0.5x")


if __name__ == "__main__":
    main()
