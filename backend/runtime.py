"""The live session: load the object, run the main chunk against live maps and globals,
attach the registered probes, print what the probes send, stop, run trace_end, report.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from backend import manifest as mf
from backend import mapfail, verifierlimits
from backend.clock import realtime_offset
from backend.command import (
    STOP_SIGNALS,
    CommandError,
    TracedCommand,
    TracedProcess,
    check_runnable,
)
from backend.guest import Guest, GuestScript
from backend.layout import LayoutError, StackRef
from backend.loader import BPFObject, GlobalSection, LoadError, Program, possible_cpus
from backend.providers.base import Detach, MultiAttacher
from backend.providers.registry import ATTACHERS
from backend.providers.tick import Timers
from backend.ringbuf import RingBuffer
from backend.runstats import RunStats, program_runs
from backend.slots import SLOTS_PER_CPU, CounterSlots
from backend.stacks import KernelSymbols, Stacks
from backend.tables import GlobalCell, MapTable
from backend.tracefs import TracefsError, ensure_tracefs
from frontend.diagnostics import Diagnostic, Source, Span, render
from ir import fmt, ops
from ir.interp import CellLike, Interpreter, RuntimeEnv
from ir.records import Format, Records
from ir.values import Closure, ExitRequest, KtapRuntimeError, KtapTable, full_table_message

POLL_MS = 100
RECORDS_PER_STOP_CHECK = 256  # a clock read per 256 records: stops on time under a flood
PRINTED_CACHE = 4096  # print records remembered with their text
DETACH_THREADS = 256
DETACH_NOTICE = 100  # more attachments than this: tell the user that stopping takes time
REFUSED_LISTED = 10  # attach points the kernel refused that are named one by one


class SessionError(Exception):
    """A failure to set up the session; the message is for the user."""


@dataclass
class Options:
    quiet: bool = False
    duration: float | None = None
    pid: int | None = None
    verbose: bool = False
    command: list[str] = field(default_factory=list)
    output_format: Format = Format.TEXT
    folded: bool = False  # `-f folded`: print_hist prints stacks as folded lines
    # `--flamegraph`: given the folded stacks of the stack-keyed tables when tracing ends
    flamegraph: Callable[[dict[str, int]], None] | None = None
    stats: RunStats | None = None  # kllvm bench: filled in at the end of the run


def options_from(namespace: object, command: list[str]) -> Options:
    """The run options of kllvm's command line (an argparse namespace)."""
    return Options(quiet=bool(getattr(namespace, "quiet", False)),
                   duration=getattr(namespace, "duration", None),
                   pid=getattr(namespace, "pid", None),
                   verbose=bool(getattr(namespace, "verbose", False)),
                   command=list(command),
                   output_format=Format(getattr(namespace, "format", Format.TEXT)),
                   folded=getattr(namespace, "format", None) == Format.FOLDED)


class LiveEnv(RuntimeEnv):
    """Hands the interpreter map-backed tables and global-backed cells."""

    def __init__(self, obj: BPFObject, manifest: mf.Manifest, out: BinaryIO, script: str,
                 argv: list[str], output_format: Format) -> None:
        super().__init__(out=out, script=script, argv=argv, output_format=output_format)
        self.obj = obj
        self.manifest = manifest
        # The kernel's tables and globals by IR site; `tables` (inherited) keeps the
        # tables that stay in user space, whose drops are reported as without probes.
        self.kernel_tables: dict[int, mf.TableInfo] = {t.site: t for t in manifest.tables}
        self.kernel_globals: dict[str, mf.GlobalInfo] = {g.cell: g for g in manifest.globals}
        self.live_tables: list[MapTable] = []
        self.live_cells: list[tuple[ops.MakeCell, GlobalCell]] = []
        self.stacks: Stacks | None = None  # once loaded
        self._cell_ops: dict[str, ops.MakeCell] = {}

    def bind_cells(self, module: ops.Module) -> None:
        """make_cell hears the variable's name; the manifest knows the IR cell's name."""
        for block in module.functions[module.main].blocks:
            for op in block.ops:
                if isinstance(op, ops.MakeCell) and op.global_name is not None:
                    self._cell_ops[op.global_name] = op

    def make_table(self, decl: ops.TableDecl, capacity: int) -> KtapTable:
        info = self.kernel_tables.get(decl.site)
        if info is None:
            return super().make_table(decl, capacity)
        slots = None if info.slots is None else CounterSlots(self.obj.mapped_array(info.slots))
        table = MapTable(self.obj.map(info.map), info, self.manifest.strlen, slots, self.stacks)
        self.live_tables.append(table)
        return table

    def make_cell(self, global_name: str | None, initial: object) -> CellLike:
        op = self._cell_ops.get(global_name or "")
        info = None if op is None else self.kernel_globals.get(op.dest.name)
        if op is None or info is None:
            return super().make_cell(global_name, initial)
        cell = GlobalCell(self.obj.global_section(".bss"), info, self.manifest.strlen,
                          self.stacks)
        cell.value = initial
        self.live_cells.append((op, cell))
        return cell


