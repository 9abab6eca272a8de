"""The tick provider (`tick-N`): a timer of kllvm's own, in user space. Its body runs in
the interpreter, not the kernel: nothing to expand, plan or load; "attaching" is running
the body every N from the start of tracing, between ring-buffer polls."""

from __future__ import annotations

from collections.abc import Iterator

from ir import ops
from ir.values import Closure


class Timers:
    """The tick probes of a session (the registered probes that do not run in the
    kernel), each due every interval from `start`."""

    def __init__(self, probes: list[tuple[ops.ProbeDecl, Closure]], start: float) -> None:
        self._ticks = [((d.interval_ns or 1) / 1e9, c) for d, c in probes]
        self._next = [start + seconds for seconds, _ in self._ticks]

    def __bool__(self) -> bool:
        return bool(self._ticks)

    def timeout_ms(self, now: float, limit: int) -> int:
        """How long to wait for events before the next tick is due, at most `limit`."""
        if not self._next:
            return limit
        return max(0, min(limit, int((min(self._next) - now) * 1000)))

    def due(self, now: float) -> Iterator[Closure]:
        """The bodies to run now, each scheduled for its next time as it is given."""
        for i, (seconds, closure) in enumerate(self._ticks):
            if now >= self._next[i]:
                self._next[i] += seconds
                yield closure
