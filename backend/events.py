"""The tracepoint provider: which events a probe's eventdef names, what `argN` and filter
fields are in them, and how the events group into programs of the same layout.

A probe compiles to one BPF program per group of events whose fields the program reads
at the same offsets with the same types (`syscalls:*` is a handful of programs, not
hundreds); every event of a group is attached to the group's program, with its index in
the probe-name table as the attach cookie.

Wide syscall probes are the exception: attaching to hundreds of `syscalls:sys_enter_X`
tracepoints is quick, but detaching costs an RCU grace period each (~13 s for
`sys_enter_*`). The matched `sys_enter_X` (or `sys_exit_X`) events of a probe therefore
become one group served from the single tracepoint `raw_syscalls:sys_enter` (`sys_exit`),
whose program looks the syscall number up in a table of the matched syscalls (see
`EventGroup.syscalls`). The per-syscall records and the raw ones share their offsets
(`__syscall_nr`/`id` at 8, the arguments or `ret` from 16), so argN and filter fields
read the same bytes either way.

A probe body that reads nothing of the tracepoint record (no argN, no argstr, no
`/filter/` on fields other than `common_pid`, which is the current thread's id) needs
only the tracepoint to fire: its kernel events are served from raw tracepoints of the
same names (`EventGroup.raw_tracepoints`), with the cookie naming the event. Besides
skipping the record, which the kernel otherwise builds for every hit, a raw tracepoint
detaches without a grace period: `trace *:* { ... }` stops in well under a second instead
of ~90 s. Events made at run time (kprobe, uprobe and synthetic events in tracefs) have
no raw tracepoint and stay perf-event tracepoints.

Kernel and user function probes (`probe:func`, `probe:/path:sym`) have no tracepoint
record: their programs get the probed task's registers (`struct pt_regs`). Each such
probe is one program with an `EventGroup` of its own whose "fields" are registers, so
`argN` and the `/filter/` read them exactly like tracepoint fields (see `register_group`).
"""

from __future__ import annotations

import platform
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backend import syscalls, tracefs
from backend.tracefs import EventFormat, Field
from frontend.diagnostics import CompileError, Diagnostic, Source, Span, render
from frontend.eventdef import (
    EventDef,
    FetchArg,
    Filter,
    FilterAnd,
    FilterCompare,
    FilterOr,
    KprobeSpec,
    TracepointSpec,
    UprobeSpec,
)
from frontend.types import INT, NIL, STR, FuncT, Type, strip_opt
from ir import ops
from ir.printer import probe_location

MAX_ARG = 9  # arg0..arg8; ktap's arg9 read past its descriptor array
# A probe matching at least this many syscall tracepoints of one kind is served from
# raw_syscalls (see the module docstring). Below it, per-syscall tracepoints are cheaper:
# a raw_syscalls program runs on every system call of the machine.
RAW_SYSCALLS_MIN = 8
# The raw records' layout that per-syscall fields are read from (x86-64):
# sys_enter: long id @8, unsigned long args[6] @16; sys_exit: long id @8, long ret @16.
RAW_RECORD_END = {"sys_enter": 64, "sys_exit": 24}


class ProviderError(Exception):
    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message

    def compile_error(self, source: Source) -> CompileError:
        return CompileError(render(source, Diagnostic(self.span, self.message)))


def kernel_reach(module: ops.Module, root: str) -> list[str]:
    """`root` and every function it calls statically, in a stable order."""
    seen: list[str] = []
    work = [root]
    while work:
        name = work.pop(0)
        if name in seen or name not in module.functions:
            continue
        seen.append(name)
        for block in module.functions[name].blocks:
            for op in block.ops:
                if isinstance(op, ops.Call):
                    callee = strip_opt(op.callee.type)
                    if isinstance(callee, FuncT):
                        work.append(callee.function)
    return seen


def context_names(module: ops.Module, functions: Iterable[str]) -> set[str]:
    return {op.name for name in functions for block in module.functions[name].blocks
            for op in block.ops if isinstance(op, ops.Context)}


def arg_indices(names: Iterable[str]) -> list[int]:
    return sorted(int(n[3:]) for n in names if n.startswith("arg") and n[3:].isdigit())


def filter_fields(node: Filter | None) -> list[FilterCompare]:
    match node:
        case None:
            return []
        case FilterCompare():
            return [node]
        case FilterAnd(left=a, right=b) | FilterOr(left=a, right=b):
            return filter_fields(a) + filter_fields(b)
    raise TypeError(node)


# The filter field every event has that a program can read: the thread id of the task
# that emitted the event (`current`), as the kernel stores it in the record's header. The
# header itself is unreadable: before a tracepoint program runs, the kernel overwrites its
# first 8 bytes (common_type, common_flags, common_preempt_count, common_pid) with a
# `struct pt_regs *` (perf_trace_run_bpf_submit), and raw tracepoints have no record.
COMMON_PID = "common_pid"