class Session:
    def __init__(self, source: Source, module: ops.Module, manifest: mf.Manifest,
                 obj_bytes: bytes, out: BinaryIO, argv: list[str], options: Options) -> None:
        self.source = source
        self.module = module
        self.manifest = manifest
        self.out = out
        self.options = options
        self.links: list[Detach] = []
        self.stop_requested = threading.Event()
        self.exit_seen = False
        self.records = 0
        self.printed: dict[tuple[int, bytes], bytes] = {}
        self.started = self.stopped = 0.0  # tracing's span, for profile timers' rates
        # Records that name no print site or fault of the manifest, or whose body does
        # not decode: only a damaged or crafted object sends them; counted, not trusted.
        self.malformed_records = 0
        # Non-fatal errors by message and place: how many times each happened.
        self.repeated_errors: dict[tuple[str, Span | None], int] = {}
        self.deadline: float | None = None
        self.fatal: KtapRuntimeError | None = None
        self.hurry = threading.Event()  # a second stop signal: end the command at once
        self.command: TracedCommand | None = None
        self.process: TracedProcess | None = None  # -p PID
        self.obj = BPFObject.open(obj_bytes, "kllvm")
        self.env = LiveEnv(self.obj, manifest, out, source.name, argv, options.output_format)
        self.env.folded = options.folded
        self.env.resolve_symbol = self.kernel_symbol  # printf's %p, here and in trace_end
        self._kernel_symbols: KernelSymbols | None = None
        self.env.bind_cells(module)
        self.output = self.env.records  # output and diagnostics, as text or JSON
        # --interp: the script whose bodies the interpreter runs; the object is then the
        # generic program that sends it the events (backend/guest.py).
        self.guest: Guest | None = None

    # -- setup

    def multi_attacher(self, info: mf.ProgramInfo) -> MultiAttacher | None:
        """The attacher that attaches all of `info`'s points with one link, if any."""
        attacher: object = ATTACHERS[info.attach[0].kind] if info.attach else None
        if (isinstance(attacher, MultiAttacher) and len({p.kind for p in info.attach}) == 1
                and attacher.multi(info.attach)):
            return attacher
        return None

    def load(self) -> None:
        for info in self.manifest.programs:
            if (attacher := self.multi_attacher(info)) is not None:
                attacher.prepare(self.obj.program(info.name))
        for table in self.manifest.tables:
            if table.slots is not None:
                self.obj.set_max_entries(table.slots, SLOTS_PER_CPU * possible_cpus())
        try:
            self.obj.load()
        except LoadError as e:
            if e.map_failure is not None:
                raise SessionError(mapfail.message(self.source, self.module, self.manifest,
                                                   e.map_failure, possible_cpus())) from None
            raise SessionError(self.verifier_message(e)) from None
        self.bss: GlobalSection = self.obj.global_section(".bss")
        if mf.REALTIME_OFFSET in self.bss.variables:  # gettimeofday_* (backend.clock)
            self.bss.write_int(mf.REALTIME_OFFSET, realtime_offset(), signed=True)
        if mf.SELF_PID in self.bss.variables:
            self.bss.write_int(mf.SELF_PID, os.getpid())
        maps = {name: self.obj.map(name) for info in self.manifest.stacks
                for name in (info.map, info.pids) if name is not None}
        self.stacks = self.env.stacks = Stacks.of(self.manifest.stacks, maps, self.bss)

    def verifier_message(self, error: LoadError) -> str:
        """The rejection against the script line: the last source line the kernel's
        log quotes (`; <text> @ <file>:<line>`) is where the verifier stopped."""
        lines = error.log.splitlines()
        where = None
        for line in lines:
            if line.startswith(";") and " @ " in line:
                where = line.rsplit(" @ ", 1)[1]
        reason = next((ln for ln in reversed(lines) if ln and not ln.startswith(
            ("processed", "verification time", "stack depth", ";"))), error.summary)
        text = f"the kernel's verifier rejected the program: {reason.strip()}"
        message = ""
        if where is not None and ":" in where:
            name, _, number = where.rpartition(":")
            line_no = int(number)
            # The line is the script's, or a tapset's: the log names files by their base
            # name only (the script's wins when a tapset has the same).
            tapset = next((path for path, _ in self.source.tapsets
                           if _base(path) == name != _base(self.source.name)), "")
            text_line = (self.source.tapset(tapset) or self.source).line_text(line_no)
            indent = len(text_line) - len(text_line.lstrip())
            span = Span(line_no, indent + 1, line_no, len(text_line.rstrip()) + 1, tapset)
            message = render(self.source, Diagnostic(span, text))
        else:
            message = f"{self.source.name}: error: {text}\n"
        if (limit := verifierlimits.explain(reason)) is not None:
            message += f"hint: {limit}\n"
        if self.options.verbose:
            message += "verifier log:\n" + error.log
        else:
            message += "hint: run with -v for the full verifier log\n"
        return message

    def end_command(self) -> None:
        if self.command is not None:
            self.command.end(self.hurry)

    def attach(self, probes: list[tuple[ops.ProbeDecl, Closure]]) -> None:
        wanted = {decl.id for decl, _ in probes}
        for info in self.manifest.programs:
            if info.probe not in wanted:
                continue
            program = self.obj.program(info.name)
            if (multi := self.multi_attacher(info)) is not None:
                try:
                    refused = multi.attach_multi(program, info.attach, self.links,
                                                 self.traced_pid())
                except OSError as e:
                    raise SessionError(f"cannot attach to {info.attach[0].target} and "
                                       f"{len(info.attach) - 1} more: "
                                       f"{e.strerror or e}") from None
                self.warn_refused(refused)
                continue
            attached = 0
            failures: list[str] = []
            for point in info.attach:
                if self.stop_requested.is_set():
                    return  # stopped while attaching (a wide probe takes a while): finish
                try:
                    self.attach_point(program, point)
                    attached += 1
                except OSError as e:
                    failures.append(f"cannot attach to {point.target}: {e.strerror or e}")
            if failures and attached == 0:
                raise SessionError(failures[0])
            for failure in failures:
                self.output.message("warning", failure)

    def traced_pid(self) -> int:
        """The process the run traces (-- CMD, -p PID), or -1 for every process."""
        if self.command is not None:
            return self.command.pid
        return self.options.pid if self.options.pid is not None else -1

    def warn_refused(self, failures: list[str]) -> None:
        """Attach points the kernel refused, where others of the program attached: a few
        are listed, the rest counted."""
        for failure in failures[:REFUSED_LISTED]:
            self.output.message("warning", failure)
        if len(failures) > REFUSED_LISTED:
            self.output.message("warning", f"{len(failures) - REFUSED_LISTED} more attach "
                                "points were refused")

    def attach_point(self, program: Program, point: mf.AttachPoint) -> None:
        ATTACHERS[point.kind].attach(program, point, self.links)

    # -- records

    def on_record(self, data: bytes) -> None:
        self.records += 1
        if self.records % RECORDS_PER_STOP_CHECK == 0:
            self.stop_kernel_if_due()
        kind, ident = int.from_bytes(data[:4], "little"), int.from_bytes(data[4:8], "little")
        try:
            self.handle_record(kind, ident, data[8:])
        except (IndexError, KeyError, ValueError, LayoutError):
            self.malformed_records += 1

    def handle_record(self, kind: int, ident: int, body: bytes) -> None:
        match kind:
            case mf.RECORD_PRINT if self.guest is not None:
                site = self.manifest.prints[ident]
                self.fire(self.guest, self.manifest.decode(site.layouts, body))
            case mf.RECORD_PRINT:
                site = self.manifest.prints[ident]
                if self.output.json:
                    self.output.print(self.symbolised(self.manifest.decode(site.layouts, body)))
                    return
                # The same record prints the same text: a flood of `print(stack())` is
                # mostly repeats, formatted once.
                text = self.printed.get((ident, body))
                if text is None:
                    text = fmt.format_print(self.symbolised(
                        self.manifest.decode(site.layouts, body)))
                    if len(self.printed) >= PRINTED_CACHE:
                        self.printed.clear()
                    self.printed[(ident, body)] = text
                self.output.text(text)
            case mf.RECORD_PRINTF:
                site = self.manifest.prints[ident]
                args = self.manifest.decode(site.layouts, body)
                try:
                    self.output.printf(fmt.ktap_printf(site.format.encode("latin-1"), args,
                                                       self.env.resolve_symbol))
                except KtapRuntimeError as e:
                    # Formatting errors are fatal, as in the interpreter (Part B §5.6).
                    e.span = e.span or self.module.errors[site.site].span
                    if e.fatal:
                        self.fatal = self.fatal or e
                    else:
                        self.report(e)
            case mf.RECORD_EXIT:
                self.exit_seen = True
            case mf.RECORD_FAULT:
                fault = self.manifest.faults[ident]
                error = KtapRuntimeError(fault.message, self.module.errors[fault.site].span,
                                         fault.fatal)
                if fault.fatal:
                    self.fatal = self.fatal or error
                else:
                    self.report(error)
            case _:
                raise ValueError(f"unknown record kind {kind}")

    def kernel_symbol(self, address: int) -> bytes:
        if self._kernel_symbols is None:
            self._kernel_symbols = (self.stacks.kernel() if self.stacks is not None
                                    else KernelSymbols.read())
        return self._kernel_symbols.resolve(address)

    def symbolised(self, values: list[object]) -> list[object]:
        """A record's stacks (backend.stacks), named while their processes live."""
        if self.stacks is None:
            return values
        stacks = self.stacks
        return [stacks.value(v) if isinstance(v, StackRef) else v for v in values]

    def fire(self, guest: Guest, values: list[object]) -> None:
        """Runs a probe body in the interpreter, its errors handled as the kernel's."""
        if self.exit_seen or self.fatal is not None:
            return  # as the kernel's stop flag silences the compiled probes
        try:
            guest.fire(values)
        except ExitRequest:
            self.exit_seen = True
        except KtapRuntimeError as e:
            if e.fatal:
                self.fatal = e
            else:
                self.report(e)

    def report(self, error: KtapRuntimeError) -> None:
        """Prints a run-time error. A non-fatal one that happens on every event is
        printed the first time and counted after (`warn_repeated_errors`)."""
        if not error.fatal:
            key = (error.message, error.span)
            seen = self.repeated_errors.get(key, 0)
            self.repeated_errors[key] = seen + 1
            if seen:
                return
        if error.span is not None:
            self.output.diagnostic(self.source, Diagnostic(error.span, error.message))
        else:
            self.output.message("error", error.message, self.source.name)

    # -- the run

    def stop_kernel_if_due(self) -> None:
        """libbpf's poll keeps consuming while records keep coming, so under a flood it
        would never return to check -d or Ctrl-C: set the kernel's stop flag from here,
        the probes go quiet and the poll returns."""
        due = self.deadline is not None and time.monotonic() >= self.deadline
        if due or self.stop_requested.is_set():
            self.bss.write_int(mf.STOP, 1)

    def should_stop(self, deadline: float | None) -> bool:
        if self.stop_requested.is_set() or self.exit_seen or self.fatal is not None:
            return True
        if self.bss.read_int(mf.STOP) != 0:
            return True
        if deadline is not None and time.monotonic() >= deadline:
            return True
        if self.process is not None and self.process.ended():
            return True
        return self.command is not None and self.command.ended()

    def poll(self, ring: RingBuffer, ticks: list[tuple[ops.ProbeDecl, Closure]],
             interpreter: Interpreter) -> None:
        deadline = (time.monotonic() + self.options.duration
                    if self.options.duration is not None else None)
        self.deadline = deadline
        timers = Timers(ticks, time.monotonic())
        self.started = time.monotonic()
        while not self.should_stop(deadline):
            now = time.monotonic()
            # Wake at the deadline, not up to a poll later: timers fire until then.
            limit = POLL_MS if deadline is None else min(POLL_MS, int((deadline - now) * 1000) + 1)
            ring.poll(timers.timeout_ms(now, max(limit, 0)))
            if self.stacks is not None:
                self.stacks.watch()
            for closure in timers.due(time.monotonic()):
                self.out.flush()
                try:
                    interpreter.call(closure, [])
                except ExitRequest:
                    self.exit_seen = True
                except KtapRuntimeError as e:
                    if e.fatal:
                        self.fatal = e  # reported once, by _finish
                    else:
                        self.report(e)
        self.stopped = time.monotonic()

    def kernel_fatal(self) -> KtapRuntimeError | None:
        """A fatal kernel error whose record was lost still stops the run."""
        index = self.bss.read_int(mf.FATAL)
        if self.fatal is None and 0 < index <= len(self.manifest.faults):
            fault = self.manifest.faults[index - 1]
            self.fatal = KtapRuntimeError(fault.message, self.module.errors[fault.site].span)
        return self.fatal

    def detach(self) -> None:
        # Each perf-event tracepoint detach waits for an RCU grace period (~55 ms here,
        # under one kernel mutex); detaching from many threads at once overlaps a little
        # of it, yet 360 of them still take ~12 s. Wide probes mostly avoid this (raw
        # tracepoints and raw_syscalls, see backend.providers); for the others, say why
        # stopping takes a while.
        slow = [link for link in self.links if link.slow_to_detach]
        if len(slow) > DETACH_NOTICE:
            self.output.flush()
            if self.output.json:
                self.output.notice("", "detaching", probes=len(slow))
                self.output.flush()
            else:
                sys.stderr.write(f"kllvm: detaching {len(slow)} probes...\n")
                sys.stderr.flush()
        if len(slow) > 1:
            from concurrent.futures import ThreadPoolExecutor  # ~1 ms to import: only here

            with ThreadPoolExecutor(DETACH_THREADS) as pool:
                list(pool.map(lambda link: link.destroy(), slow))
        for link in self.links:
            link.destroy()
        self.links.clear()

    def fill_stats(self, stats: RunStats) -> None:
        for program in self.obj.programs():
            runs, ns = program_runs(program.fd)
            stats.events += runs
            stats.kernel_ns += ns
        stats.records = self.records
        stats.lost = self.bss.read_int(mf.LOST)

    def warn_losses(self) -> None:
        drops_raw = self.bss.read(mf.DROPS)
        for table in self.manifest.tables:
            i = table.drop_index
            dropped = int.from_bytes(drops_raw[i * 8:i * 8 + 8], "little")
            dropped += sum(t.dropped_updates for t in self.env.live_tables
                           if t.info.site == table.site)
            if dropped:
                message = full_table_message(table.name, table.capacity, dropped)
                span = self.module.tables[table.site].span
                self.output.diagnostic(self.source, Diagnostic(span, message, "warning"))
        for decl, user_table in self.env.tables:  # the tables no probe uses
            if user_table.dropped:
                message = full_table_message(decl.name, user_table.capacity, user_table.dropped)
                self.output.diagnostic(self.source, Diagnostic(decl.span, message, "warning"))
        if self.guest is not None:
            self.guest.warn_dropped()
        for table in self.manifest.tables:
            cut = sum(t.cut_strings for t in self.env.live_tables if t.info.site == table.site)
            if cut:
                self.warn_cut(cut, f"table '{table.name}'", self.module.tables[table.site].span)
        for op, cell in self.env.live_cells:
            if cell.cut_strings:
                self.warn_cut(cell.cut_strings, f"variable '{op.global_name}'", op.span)
        if mf.CUTS in self.bss.variables:
            cuts_raw = self.bss.read(mf.CUTS)
            for i, cut_site in enumerate(self.manifest.cuts):
                count = int.from_bytes(cuts_raw[i * 8:i * 8 + 8], "little")
                if count:
                    self.warn_kernel_cut(count, cut_site)
        self.warn_repeated_errors()
        if self.malformed_records:
            self.output.message("warning", f"{self.malformed_records} records from the "
                                "kernel matched nothing in the artifact's manifest and were "
                                "ignored (a damaged or foreign object?)", self.source.name)
        lost = self.bss.read_int(mf.LOST)
        if lost:
            self.output.message("warning", f"{lost} output records were lost (the ring "
                                "buffer was full)", self.source.name)
        if self.stacks is not None:
            for message in self.stacks.warnings():
                self.output.message("warning", message, self.source.name)
        self.warn_throttled()

    def warn_throttled(self) -> None:
        """A profile timer that took far fewer samples than its period asks for: the
        kernel throttles perf events above kernel.perf_event_max_sample_rate (which it
        lowers itself when sampling takes too long)."""
        seconds = self.stopped - self.started
        if mf.SAMPLES not in self.bss.variables or seconds <= 0:
            return
        counts = self.bss.read(mf.SAMPLES)
        cpus = os.cpu_count() or 1  # a perf event on each (backend.providers.profile)
        for program in self.manifest.programs:
            if program.samples is None:
                continue
            taken = int.from_bytes(counts[8 * program.samples:8 * program.samples + 8], "little")
            period_ns = int(program.attach[0].target)
            asked = seconds * 1e9 / period_ns * cpus
            # Each CPU may lose a period at the start and one at the end.
            if taken >= 0.9 * asked - 2 * cpus:
                continue
            rate = _max_sample_rate()
            limit = f" (kernel.perf_event_max_sample_rate is now {rate})" if rate else ""
            message = (f"the profile timer took {taken} samples in {seconds:.3f} s on "
                       f"{cpus} CPUs, {100 * taken / asked:.0f}% of the {asked:.0f} its "
                       f"period asks for: the kernel throttled it{limit}")
            span = self.module.probes[program.probe].span
            self.output.diagnostic(self.source, Diagnostic(span, message, "warning"))

    def folded_stacks(self) -> dict[str, int]:
        """The counts of the stack-keyed tables as folded stacks; under a root frame
        named after its table when there are several."""
        tables = [t for t in self.env.live_tables if t.stack_keys]
        folded: dict[str, int] = {}
        for table in tables:
            try:
                counts = fmt.fold(table.items())
            except KtapRuntimeError:
                continue  # values that are not counts
            for stack, count in counts.items():
                if len(tables) > 1:
                    stack = f"{fmt.folded_frame(table.info.name)};{stack}"
                folded[stack] = folded.get(stack, 0) + count
        return folded

    def warn_cut(self, count: int, what: str, span: Span) -> None:
        strings = "1 string" if count == 1 else f"{count} strings"
        message = (f"{strings} longer than {self.manifest.strlen - 1} bytes had to be cut "
                   f"to fit {what} in the kernel (--strlen sets the capacity)")
        self.output.diagnostic(self.source, Diagnostic(span, message, "warning"))

    def warn_repeated_errors(self) -> None:
        for (message, span), count in self.repeated_errors.items():
            if count < 2:
                continue
            text = f"the error '{message}' happened {count} times (printed once)"
            if span is not None:
                self.output.diagnostic(self.source, Diagnostic(span, text, "warning"))
            else:
                self.output.message("warning", text, self.source.name)

    def warn_kernel_cut(self, count: int, cut: mf.Cut) -> None:
        strings = "1 string" if count == 1 else f"{count} strings"
        message = (f"{strings} {cut.what} had to be cut to {self.manifest.strlen - 1} bytes "
                   "(--strlen sets the capacity)")
        span = self.module.errors[cut.site].span
        self.output.diagnostic(self.source, Diagnostic(span, message, "warning"))

    def close(self) -> None:
        self.end_command()
        if self.process is not None:
            self.process.close()
        self.detach()
        self.obj.close()


