"""Per-event overhead, cold start and program sizes, measured side by side in one run.

    .venv/bin/python bench/kernel_bench.py [--calls N] [--runs R]

Overhead: a C loop of getpid calls, timed with no probe, with an empty BPF program on
sys_enter_getpid, with kllvm running bench/count_getpid.kp, and with bpftrace running the
equivalent script. Cold start: from spawning `kllvm run` to its "Tracing..." banner, which it
prints once every probe is attached. Targets (issue 4): overhead <= 0.6x bpftrace's and
<= 1.3x the empty program's; cold start <= 150 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backend import tracefs  # noqa: E402
from backend.bpfbuilder import BPFModule  # noqa: E402
from backend.codegen import compile_object  # noqa: E402
from backend.loader import BPFObject  # noqa: E402

KLLVM = [sys.executable, "-m", "kllvm"]
BANNER = b"Tracing... Hit Ctrl-C to end."


def build_loop(workdir: Path) -> Path:
    binary = workdir / "getpid_loop"
    subprocess.run(["cc", "-O2", "-o", str(binary), str(ROOT / "bench" / "getpid_loop.c")],
                   check=True)
    return binary


def loop_ns(binary: Path, calls: int, runs: int) -> float:
    samples = [float(subprocess.run([str(binary), str(calls)], check=True, capture_output=True,
                                    text=True).stdout) for _ in range(runs)]
    return statistics.median(samples)


@contextmanager
def empty_program() -> Iterator[None]:
    bpf = BPFModule("empty")
    program = bpf.program("empty", "tracepoint/syscalls/sys_enter_getpid")
    program.ret(0)
    obj = BPFObject.open(compile_object(bpf), "empty")
    obj.load()
    link = obj.program("empty").attach()
    try:
        yield
    finally:
        link.destroy()
        obj.close()


@contextmanager
def traced_by(command: list[str], ready: Callable[[bytes], bool]) -> Iterator[float]:
    """Runs a tracer until the block ends; yields the seconds it took to become ready."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=ROOT)
    assert proc.stdout is not None
    seen = b""
    while not ready(seen):
        line = proc.stdout.readline()
        if not line:
            raise SystemExit(f"{command[0]} exited before attaching:\n{seen.decode()}")
        seen += line
    try:
        yield time.perf_counter() - start
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def kllvm_tracer() -> list[str]:
    return [*KLLVM, "run", "bench/count_getpid.kp"]


def bpftrace_tracer() -> list[str] | None:
    exe = shutil.which("bpftrace")
    if exe is None:
        return None
    return [exe, "-e", "tracepoint:syscalls:sys_enter_getpid { @[pid] = count(); }"]


def cold_start(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with traced_by(kllvm_tracer(), lambda seen: BANNER in seen) as ready:
            times.append(ready)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2_000_000)
    parser.add_argument("--runs", type=int, default=5)
    options = parser.parse_args()
    tracefs.ensure_tracefs()
    with tempfile.TemporaryDirectory() as tmp:
        binary = build_loop(Path(tmp))
        measure = lambda: loop_ns(binary, options.calls, options.runs)  # noqa: E731
        base = measure()
        with empty_program():
            empty = measure()
        with traced_by(kllvm_tracer(), lambda seen: BANNER in seen):
            kllvm = measure()
        tracer = bpftrace_tracer()
        bpftrace: float | None = None
        if tracer is not None:
            with traced_by(tracer, lambda seen: b"Attaching" in seen):
                time.sleep(0.2)  # bpftrace prints "Attaching" just before it attaches
                bpftrace = measure()
    starts = cold_start(options.runs)

    added = {name: value - base for name, value in
             (("empty BPF program", empty), ("kllvm count", kllvm))}
    print(f"getpid loop, {options.calls} calls, median of {options.runs} runs "
          f"(cpu {os.cpu_count()})")
    print(f"{'probe':<22}{'ns/call':>10}{'added ns':>10}")
    print(f"{'none':<22}{base:>10.1f}{0:>10.1f}")
    print(f"{'empty BPF program':<22}{empty:>10.1f}{added['empty BPF program']:>10.1f}")
    print(f"{'kllvm count':<22}{kllvm:>10.1f}{added['kllvm count']:>10.1f}")
    if bpftrace is not None:
        print(f"{'bpftrace count()':<22}{bpftrace:>10.1f}{bpftrace - base:>10.1f}")
    print()
    ratio_empty = added["kllvm count"] / max(added["empty BPF program"], 1e-9)
    print(f"kllvm / empty program overhead: {ratio_empty:.2f}x (target <= 1.3x)")
    if bpftrace is not None:
        ratio_bpftrace = added["kllvm count"] / max(bpftrace - base, 1e-9)
        print(f"kllvm / bpftrace overhead:      {ratio_bpftrace:.2f}x (target <= 0.6x)")
    print(f"cold start to probes attached: median {statistics.median(starts) * 1000:.0f} ms "
          f"(min {min(starts) * 1000:.0f}, target <= 150 ms)")


if __name__ == "__main__":
    main()
