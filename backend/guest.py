"""The interpreter path (`kllvm run --interp`): the script's probe bodies run in user
space in the IR interpreter. A generic BPF program per probe sends, as one print record,
the probe's id and the event variables its body reads; `Guest.fire` runs the body with
those values. The script's tables and globals live in user space.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO

from frontend.diagnostics import Diagnostic, Source
from ir import ops
from ir.interp import Interpreter, RuntimeEnv
from ir.records import Format
from ir.values import Closure, KtapRuntimeError, full_table_message

TIME = "@time"  # the name under which the generic program sends gettimeofday_ns()


@dataclass(frozen=True)
class GuestScript:
    """The compiled script of the interpreter path and what each probe's record holds."""

    source: Source
    module: ops.Module
    names: dict[int, tuple[str, ...]]


class GuestEnv(RuntimeEnv):
    """Event variables come from the record of the event being handled."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.event: dict[str, object] = {}  # empty outside probe bodies

    def context(self, name: str) -> object:
        if name in self.event:
            return self.event[name]
        return super().context(name)

    def wall_clock_ns(self) -> int:
        """In a probe body, the event's time (the generic program reads the clock)."""
        event_time = self.event.get(TIME)
        return event_time if type(event_time) is int else super().wall_clock_ns()


class Guest:
    """The script run by the interpreter; `names[probe id]` are the event variables, in
    order, that the generic program sends after the probe's id."""

    def __init__(self, source: Source, module: ops.Module, names: dict[int, tuple[str, ...]],
                 out: BinaryIO, argv: list[str], output_format: Format) -> None:
        self.source = source
        self.module = module
        self.names = names
        self.env = GuestEnv(out=out, script=source.name, argv=argv,
                            output_format=output_format)
        self.interpreter = Interpreter(module, self.env)
        self.bodies: dict[int, Closure] = {}
        self.events = 0

    def run_main(self) -> None:
        """The script's main chunk: registers the probe bodies. Raises as run_main does."""
        self.interpreter.run_main()
        self.bodies = {decl.id: closure for decl, closure in self.env.probes
                       if decl.kind.runs_in_kernel}

    def fire(self, values: Sequence[object]) -> None:
        """Runs the body of the probe a record names; raises what the body raises.
        A record of a probe the main chunk did not register is ignored."""
        probe = values[0]
        if type(probe) is not int or probe not in self.names:
            raise ValueError("record names no probe")
        names = self.names[probe]
        if len(values) != len(names) + 1:
            raise ValueError("record does not match its probe")
        closure = self.bodies.get(probe)
        if closure is None:
            return
        self.events += 1
        self.env.event = dict(zip(names, values[1:], strict=True))
        try:
            self.interpreter.call(closure, [])
        finally:
            self.env.event = {}

    def trace_end(self) -> Closure | None:
        return self.env.trace_end

    def warn_dropped(self) -> None:
        """Part A §7: a full table is not silent, on this path as on the compiled one."""
        for decl, table in self.env.tables:
            if table.dropped:
                message = full_table_message(decl.name, table.capacity, table.dropped)
                self.env.records.diagnostic(self.source,
                                            Diagnostic(decl.span, message, "warning"))

    def report(self, error: KtapRuntimeError) -> None:
        if error.span is not None:
            self.env.records.diagnostic(self.source, Diagnostic(error.span, error.message))
        else:
            self.env.records.message("error", error.message, self.source.name)