@contextmanager
def _signals(stop: threading.Event, hurry: threading.Event) -> Iterator[None]:
    """Each of STOP_SIGNALS ends the run properly (detach, drain, trace_end, report);
    a second one ends the traced command at once instead of after its grace period."""
    def handler(signum: int, frame: object) -> None:
        (hurry if stop.is_set() else stop).set()

    saved = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in saved.items():
            signal.signal(s, h)


# Capability numbers (linux/capability.h): loading tracing programs takes CAP_BPF and
# CAP_PERFMON, or CAP_SYS_ADMIN, which holds both on older kernels.
CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 21, 38, 39


def has_tracing_privileges() -> bool:
    """Whether this process may load and attach tracing programs. Capabilities, not the
    user id: root in a container without CAP_BPF cannot, and is told so."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            effective = next(int(line.split()[1], 16) for line in status
                             if line.startswith("CapEff:"))
    except (OSError, StopIteration, ValueError, IndexError):
        return os.geteuid() == 0
    def held(cap: int) -> bool:
        return bool(effective >> cap & 1)
    return held(CAP_SYS_ADMIN) or (held(CAP_BPF) and held(CAP_PERFMON))


def run(source: Source, module: ops.Module, manifest: mf.Manifest, obj: bytes, out: BinaryIO,
        argv: list[str], options: Options, guest: GuestScript | None = None) -> int:
    """Runs a script that has kernel probes; returns the exit status. With `guest`, the
    object is the generic program of the interpreter path and the guest's bodies run."""
    report = Records(out, options.output_format)
    if not has_tracing_privileges():
        report.message("error", "tracing needs root privileges (CAP_BPF and CAP_PERFMON): "
                                "run kllvm as root")
        return 1
    try:
        ensure_tracefs()
    except TracefsError as e:
        report.message("error", str(e))
        return 1
    if options.command:
        try:
            check_runnable(options.command[0])
        except CommandError as e:
            report.message("error", str(e))
            return e.status
    process = None
    if options.pid is not None and not options.command:
        try:
            process = TracedProcess(options.pid)
        except CommandError as e:
            report.message("error", str(e))
            return e.status
    try:
        session = Session(source, module, manifest, obj, out, argv, options)
    except BaseException:
        if process is not None:
            process.close()
        raise
    session.process = process
    if guest is not None:
        session.guest = Guest(guest.source, guest.module, guest.names, out, argv,
                              options.output_format)
        session.source = guest.source  # errors are the script's, at its lines
    try:
        return _run(session)
    except SessionError as e:
        if str(e).endswith("\n"):  # rendered at the script's line
            report.rendered_error(str(e))
        else:
            report.message("error", str(e))
        return 1
    except CommandError as e:
        report.message("error", str(e))
        return e.status
    finally:
        session.close()


