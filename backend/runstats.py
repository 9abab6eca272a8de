"""What `kllvm bench` reads from a live session: how many times the kernel ran its
programs (the events seen) and for how long, from /proc/self/fdinfo with the kernel's
BPF statistics on (kernel.bpf_stats_enabled), and how many records were lost."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

STATS_SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


@dataclass
class RunStats:
    """Filled in by the session at the end of a run."""

    events: int = 0  # program runs
    kernel_ns: int = 0  # time in the programs
    records: int = 0  # records user space read
    lost: int = 0  # records the ring buffer had no room for


def program_runs(fd: int) -> tuple[int, int]:
    """(run_cnt, run_time_ns) of a loaded program; zeros while the statistics are off."""
    counts = {"run_cnt": 0, "run_time_ns": 0}
    with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as info:
        for line in info:
            key, _, value = line.partition(":")
            if key in counts:
                counts[key] = int(value.strip())
    return counts["run_cnt"], counts["run_time_ns"]


@contextmanager
def bpf_stats() -> Iterator[None]:
    """The kernel counts program runs only while this sysctl is on; restored after."""
    with open(STATS_SYSCTL, encoding="ascii") as f:
        before = f.read().strip()
    fd = os.open(STATS_SYSCTL, os.O_WRONLY | os.O_NOFOLLOW)
    try:
        os.pwrite(fd, b"1", 0)  # a sysctl takes a write at offset 0 only
        yield
    finally:
        os.pwrite(fd, before.encode("ascii"), 0)
        os.close(fd)
