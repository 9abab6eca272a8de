"""The raw_syscalls provider: wide syscall probes served from one tracepoint.

Attaching to hundreds of `syscalls:sys_enter_X` tracepoints is quick, but detaching costs
an RCU grace period each (~13 s for `sys_enter_*`). The matched `sys_enter_X` (or
`sys_exit_X`) events of a probe therefore become one group served from the single
tracepoint `raw_syscalls:sys_enter` (`sys_exit`), whose program looks the syscall number
up in a table of the matched syscalls (see `EventGroup.syscalls`). The per-syscall
records and the raw ones share their offsets (`__syscall_nr`/`id` at 8, the arguments or
`ret` from 16), so argN and filter fields read the same bytes either way.

The tracepoint provider's expansion hands its matched events to `serve`; the programs
attach as tracepoints (AttachKind.TRACEPOINT), so attaching is the tracepoint provider's.
"""

from __future__ import annotations

from backend.events import Described, EventGroup, ProbeEvents
from backend.manifest import AttachKind, AttachPoint
from backend.providers.base import Emitter, NameIndex, NameTable, ProgramSpec
from backend.providers.catalog import TracepointCatalog
from backend.tracefs import Field

# The raw records' layout that per-syscall fields are read from (x86-64):
# sys_enter: long id @8, unsigned long args[6] @16; sys_exit: long id @8, long ret @16.
RAW_RECORD_END = {"sys_enter": 64, "sys_exit": 24}
SYSCALL_NR_OFFSET = 8  # `long id` in both raw records


def _raw_key(f: Field | None, raw: str) -> tuple[object, ...] | None:
    """What a read of `f` from a raw_syscalls record depends on; "bad" when the raw
    record does not hold the field at the same place. Signedness does not matter for
    8-byte fields, which are read whole."""
    if f is None:
        return None
    inside = f.offset + f.size <= RAW_RECORD_END[raw] and (
        (f.offset == 8 and f.name == "__syscall_nr") or
        (f.offset >= 16 and f.size == 8))
    if not inside or f.is_array or f.data_loc:
        return ("bad",)
    return (f.offset, f.size, f.signed if f.size < 8 else None)


def serve(described: list[Described], catalog: TracepointCatalog
          ) -> tuple[list[EventGroup], list[Described]]:
    """Serves a probe's many `syscalls:sys_enter_X` (or `sys_exit_X`) events from one
    raw_syscalls program when every field it reads is in the same place in all of them;
    returns those groups and the events left to attach one by one."""
    numbers = catalog.syscall_numbers
    made: list[EventGroup] = []
    for raw in ("sys_enter", "sys_exit"):
        if not catalog.has("raw_syscalls", raw):
            continue
        prefix = raw + "_"
        mine = [d for d in described if d[0][0] == "syscalls" and
                d[0][1].startswith(prefix) and d[0][1][len(prefix):] in numbers]
        if len(mine) < catalog.raw_syscalls_min:
            continue
        keys = set()
        for _, args, fields in mine:
            keys.add(tuple((i, _raw_key(f, raw)) for i, f in args.items()) +
                     tuple((n, _raw_key(f, raw)) for n, f in fields.items()))
        if len(keys) != 1 or any(k == ("bad",) for _, k in next(iter(keys))):
            continue  # the filter or argN differ between syscalls: attach one by one
        (_, args, fields) = mine[0]
        group = EventGroup([event for event, _, _ in mine], args, fields, raw)
        for system, event in group.events:
            for nr in numbers[event[len(prefix):]]:
                group.syscalls[nr] = (system, event)
        made.append(group)
        taken = {id(d) for d in mine}
        described = [d for d in described if id(d) not in taken]
    return made, described


class RawSyscalls:
    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        specs = []
        for index, group in enumerate(probe.groups):
            if group.raw is None:
                continue  # the tracepoint provider's
            # One program on raw_syscalls for many syscalls: the probename index
            # of each matched syscall number, by a table in the program.
            indices = {e: names.index(e) for _, e in group.events}
            table = {nr: indices[e] for nr, (_, e) in group.syscalls.items()}
            specs.append(ProgramSpec(
                f"p{probe.decl.id}_{index}", f"tracepoint/raw_syscalls/{group.raw}", probe,
                group, [AttachPoint(AttachKind.TRACEPOINT, f"raw_syscalls:{group.raw}", 0)],
                None, self, table))
        return specs

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        """Returns unless the record's syscall number is one the probe matched; its
        probename index is then the table's entry for it."""
        assert spec.syscalls is not None
        matched = emit.ctx_table_index(SYSCALL_NR_OFFSET, spec.syscalls)
        return lambda: matched


RAW_SYSCALLS = RawSyscalls()
