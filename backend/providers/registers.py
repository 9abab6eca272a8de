"""Kernel and user function probes (`probe:func`, `probe:/path:sym`) have no tracepoint
record: their programs get the probed task's registers (`struct pt_regs`). Each such
probe is one program with an `EventGroup` of its own whose "fields" are registers, so
`argN` and the `/filter/` read them exactly like tracepoint fields (see `register_group`).
Shared by the kprobe and uprobe providers, which one probe may mix.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from backend.events import (
    MAX_ARG,
    EventGroup,
    MemoryFetch,
    ProbeEvents,
    ProviderError,
    agree_on_type,
    arg_indices,
    context_names,
    filter_fields,
    kernel_reach,
    record_compares,
)
from backend.tracefs import Field
from frontend.diagnostics import Span
from frontend.eventdef import FetchArg, FilterCompare, KprobeSpec, UprobeSpec
from frontend.types import INT, NIL, STR, Type
from ir import ops
from ir.printer import probe_location

FunctionSpec = KprobeSpec | UprobeSpec


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
# `+OFFS(FETCH)`, `-OFFS(FETCH)`, `+uOFFS(FETCH)` (user memory in a kprobe).
_MEMORY = re.compile(r"(?P<sign>[+-])(?P<user>u?)(?P<offset>0x[0-9a-fA-F]+|[0-9]+)"
                     r"\((?P<inner>.*)\)")
_REGISTER = re.compile(r"%[a-z0-9_]+|\$retval")
MAX_DEREFS = 8
STRING_TYPES = ("string", "ustring")


def _register(name: str, reg: str, span: Span, size: int = 8,
              signed: bool = False) -> Field:
    if reg not in PT_REGS_X86_64:
        raise ProviderError(span, f"unknown register '%{reg}': x86-64 registers are "
                                  + " ".join(f"%{r}" for r in PT_REGS_X86_64))
    return Field(name, f"{'s' if signed else 'u'}{size * 8}", PT_REGS_X86_64[reg], size,
                 signed, None, False, False)


def _memory_fetch(arg: FetchArg, name: str, uprobe: bool) -> Field | MemoryFetch:
    """A fetch arg that reads memory (`+8(%di):u32`, `+0(+16(%si)):string`) or a string
    at a register's address (`%di:string`)."""
    where, colon, type_ = arg.fetch.rpartition(":")
    if not colon or ")" in type_:
        where, type_ = arg.fetch, "u64"
    string = type_ in STRING_TYPES
    if not string and type_ not in FETCH_TYPES:
        raise ProviderError(arg.span, f"fetch type ':{type_}' is not supported yet: use "
                                      "u8..u64, s8..s64, x8..x64, string or ustring")
    offsets: list[int] = []
    user = uprobe or type_ == "ustring"
    while (m := _MEMORY.fullmatch(where)) is not None:
        offset = int(m["offset"], 0)
        offsets.append(-offset if m["sign"] == "-" else offset)
        user = user or bool(m["user"])
        where = m["inner"]
        if len(offsets) > MAX_DEREFS:
            raise ProviderError(arg.span, f"fetch argument '{arg.fetch}' dereferences more "
                                          f"than {MAX_DEREFS} times")
    if _REGISTER.fullmatch(where) is None or (not offsets and not string):
        raise ProviderError(arg.span, f"fetch argument '{arg.fetch}' is not supported yet: "
                                      "use a register (%di) or $retval, memory at an offset "
                                      "from one (+8(%di), nested), with an optional type "
                                      "such as :s32 or :string")
    reg = "ax" if where == "$retval" else where[1:]
    size, signed = (8, False) if string else FETCH_TYPES[type_]
    return MemoryFetch(_register(name, reg, arg.span), tuple(reversed(offsets)), size,
                       signed, string, user)


def _fetch_field(arg: FetchArg, position: int, uprobe: bool) -> Field | MemoryFetch:
    """The register a fetch arg names, e.g. `size=%di`, `r=$retval:s32`, or the memory
    it reads (`_memory_fetch`). `@addr` and `$stack` are not compiled yet: saying so
    beats reading something else."""
    name = arg.name or f"arg{position}"  # the kernel's name for an unnamed fetch arg
    m = _FETCH.fullmatch(arg.fetch)
    if m is None or m["type"] in STRING_TYPES:
        return _memory_fetch(arg, name, uprobe)
    size, signed = 8, False
    if m["type"] is not None:
        if m["type"] not in FETCH_TYPES:
            raise ProviderError(arg.span, f"fetch type ':{m['type']}' is not supported yet: "
                                          "use u8..u64, s8..s64, x8..x64, string or "
                                          "ustring")
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
    if os.uname().machine != "x86_64":
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
    fetches: dict[int, MemoryFetch] = {}
    for position, arg in enumerate(spec.fetchargs, 1):
        fetched = _fetch_field(arg, position, isinstance(spec, UprobeSpec))
        index = first + position - 1
        if isinstance(fetched, MemoryFetch):
            fetches[index] = fetched
            fetched = fetched.register
            if any(c.field == fetched.name for c in compares):
                compare = next(c for c in compares if c.field == fetched.name)
                raise ProviderError(compare.span, f"'{fetched.name}' reads memory: filters "
                                                  "can only test registers yet")
        fields[fetched.name] = by_index[index] = fetched
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
    return EventGroup([], args, used,
                      fetches={i: f for i, f in fetches.items() if i in args})


def expand(module: ops.Module, decl: ops.ProbeDecl,
           targets: Callable[[FunctionSpec], list[tuple[FunctionSpec, str]]]) -> ProbeEvents:
    """A probe on kernel and user functions: one program per spec, each with the
    registers its argN and filter read; `targets` gives the specs a spec stands for (a
    uprobe symbol glob: one per matched symbol) with their attach targets, and refuses
    what its provider cannot attach."""
    eventdef = decl.eventdef
    assert eventdef is not None
    result = ProbeEvents(decl)
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
    concrete = []
    for written in eventdef.specs:
        assert isinstance(written, KprobeSpec | UprobeSpec)
        concrete += targets(written)
    for spec, target in concrete:
        result.others.append((spec, target))
        group = register_group(spec, indices, compares)
        result.other_groups.append(group)
        where = probe_location(spec)
        for index in indices:
            fetch = group.fetches.get(index)
            t = NIL if group.args[index] is None else STR if fetch and fetch.string else INT
            agree_on_type(first_type, index, t, where, eventdef.span)
    result.arg_types = {i: t for i, (t, _) in first_type.items()}
    return result