def record_compares(compares: list[FilterCompare]) -> list[FilterCompare]:
    """The comparisons that read the record; `common_pid` is read from the current task,
    and the other `common_*` header fields are refused (see `COMMON_PID`)."""
    for compare in compares:
        if compare.field == COMMON_PID and isinstance(compare.value, str):
            raise ProviderError(compare.span, "common_pid is a number (the thread id): "
                                              "compare it with a number")
        if compare.field.startswith("common_") and compare.field != COMMON_PID:
            raise ProviderError(compare.span, (
                f"'{compare.field}' cannot be read by a BPF program: the kernel overwrites "
                "the record's common header before the program runs; of the common fields "
                "only common_pid (the thread id) can be filtered on"))
    return [c for c in compares if not c.field.startswith("common_")]


def arg_field(fmt: EventFormat, index: int) -> Field | None:
    fields = fmt.event_fields
    return fields[index] if index < len(fields) else None


def field_type(f: Field | None, span: Span, where: str) -> Type:
    if f is None:
        return NIL
    if f.is_char_array:
        return STR
    if not f.is_array and not f.data_loc and f.size in (1, 2, 4, 8):
        return INT
    raise ProviderError(span, f"field '{f.name}' ({f.type}) of {where}: "
                              "the field type is not supported yet")


def field_key(f: Field | None) -> tuple[object, ...] | None:
    return None if f is None else (f.offset, f.size, f.signed, f.is_char_array)


@dataclass
class EventGroup:
    """Events served by one program: the same offsets and types for what it reads."""

    events: list[tuple[str, str]]
    args: dict[int, Field | None]
    filter_fields: dict[str, Field]
    # A raw_syscalls group: "sys_enter" or "sys_exit", and the syscall number of each of
    # its `events` (numbers absent from it are other syscalls, which the program skips).
    raw: str | None = None
    syscalls: dict[int, tuple[str, str]] = field(default_factory=dict)
    # The events are attached as raw tracepoints: the program reads no record.
    raw_tracepoints: bool = False


@dataclass
class ProbeEvents:
    """What one `trace` or `profile` probe attaches to: its event groups and argN types."""

    decl: ops.ProbeDecl
    kind: str  # "tracepoint", "probe" (kprobes and uprobes, in `others`) or "perf"
    groups: list[EventGroup] = field(default_factory=list)
    arg_types: dict[int, Type] = field(default_factory=dict)
    # kprobe/uprobe specs: (section suffix, attach target), one program each
    others: list[tuple[KprobeSpec | UprobeSpec, str]] = field(default_factory=list)
    # The registers each of `others` reads for argN and the filter, in the same order.
    other_groups: list[EventGroup] = field(default_factory=list)


class TracepointCatalog:
    """Reads tracefs lazily and once: the event list and each needed format."""

    def __init__(self, host: tracefs.Host | None = None) -> None:
        self._host = host or tracefs.TracefsHost()
        self._events: list[tuple[str, str]] | None = None
        self._set: set[tuple[str, str]] | None = None
        self._formats: dict[tuple[str, str], EventFormat] = {}
        self._dynamic: set[tuple[str, str]] | None = None
        self.raw_syscalls_min = RAW_SYSCALLS_MIN
        self.syscall_numbers = syscalls.syscall_numbers()

    def expand(self, spec: TracepointSpec) -> list[tuple[str, str]]:
        if self._events is None:
            try:
                self._events = tracefs.available_events(self._host)
            except (OSError, tracefs.TracefsError) as e:
                raise ProviderError(spec.span, (
                    f"cannot read the list of tracepoints ({e}); tracing needs root "
                    "privileges: run kllvm as root")) from None
        exact = (spec.system_glob, spec.event_glob)
        if not any(c in "".join(exact) for c in "*?[\\"):  # no glob: skip the scan
            return [exact] if exact in self._event_set() else []
        return sorted((s, e) for s, e in self._events
                      if tracefs.strglobmatch(s, spec.system_glob)
                      and tracefs.strglobmatch(e, spec.event_glob))

    def _event_set(self) -> set[tuple[str, str]]:
        if self._set is None:
            self._set = set(self._events or ())
        return self._set

    def has(self, system: str, event: str) -> bool:
        return self._events is not None and (system, event) in self._events

    def is_dynamic(self, system: str, event: str) -> bool:
        if self._dynamic is None:
            self._dynamic = self._host.dynamic_events()
        return (system, event) in self._dynamic

    def format(self, system: str, event: str) -> EventFormat:
        key = (system, event)
        if key not in self._formats:
            self._formats[key] = tracefs.event_format(system, event, self._host)
        return self._formats[key]


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