def _run(session: Session) -> int:
    session.load()
    env = session.env
    interpreter = Interpreter(session.module, env)
    try:
        interpreter.run_main()
    except ExitRequest:
        return _finish(session, interpreter, traced=False)
    except KtapRuntimeError as e:
        session.report(e)
        if e.fatal:
            return 1
    if session.guest is not None:
        interpreter = session.guest.interpreter
        try:
            session.guest.run_main()
        except ExitRequest:
            return _finish(session, interpreter, traced=False)
        except KtapRuntimeError as e:
            session.report(e)
            if e.fatal:
                return 1
    options = session.options
    kernel = [(d, c) for d, c in env.probes if d.kind.runs_in_kernel]
    ticks = [(d, c) for d, c in env.probes if not d.kind.runs_in_kernel]
    with _signals(session.stop_requested, session.hurry):
        if options.command:
            session.command = TracedCommand.start(options.command)
            session.bss.write_int(mf.TARGET_PID, session.command.pid)
        elif options.pid is not None:
            session.bss.write_int(mf.TARGET_PID, options.pid)
        ring = RingBuffer(session.obj.map(mf.RINGBUF), session.on_record)
        try:
            if kernel and not options.quiet:
                # Said before attaching, which takes a while for wide probes.
                probes, events = attach_counts(session.manifest, {d.id for d, _ in kernel})
                session.output.notice(f"Attaching {_count(probes, 'probe')} to "
                                      f"{_count(events, 'event')}...\n", "attaching",
                                      probes=probes, events=events)
                session.output.flush()
            session.attach(kernel)
            if not options.quiet:
                session.output.notice("Tracing... Hit Ctrl-C to end.\n", "tracing")
                session.output.flush()
            if session.command is not None and not session.stop_requested.is_set():
                session.command.release()  # (stopped while attaching: it never runs)
            if kernel or ticks or session.command is not None:
                session.poll(ring, ticks, interpreter)
            # The stop flag silences every program at once; the links are destroyed
            # after trace_end (`close`), since detaching costs a grace period per event.
            if session.bss.read_int(mf.STOP) == 0:
                session.bss.write_int(mf.STOP, mf.STOP_EXIT)
            ring.consume()
        finally:
            ring.close()
        session.end_command()
        if options.stats is not None:
            session.fill_stats(options.stats)
    status = _finish(session, interpreter, traced=True)
    ended = None if session.command is None else session.command.status
    # A command that ended by itself passes its status on, unless the script failed.
    return ended if status == 0 and ended is not None else status


