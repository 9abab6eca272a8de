"""The profile provider (`profile-N`): one program on a CPU-clock perf event per CPU,
firing every N; its events have no record and one probename, "profile"."""

from __future__ import annotations

import ctypes as ct
import os

from backend.events import ProbeEvents
from backend.manifest import AttachKind, AttachPoint
from backend.providers import bcclib
from backend.providers.base import (
    Attachable,
    Detach,
    Emitter,
    NameIndex,
    NameTable,
    ProgramSpec,
    single_name,
)
from backend.providers.catalog import TracepointCatalog
from ir import ops

PERF_TYPE_SOFTWARE = 1
PERF_COUNT_SW_CPU_CLOCK = 0
INT64_MAX = (1 << 63) - 1


class PerfEvents:
    """The perf events of one profile program, one per CPU, closed together."""

    slow_to_detach = False

    def __init__(self) -> None:
        self.fds: list[int] = []

    def destroy(self) -> None:
        if self.fds:
            lib = bcclib.libbcc().lib  # loaded: it attached them
            for fd in self.fds:
                lib.bpf_close_perf_event_fd(fd)
            self.fds.clear()


class Profile:
    attach_kinds: tuple[AttachKind, ...] = (AttachKind.PERF,)

    def expand(self, module: ops.Module, decl: ops.ProbeDecl,
               catalog: TracepointCatalog) -> ProbeEvents:
        del module, catalog  # a timer: nothing to look up, no argN
        return ProbeEvents(decl)

    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        if probe.decl.kind is not ops.ProbeKind.PROFILE:
            return []
        cookie = names.index("profile")
        return [ProgramSpec(f"profile{probe.decl.id}", "perf_event", probe, None,
                            [AttachPoint(AttachKind.PERF, str(probe.decl.interval_ns),
                                         cookie)], cookie, self)]

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        return single_name(spec)

    def sections(self, kind: AttachKind) -> tuple[str, ...]:
        return ("perf_event",)

    def target_problem(self, point: AttachPoint) -> str | None:
        target = point.target
        if target.isascii() and target.isdigit() and 0 < int(target) <= INT64_MAX:
            return None
        return f"bad period {target[:30]!r}"

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        attach = bcclib.libbcc().lib.bpf_attach_perf_event
        attach.argtypes = [ct.c_int, ct.c_uint32, ct.c_uint32, ct.c_uint64, ct.c_uint64,
                           ct.c_int, ct.c_int, ct.c_int]
        attach.restype = ct.c_int
        events = PerfEvents()
        links.append(events)
        for cpu in range(os.cpu_count() or 1):
            fd = attach(program.fd, PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK,
                        int(point.target), 0, -1, cpu, -1)
            if fd < 0:
                raise OSError(-fd, f"perf event on cpu {cpu}")
            events.fds.append(fd)


PROFILE = Profile()