# An event, with the fields its argN and filter read.
Described = tuple[tuple[str, str], dict[int, Field | None], dict[str, Field]]


def probe_events(module: ops.Module, decl: ops.ProbeDecl,
                 catalog: TracepointCatalog) -> ProbeEvents:
    """Expands one probe's eventdef and groups its events by layout."""
    if decl.kind == "profile":
        return ProbeEvents(decl, "perf")
    eventdef = decl.eventdef
    assert eventdef is not None
    if all(isinstance(s, KprobeSpec | UprobeSpec) for s in eventdef.specs):
        result = ProbeEvents(decl, "probe")
        names = context_names(module, kernel_reach(module, decl.function))
        if "argstr" in names:
            # These programs have a (register) group, so lowering's "no group, no
            # record" check would not catch it: say it here.
            raise ProviderError(eventdef.span, "argstr is only available in tracepoint "
                                               "probes: this event has no tracepoint record "
                                               "to print")
        indices = [i for i in arg_indices(names) if i < MAX_ARG]
        compares = record_compares(filter_fields(eventdef.filter))
        first_type: dict[int, tuple[Type, str]] = {}
        for spec in eventdef.specs:
            assert isinstance(spec, KprobeSpec | UprobeSpec)
            target = spec.symbol_glob if isinstance(spec, KprobeSpec) else spec.path
            if isinstance(spec, UprobeSpec) and isinstance(spec.symbol_or_offset, str) \
                    and any(c in spec.symbol_or_offset for c in "*?["):
                # Attaching resolves one symbol; without this the glob would be looked
                # up as a name and reported as missing.
                raise ProviderError(spec.span, "symbol globs in user-space probes are not "
                                               "supported yet: name one symbol")
            result.others.append((spec, target))
            group = register_group(spec, indices, compares)
            result.other_groups.append(group)
            where = probe_location(spec)
            for index in indices:
                t = INT if group.args[index] is not None else NIL
                seen = first_type.setdefault(index, (t, where))
                if seen[0] != t:
                    raise ProviderError(eventdef.span, (
                        f"arg{index} is {_a(seen[0])} in {seen[1]} but {_a(t)} in {where}; "
                        "every event of a probe must agree on its type"))
        result.arg_types = {i: t for i, (t, _) in first_type.items()}
        return result
    for spec in eventdef.specs:
        if not isinstance(spec, TracepointSpec):
            raise ProviderError(spec.span, "this kind of event cannot be mixed with "
                                           "tracepoints in one probe, or is not supported yet")
    events = _tracepoint_events(eventdef, catalog)
    names = context_names(module, kernel_reach(module, decl.function))
    indices = [i for i in arg_indices(names) if i < MAX_ARG]
    compares = record_compares(filter_fields(eventdef.filter))
    result = ProbeEvents(decl, "tracepoint")
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
                t = field_type(f, eventdef.span, where)
                seen = first_type.setdefault(index, (t, where))
                if seen[0] != t:
                    raise ProviderError(eventdef.span, (
                        f"arg{index} is {_a(seen[0])} in {seen[1]} but {_a(t)} in {where}; "
                        "every event of a probe must agree on its type"))
            for compare in compares:
                try:
                    fields[compare.field] = fmt.field(compare.field)
                except KeyError:
                    raise ProviderError(compare.span, (
                        f"unknown field '{compare.field}' in the filter: {where} has "
                        "no such field")) from None
        described.append(((system, event), args, fields))
    raw_groups, described = _raw_syscall_groups(described, catalog)
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