def attach_counts(manifest: mf.Manifest, registered: set[int]) -> tuple[int, int]:
    """How many kernel probes of those the main chunk registered have programs, and on
    how many events they fire: the probename table holds each event once (two probes on
    one event share its name). When only some probes were registered (a `trace` inside
    an `if`), their attach points' names are counted, a raw_syscalls attachment as one."""
    programs = [p for p in manifest.programs if p.probe in registered]
    probes = len({p.probe for p in programs})
    if len(programs) == len(manifest.programs):
        return probes, len(manifest.names)
    names = {manifest.names[a.cookie] if 0 <= a.cookie < len(manifest.names) else a.target
             for p in programs for a in p.attach}
    return probes, len(names)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _max_sample_rate() -> int | None:
    try:
        with open("/proc/sys/kernel/perf_event_max_sample_rate", "rb") as rate:
            return int(rate.read())
    except (OSError, ValueError):
        return None


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _finish(session: Session, interpreter: Interpreter, traced: bool) -> int:
    fatal = session.kernel_fatal() if traced else None
    if fatal is not None:
        session.report(fatal)
        session.warn_losses()
        return 1
    status = 0
    if traced and session.options.flamegraph is not None:
        session.options.flamegraph(session.folded_stacks())
    trace_end = session.env.trace_end if session.guest is None else session.guest.trace_end()
    if trace_end is not None:
        session.out.flush()
        try:
            interpreter.call(trace_end, [])
        except ExitRequest:
            pass
        except KtapRuntimeError as e:
            session.report(e)
            status = 1 if e.fatal else 0
    session.out.flush()
    session.warn_losses()
    return status


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]
