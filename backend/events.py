"""What the providers (backend/providers) share: the events a probe expands to
(`ProbeEvents`: its groups of events of the same layout, each served by one program, and
its argN types), which event variables a probe body reads, and its filter's fields.

A probe compiles to one BPF program per group of events whose fields the program reads
at the same offsets with the same types; every event of a group is attached to the
group's program, with its index in the probe-name table as the attach cookie.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backend.tracefs import EventFormat, Field
from frontend.diagnostics import CompileError, Diagnostic, Source, Span
from frontend.eventdef import (
    Filter,
    FilterAnd,
    FilterCompare,
    FilterOr,
    KprobeSpec,
    UprobeSpec,
)
from frontend.types import INT, NIL, STR, FuncT, Type, strip_opt
from ir import ops

MAX_ARG = 9  # arg0..arg8; ktap's arg9 read past its descriptor array


class ProviderError(Exception):
    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message

    def compile_error(self, source: Source) -> CompileError:
        return CompileError.of(source, [Diagnostic(self.span, self.message)])


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


def ktap_type(f: Field) -> Type | None:
    """The type `argN` gives for field `f`: a string for a char array or a `__data_loc`
    string, a number for an integer of 1 to 8 bytes; None for what kllvm cannot read yet."""
    if f.is_char_array or f.is_data_loc_string:
        return STR
    if not f.is_array and not f.data_loc and f.size in (1, 2, 4, 8):
        return INT
    return None


def field_type(f: Field | None, span: Span, where: str) -> Type:
    if f is None:
        return NIL
    t = ktap_type(f)
    if t is None:
        raise ProviderError(span, f"field '{f.name}' ({f.type}) of {where}: "
                                  "the field type is not supported yet")
    return t


def field_key(f: Field | None) -> tuple[object, ...] | None:
    return None if f is None else (f.offset, f.size, f.signed, f.is_char_array,
                                   f.is_data_loc_string)


@dataclass(frozen=True)
class MemoryFetch:
    """A kprobe/uprobe fetch arg that reads memory, e.g. `+8(%di):u32`, `+0(%si):string`:
    from the address in `register`, for each of `offsets` (innermost first) add it, and
    read a u64 there to go on with, except at the last: read `size` bytes (a number)
    or the string there. With no offsets, a string is read at the register's value."""

    register: Field
    offsets: tuple[int, ...]
    size: int
    signed: bool
    string: bool
    user: bool  # user memory (uprobes; `+u0(...)` and `:ustring` in kprobes)


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
    # The argN that read memory (kprobes and uprobes); their `args` entry is the register.
    fetches: dict[int, MemoryFetch] = field(default_factory=dict)


@dataclass
class ProbeEvents:
    """What one `trace` or `profile` probe attaches to: its event groups and argN types."""

    decl: ops.ProbeDecl
    groups: list[EventGroup] = field(default_factory=list)
    arg_types: dict[int, Type] = field(default_factory=dict)
    # kprobe/uprobe specs and their attach targets, one program each
    others: list[tuple[KprobeSpec | UprobeSpec, str]] = field(default_factory=list)
    # The registers each of `others` reads for argN and the filter, in the same order.
    other_groups: list[EventGroup] = field(default_factory=list)


# An event, with the fields its argN and filter read.
Described = tuple[tuple[str, str], dict[int, Field | None], dict[str, Field]]


def _a(t: Type) -> str:
    return {"int": "a number", "str": "a string", "nil": "missing (nil)"}.get(str(t), str(t))


def agree_on_type(first_type: dict[int, tuple[Type, str]], index: int, t: Type, where: str,
                  span: Span) -> None:
    """Records argN's type in `where`, the first event that has it; every event of a probe
    must agree on it."""
    seen = first_type.setdefault(index, (t, where))
    if seen[0] != t:
        raise ProviderError(span, (
            f"arg{index} is {_a(seen[0])} in {seen[1]} but {_a(t)} in {where}; "
            "every event of a probe must agree on its type"))


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
