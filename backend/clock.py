"""Wall-clock time in probe bodies (`gettimeofday_*`).

BPF has no realtime clock: `bpf_ktime_get_ns()` counts CLOCK_MONOTONIC. The runtime sets
the global `kllvm_realtime` to CLOCK_REALTIME - CLOCK_MONOTONIC before attaching, and a
probe adds it to bpf_ktime_get_ns(). Deltas between two probe readings are exact; the
absolute time follows the wall clock as it was at start (a later clock step, e.g. by NTP,
is not seen by the probes).
"""

from __future__ import annotations

import time

SAMPLES = 5


def realtime_offset() -> int:
    """CLOCK_REALTIME - CLOCK_MONOTONIC in ns, from the tightest of a few readings of
    monotonic, realtime, monotonic (the realtime read is taken as their midpoint)."""
    best: tuple[int, int] | None = None
    for _ in range(SAMPLES):
        before = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        real = time.clock_gettime_ns(time.CLOCK_REALTIME)
        after = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        width = after - before
        if best is None or width < best[0]:
            best = (width, real - (before + after) // 2)
    assert best is not None
    return best[1]
