"""`kllvm bench SCRIPT [-- CMD ARGS]`: the cost of tracing on the compiled path and on the
interpreter path. Runs CMD with no probes, then traced on each path, and charges each path
the workload's extra CPU time (the BPF programs run in the workload's context) plus the
CPU time kllvm's own process spent, per event the kernel saw. Without CMD it traces the
whole system for -d SECONDS and charges the programs' run time (the kernel's BPF
statistics) plus kllvm's CPU time. Imports the compiler, as `run SCRIPT` does.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
from dataclasses import asdict, dataclass
from typing import TextIO

from backend import runtime
from backend.guest import GuestScript
from backend.runstats import RunStats, bpf_stats
from frontend.diagnostics import Source
from frontend.tapsetpath import SearchPath
from ir.records import Format
from kllvm import interprun
from kllvm.driver import Build, compile_script

DEFAULT_SECONDS = 1.0


@dataclass(frozen=True)
class PathCost:
    """One path's run: the events the kernel saw, the records it lost, and the cost."""

    events: int
    lost: int
    workload_ns: int  # the workload's CPU time (0 without CMD)
    kllvm_ns: int  # kllvm's own CPU time while tracing
    kernel_ns: int  # time in the BPF programs (the kernel's statistics)
    slowdown_ns: int  # the workload's extra CPU time (without CMD: kernel_ns)

    @property
    def ns_per_event(self) -> float | None:
        """The slowdown per event, plus kllvm's CPU time per event it handled: a path
        that lost events did not pay for them, so its own cost is what it would have
        spent keeping up."""
        handled = self.events - self.lost
        if not self.events or handled <= 0:
            return None
        return self.slowdown_ns / self.events + self.kllvm_ns / handled


@dataclass(frozen=True)
class Report:
    baseline_ns: int | None  # the workload's CPU time untraced
    compiled: PathCost
    interpreted: PathCost

    def ratio(self) -> float | None:
        c, i = self.compiled.ns_per_event, self.interpreted.ns_per_event
        return i / c if c and i is not None else None

    def as_json(self) -> dict[str, object]:
        return {"baseline_workload_ns": self.baseline_ns,
                "compiled": asdict(self.compiled), "interpreted": asdict(self.interpreted),
                "compiled_ns_per_event": self.compiled.ns_per_event,
                "interpreted_ns_per_event": self.interpreted.ns_per_event,
                "compiled_events_lost": self.compiled.lost,
                "interpreted_events_lost": self.interpreted.lost,
                "interpreted_over_compiled": self.ratio()}


def _cpu_ns(who: int) -> int:
    usage = resource.getrusage(who)
    return int((usage.ru_utime + usage.ru_stime) * 1e9)


def baseline(command: list[str]) -> int:
    """The workload's CPU time with no probes."""
    before = _cpu_ns(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, check=False)
    return _cpu_ns(resource.RUSAGE_CHILDREN) - before


def measure(source: Source, build: Build, guest: GuestScript | None, command: list[str],
            seconds: float | None, base: int | None) -> PathCost:
    """One traced run, its output thrown away; the losses are counted, not printed."""
    assert build.object is not None
    stats = RunStats()
    options = runtime.Options(quiet=True, duration=None if command else seconds,
                              command=list(command), stats=stats)
    with open(os.devnull, "wb") as out:
        self_before = _cpu_ns(resource.RUSAGE_SELF)
        children_before = _cpu_ns(resource.RUSAGE_CHILDREN)
        runtime.run(source, build.compilation.module, build.manifest, build.object, out,
                    [], options, guest)
        kllvm_ns = _cpu_ns(resource.RUSAGE_SELF) - self_before
        workload_ns = _cpu_ns(resource.RUSAGE_CHILDREN) - children_before
    slowdown = stats.kernel_ns if base is None else max(workload_ns - base, 0)
    return PathCost(stats.events, stats.lost, workload_ns, kllvm_ns, stats.kernel_ns,
                    slowdown)


def bench(source: Source, command: list[str], seconds: float | None, strlen: int,
          tapset_path: SearchPath) -> Report:
    build = compile_script(source, strlen, tapset_path=tapset_path)
    if build.object is None:
        raise SystemExit("kllvm: error: the script has no trace or profile probe to measure")
    guest, generic = interprun.compile_interp(source, strlen, tapset_path)
    duration = seconds if seconds is not None else DEFAULT_SECONDS
    with bpf_stats():
        base = baseline(command) if command else None
        compiled = measure(build.compilation.source, build, None, command, duration, base)
        interpreted = measure(generic.compilation.source, generic, guest, command, duration,
                              base)
    return Report(base, compiled, interpreted)


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.1f}"


def _per_event(cost: PathCost) -> str:
    value = cost.ns_per_event
    return "-" if value is None else f"{value:.0f}"


def write(report: Report, output_format: Format, out: TextIO) -> None:
    if output_format is Format.JSON:
        out.write(json.dumps(report.as_json()) + "\n")
        return
    rows = [("path", "events", "lost", "workload ms", "kllvm ms", "in BPF ms", "ns/event")]
    if report.baseline_ns is not None:
        rows.append(("no probes", "-", "-", _ms(report.baseline_ns), "-", "-", "-"))
    for name, cost in (("compiled", report.compiled), ("interpreted", report.interpreted)):
        rows.append((name, str(cost.events), str(cost.lost), _ms(cost.workload_ns),
                     _ms(cost.kllvm_ns), _ms(cost.kernel_ns), _per_event(cost)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.rjust(w) if i else cell.ljust(w)
                            for i, (cell, w) in enumerate(zip(row, widths, strict=True)))
                  .rstrip() + "\n")
    ratio = report.ratio()
    if ratio is not None:
        out.write(f"interpreted / compiled cost per event: {ratio:.1f}x\n")
    if report.compiled.events != report.interpreted.events:
        out.write("(the events differ between runs: the workload or the system did not "
                  "make the same events twice)\n")
    out.flush()