def _raw_syscall_groups(described: list[Described], catalog: TracepointCatalog
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


def _raw_tracepoint_group(described: list[Described], catalog: TracepointCatalog
                          ) -> tuple[list[EventGroup], list[Described]]:
    """For a probe that reads no record: its events that have a raw tracepoint of the
    same name (the kernel's own, not syscalls:*), and the rest."""
    def has_raw(system: str, event: str) -> bool:
        return system != "syscalls" and not catalog.is_dynamic(system, event)

    mine = [d[0] for d in described if has_raw(*d[0])]
    rest = [d for d in described if not has_raw(*d[0])]
    return ([EventGroup(mine, {}, {}, raw_tracepoints=True)] if mine else []), rest


# x86-64 `struct pt_regs`, the context of kprobe and uprobe programs: the byte offset of
# each register under the names of the kernel's fetch-arg syntax (`%di`, `%ax`, ...).
PT_REGS_X86_64 = {
    name: 8 * i for i, name in enumerate(
        "r15 r14 r13 r12 bp bx r11 r10 r9 r8 ax cx dx si di orig_ax ip cs flags sp ss".split())
}
# A fetch arg's `:TYPE` suffix → (bytes, signed). The low bytes of a register come first
# (little-endian), so a narrow type is a narrow read at the register's own offset.
FETCH_TYPES = {f"{k}{bits}": (bits // 8, k == "s")
               for k in "usx" for bits in (8, 16, 32, 64)}
_FETCH = re.compile(r"(?P<where>%[a-z0-9_]+|\$retval)(?::(?P<type>\w+))?")


def _register(name: str, reg: str, span: Span, size: int = 8,
              signed: bool = False) -> Field:
    if reg not in PT_REGS_X86_64:
        raise ProviderError(span, f"unknown register '%{reg}': x86-64 registers are "
                                  + " ".join(f"%{r}" for r in PT_REGS_X86_64))
    return Field(name, f"{'s' if signed else 'u'}{size * 8}", PT_REGS_X86_64[reg], size,
                 signed, None, False, False)


def _fetch_field(arg: FetchArg, position: int) -> Field:
    """The register a fetch arg names, e.g. `size=%di`, `r=$retval:s32`. Memory fetches
    (`+8(%di)`, `@addr`, `$stack`) and string types are not compiled yet: saying so beats
    reading something else."""
    name = arg.name or f"arg{position}"  # the kernel's name for an unnamed fetch arg
    m = _FETCH.fullmatch(arg.fetch)
    if m is None:
        raise ProviderError(arg.span, f"fetch argument '{arg.fetch}' is not supported yet: "
                                      "use a register (%di) or $retval, with an optional "
                                      "type such as :s32")
    size, signed = 8, False
    if m["type"] is not None:
        if m["type"] not in FETCH_TYPES:
            raise ProviderError(arg.span, f"fetch type ':{m['type']}' is not supported yet: "
                                          "use u8..u64, s8..s64 or x8..x64")
        size, signed = FETCH_TYPES[m["type"]]
    reg = "ax" if m["where"] == "$retval" else m["where"][1:]
    return _register(name, reg, arg.span, size, signed)


def register_group(spec: KprobeSpec | UprobeSpec, indices: list[int],
                   compares: list[FilterCompare]) -> EventGroup:
    """argN and filter fields of a kprobe/uprobe as registers, numbered like ktap's
    probe events (Part B §3.5): on entry arg0 is `__probe_ip`, arg1.. the fetch args; on
    return arg0 is `__probe_func`, arg1 `__probe_ret_ip`, arg2.. the fetch args."""
    if not indices and not compares:
        return EventGroup([], {}, {})  # reads no register
    if platform.machine() != "x86_64":
        raise ProviderError(spec.span, "reading registers in kprobes and uprobes is only "
                                       "implemented for x86-64")
    fields: dict[str, Field] = {}
    by_index: dict[int, Field | None] = {}
    if spec.is_return:
        fields["__probe_ret_ip"] = _register("__probe_ret_ip", "ip", spec.span)
        by_index[1] = fields["__probe_ret_ip"]
        first = 2
    else:
        fields["__probe_ip"] = _register("__probe_ip", "ip", spec.span)
        by_index[0] = fields["__probe_ip"]
        first = 1
    for position, arg in enumerate(spec.fetchargs, 1):
        f = _fetch_field(arg, position)
        fields[f.name] = by_index[first + position - 1] = f
    args: dict[int, Field | None] = {}
    for index in indices:
        if spec.is_return and index == 0:
            # The probed function's address is not in the registers at its return.
            raise ProviderError(spec.span, "arg0 (__probe_func) of a return probe is not "
                                           "available: use probename")
        args[index] = by_index.get(index)
    used: dict[str, Field] = {}
    for compare in compares:
        if compare.field not in fields:
            raise ProviderError(compare.span, (
                f"unknown field '{compare.field}' in the filter: {probe_location(spec)} has "
                f"only {', '.join(fields)}"))
        used[compare.field] = fields[compare.field]
    return EventGroup([], args, used)


def _a(t: Type) -> str:
    return {"int": "a number", "str": "a string", "nil": "missing (nil)"}.get(str(t), str(t))


def make_arg_types(module: ops.Module,
                   probes: dict[str, ProbeEvents]) -> Callable[[str, int], Type | None]:
    """The `ArgTypes` callback of `ir.infer`: a function's argN type from the events of
    every probe that reaches it (`probes` is keyed by probe function)."""
    reached: dict[str, list[ProbeEvents]] = {}
    for name, events in probes.items():
        for function in kernel_reach(module, name):
            reached.setdefault(function, []).append(events)

    def arg_types(function: str, index: int) -> Type | None:
        found = {p.arg_types.get(index) for p in reached.get(function, [])}
        found.discard(None)
        return found.pop() if len(found) == 1 else None

    return arg_types
