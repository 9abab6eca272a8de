"""The tracepoint provider (`system:event` globs), with raw tracepoints.

A probe compiles to one BPF program per group of events whose fields the program reads
at the same offsets with the same types (`syscalls:*` is a handful of programs, not
hundreds); every event of a group is attached to the group's program, with its index in
the probe-name table as the attach cookie. Many matched `syscalls:sys_enter_X` events are
served from raw_syscalls instead (backend.providers.raw_syscalls).

A probe body that reads nothing of the tracepoint record (no argN, no argstr, no
`/filter/` on fields other than `common_pid`, which is the current thread's id) needs
only the tracepoint to fire: its kernel events are served from raw tracepoints of the
same names (`EventGroup.raw_tracepoints`), with the cookie naming the event. Besides
skipping the record, which the kernel otherwise builds for every hit, a raw tracepoint
detaches without a grace period: `trace *:* { ... }` stops in well under a second instead
of ~90 s. Events made at run time (kprobe, uprobe and synthetic events in tracefs) have
no raw tracepoint and stay perf-event tracepoints.
"""

from __future__ import annotations

import re

from backend.events import (
    MAX_ARG,
    Described,
    EventGroup,
    ProbeEvents,
    ProviderError,
    agree_on_type,
    arg_field,
    arg_indices,
    context_names,
    field_key,
    field_type,
    filter_fields,
    kernel_reach,
    record_compares,
)
from backend.manifest import AttachKind, AttachPoint
from backend.providers import raw_syscalls
from backend.providers.base import (
    Attachable,
    Detach,
    Emitter,
    NameIndex,
    NameTable,
    ProgramSpec,
)
from backend.providers.catalog import TracepointCatalog
from backend.tracefs import Field
from frontend.eventdef import EventDef, TracepointSpec
from frontend.types import Type
from ir import ops

EVENT_PART = re.compile(r"[A-Za-z0-9_.-]{1,128}")  # a system or event name in an artifact


def _tracepoint_events(eventdef: EventDef, catalog: TracepointCatalog) -> list[tuple[str, str]]:
    events: list[tuple[str, str]] = []
    for spec in eventdef.specs:
        assert isinstance(spec, TracepointSpec)
        matched = catalog.expand(spec)
        if not matched:
            pattern = f"{spec.system_glob}:{spec.event_glob}"
            raise ProviderError(spec.span, f"no tracepoint matches '{pattern}'")
        events += [e for e in matched if e not in events]
    return events


def _raw_tracepoint_group(described: list[Described], catalog: TracepointCatalog
                          ) -> tuple[list[EventGroup], list[Described]]:
    """For a probe that reads no record: its events that have a raw tracepoint of the
    same name (the kernel's own, not syscalls:*), and the rest."""
    def has_raw(system: str, event: str) -> bool:
        return system != "syscalls" and not catalog.is_dynamic(system, event)

    mine = [d[0] for d in described if has_raw(*d[0])]
    rest = [d for d in described if not has_raw(*d[0])]
    return ([EventGroup(mine, {}, {}, raw_tracepoints=True)] if mine else []), rest


class Tracepoints:
    attach_kinds: tuple[AttachKind, ...] = (AttachKind.TRACEPOINT, AttachKind.RAW_TRACEPOINT)

    def expand(self, module: ops.Module, decl: ops.ProbeDecl,
               catalog: TracepointCatalog) -> ProbeEvents:
        """Expands the probe's tracepoint globs and groups its events by layout."""
        eventdef = decl.eventdef
        assert eventdef is not None
        events = _tracepoint_events(eventdef, catalog)
        names = context_names(module, kernel_reach(module, decl.function))
        indices = [i for i in arg_indices(names) if i < MAX_ARG]
        compares = record_compares(filter_fields(eventdef.filter))
        result = ProbeEvents(decl)
        needs_format = bool(indices or compares)
        described: list[Described] = []
        first_type: dict[int, tuple[Type, str]] = {}
        for system, event in events:
            where = f"{system}:{event}"
            args: dict[int, Field | None] = {}
            fields: dict[str, Field] = {}
            if needs_format:
                fmt = catalog.format(system, event)
                for index in indices:
                    f = args[index] = arg_field(fmt, index)
                    agree_on_type(first_type, index, field_type(f, eventdef.span, where),
                                  where, eventdef.span)
                for compare in compares:
                    try:
                        fields[compare.field] = fmt.field(compare.field)
                    except KeyError:
                        raise ProviderError(compare.span, (
                            f"unknown field '{compare.field}' in the filter: {where} has "
                            "no such field")) from None
            described.append(((system, event), args, fields))
        raw_groups, described = raw_syscalls.serve(described, catalog)
        if not needs_format and "argstr" not in names:
            raw_tracepoints, described = _raw_tracepoint_group(described, catalog)
            raw_groups += raw_tracepoints
        groups: dict[object, EventGroup] = {}
        for event_name, args, fields in described:
            key = (tuple((i, field_key(args[i])) for i in indices),
                   tuple((n, field_key(f)) for n, f in fields.items()))
            group = groups.get(key)
            if group is None:
                group = groups[key] = EventGroup([], args, fields)
            group.events.append(event_name)
        result.groups = raw_groups + list(groups.values())
        result.arg_types = {i: t for i, (t, _) in first_type.items()}
        return result

    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        specs = []
        for index, group in enumerate(probe.groups):
            if group.raw is not None:
                continue  # raw_syscalls' own
            system, event = group.events[0]
            kind = AttachKind.RAW_TRACEPOINT if group.raw_tracepoints else AttachKind.TRACEPOINT
            attach = [AttachPoint(kind, f"{s}:{e}", names.index(e)) for s, e in group.events]
            single = attach[0].cookie if len({a.cookie for a in attach}) == 1 else None
            section = (f"raw_tracepoint/{event}" if group.raw_tracepoints
                       else f"tracepoint/{system}/{event}")
            specs.append(ProgramSpec(f"p{probe.decl.id}_{index}", section, probe, group,
                                     attach, single, self))
        return specs

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        # Each event's cookie is its probename index.
        return spec.name_index if spec.name_index is not None else emit.attach_cookie

    def sections(self, kind: AttachKind) -> tuple[str, ...]:
        return ("raw_tracepoint/",) if kind is AttachKind.RAW_TRACEPOINT else ("tracepoint/",)

    def target_problem(self, point: AttachPoint) -> str | None:
        parts = point.target.split(":")
        if len(parts) == 2 and all(EVENT_PART.fullmatch(p) for p in parts):
            return None
        return f"bad event {point.target[:60]!r}"

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        system, event = point.target.split(":", 1)
        if point.kind is AttachKind.RAW_TRACEPOINT:
            links.append(program.attach_raw_tracepoint_cookie(event, point.cookie))
        else:
            links.append(program.attach_tracepoint_cookie(system, event, point.cookie))


TRACEPOINT = Tracepoints()
