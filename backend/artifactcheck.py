"""What `kllvm run ARTIFACT` checks before anything of an artifact is used.

An artifact is untrusted input: its digest only shows that it is whole. These checks make
a crafted one a clear error rather than a crash of the runtime (or of libbpf) later:

* the IR passes the IR verifier, and every span lies within the script or the tapset
  it names;
* every manifest field is in range and refers to something real: table and error sites,
  probes, layouts kllvm can decode, attach targets the runtime can parse, names that are
  plain identifiers (libbpf would otherwise also find its internal `.bss` map by name);
* the object, opened by libbpf but not loaded, agrees with the manifest: the same
  programs in the sections their attach kinds need, every map the manifest names with
  the type and sizes its layouts imply (counter slots: a one-CPU mmapable array of
  slots), and the `.bss` variables the runtime reads and writes, inside the section.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import traceback
from collections.abc import Iterable

from backend import argstr
from backend import layout as lay
from backend import manifest as mf
from backend.bpfabi import BPF_F_MMAPABLE
from backend.loader import BPFObject, LoadError, Map
from backend.providers.registry import ATTACHERS
from backend.slots import SLOT, SLOTS_PER_CPU
from backend.tracefs import Field
from frontend.diagnostics import Source, Span
from ir import ops
from ir.verify import verify_module

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Function names, block labels and register names, as the lowering makes them.
IR_NAME = re.compile(r"[A-Za-z0-9_.@$:-]{1,1024}")
MAX_ITEMS = 1 << 16  # tables, programs, attach points, print sites, ...
MAX_CAPACITY = 1 << 24
MAX_OBJECT = 64 << 20
INT64_MAX = (1 << 63) - 1
CHILD_REFUSED, CHILD_FAILED = 1, 2  # exit statuses of the checking child
MAX_REPORT = 8000
U64_MAX = (1 << 64) - 1

# Map types (linux/bpf.h).
HASH, ARRAY, PERCPU_HASH, STACK_TRACE, RINGBUF_TYPE = 1, 2, 5, 7, 27
STACK_FRAMES = 127  # a stack map's value: PERF_MAX_STACK_DEPTH u64 addresses

# `.bss` variables the runtime always reads or writes, and those it may.
BSS_REQUIRED = (mf.STOP, mf.FATAL, mf.TARGET_PID, mf.LOST)
BSS_OPTIONAL = (mf.REALTIME_OFFSET, mf.SELF_PID, mf.ZERO)


class CheckError(Exception):
    """What is wrong with the artifact, for `damaged artifact: ...`."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckError(message)


def _identifier(name: str, what: str) -> None:
    _require(IDENTIFIER.fullmatch(name) is not None, f"{what} {name[:40]!r} is not a name")


def _count(items: Iterable[object], what: str) -> None:
    _require(len(list(items)) <= MAX_ITEMS, f"too many {what}")


# ------------------------------------------------------------------ the IR


def check_module(module: ops.Module, instances: list[object], source: Source) -> None:
    problems = verify_module(module)
    _require(not problems, f"its IR is not sound: {problems[0] if problems else ''}")
    # Diagnostics draw carets as wide as a span: keep them within the file it names (the
    # script, or a tapset whose text the artifact holds).
    bounds = {"": len(source.text) + 2}
    bounds.update((path, len(text) + 2) for path, text in source.tapsets)
    for instance in instances:
        name = (instance.name if isinstance(instance, ops.Function | ops.Register)
                else instance.label if isinstance(instance, ops.BasicBlock) else None)
        _require(name is None or IR_NAME.fullmatch(name) is not None,
                 f"{type(instance).__name__} name {(name or '')[:40]!r} is not a name")
        if isinstance(instance, Span):
            bound = bounds.get(instance.file)
            _require(bound is not None, f"a span names {instance.file[:60]!r}, whose text the "
                     "artifact does not hold")
            values = (instance.line, instance.col, instance.end_line, instance.end_col)
            _require(all(0 <= v <= (bound or 0) for v in values),
                     f"span {values} is outside its file")


# ------------------------------------------------------------------ the manifest


def _layout(layout: str, strlen: int, *, record: bool) -> int:
    """The layout's size; `record` allows the print records' `argstr:<N>`."""
    if record and layout.startswith("argstr:"):
        _require(re.fullmatch(r"argstr:[0-9]{1,5}", layout) is not None
                 and int(layout[7:]) <= argstr.MAX_RECORD, f"bad layout {layout[:40]!r}")
    else:
        _require(lay.base(layout) in ("int", "bool", "str", "stack", "ustack", "ip")
                 or layout == "nil",
                 f"unknown layout {layout[:40]!r}")
    return lay.size_of(layout, strlen)


def check_manifest(manifest: mf.Manifest, module: ops.Module) -> None:
    _require(lay.MIN_STRLEN <= manifest.strlen <= lay.MAX_STRLEN and manifest.strlen % 8 == 0,
             f"string capacity {manifest.strlen} is out of range")
    for what in ("tables", "globals", "programs", "prints", "faults", "cuts", "names",
                 "events"):
        _count(getattr(manifest, what), what)
    _tables(manifest, module)
    _stacks(manifest)
    symbols: set[str] = set()
    # The runtime backs these cells of the main chunk with the kernel's globals.
    cells = {op.dest.name for block in module.functions[module.main].blocks
             for op in block.ops if isinstance(op, ops.MakeCell) and op.global_name is not None}
    decls = {decl.name: decl for decl in module.globals}
    for info in manifest.globals:
        _require(info.cell in cells, f"global cell {info.cell[:40]!r} is not in the IR")
        # Only the IR's kernel globals, each with the layout of its type: another cell
        # (a table's, say) would hand the runtime's global a value it cannot hold.
        _require(info.cell in decls, f"cell {info.cell[:40]!r} is not a kernel global")
        _require(info.layout == _global_layout(decls[info.cell]),
                 f"global {info.cell[:40]!r} has the wrong layout")
        _identifier(info.symbol, "global")
        _layout(info.layout, manifest.strlen, record=False)
        names = [info.symbol] if info.present is None else [info.symbol, info.present]
        if info.present is not None:
            _identifier(info.present, "global")
        for name in names:
            _require(name not in symbols, f"global {name} is listed twice")
            symbols.add(name)
    _programs(manifest, module)
    for site in manifest.prints:
        _require(site.kind in ("print", "printf"), f"unknown print kind {site.kind[:20]!r}")
        _require(0 <= site.site < len(module.errors), f"print site {site.site} does not exist")
        _require(all(ord(c) < 256 for c in site.format), "a printf format is not latin-1")
        _count(site.layouts, "printed values")
        for layout in site.layouts:
            _layout(layout, manifest.strlen, record=True)
    for fault in manifest.faults:
        _require(0 <= fault.site < len(module.errors), f"fault site {fault.site} does not exist")
    for cut in manifest.cuts:
        _require(0 <= cut.site < len(module.errors), f"cut site {cut.site} does not exist")
        _require(cut.what.isprintable() and len(cut.what) <= 80, "a cut site's text is bad")
    for name, data in manifest.events.items():
        _event(name, data)


def _tables(manifest: mf.Manifest, module: ops.Module) -> None:
    sites: set[int] = set()
    drops: set[int] = set()
    maps: set[str] = set()
    for table in manifest.tables:
        _require(0 <= table.site < len(module.tables) and table.site not in sites,
                 f"table site {table.site} does not exist or is listed twice")
        sites.add(table.site)
        _require(0 <= table.drop_index < len(manifest.tables) and table.drop_index not in drops,
                 f"drop counter {table.drop_index} is out of range or shared")
        drops.add(table.drop_index)
        _require(0 <= table.line <= INT64_MAX, "bad table line")
        _require(1 <= table.capacity <= MAX_CAPACITY, f"table capacity {table.capacity}")
        _layout(table.key, manifest.strlen, record=False)
        _layout(table.value, manifest.strlen, record=False)
        for name in [table.map] + ([] if table.slots is None else [table.slots]):
            _identifier(name, "map")
            _require(name not in maps, f"map {name} serves two tables")
            maps.add(name)
        _require(table.slots is None or (table.key == "int" and table.value == "int"),
                 "counter slots on a table that is not int to int")
        _require(not table.percpu or table.value == "int", "a per-CPU table of non-numbers")
    # The runtime gives each kernel table its map, and only those.
    kernel = {decl.site for decl in module.tables if decl.kernel}
    _require(sites == kernel, "its tables are not the IR's kernel tables")


def _stacks(manifest: mf.Manifest) -> None:
    kinds: set[bool] = set()
    for info in manifest.stacks:
        _require(info.user not in kinds, "two stack maps of one kind")
        kinds.add(info.user)
        _identifier(info.map, "map")
        _require(1 <= info.entries <= MAX_CAPACITY, f"stack map of {info.entries} entries")
        _require((info.pids is not None) == info.user,
                 "a process map belongs to user stacks, and only to them")
        if info.pids is not None:
            _identifier(info.pids, "map")
    names = [n for i in manifest.stacks for n in (i.map, i.pids) if n is not None]
    names += [n for t in manifest.tables for n in (t.map, t.slots) if n is not None]
    _require(len(names) == len(set(names)), "a map serves two purposes")


def _programs(manifest: mf.Manifest, module: ops.Module) -> None:
    names: set[str] = set()
    points = 0
    for program in manifest.programs:
        _identifier(program.name, "program")
        _require(program.name not in names, f"program {program.name} is listed twice")
        names.add(program.name)
        _require(0 <= program.probe < len(module.probes),
                 f"probe {program.probe} does not exist")
        _require(bool(program.attach), f"program {program.name} attaches nowhere")
        points += len(program.attach)
        _require(program.samples is None
                 or all(a.kind is mf.AttachKind.PERF for a in program.attach),
                 f"program {program.name} counts samples but is no profile timer")
        _require(points <= MAX_ITEMS, "too many attach points")
        for point in program.attach:
            _attach_point(point)
    timed = [p.samples for p in manifest.programs if p.samples is not None]
    _require(sorted(timed) == list(range(len(timed))),
             "profile sample counters are not numbered 0, 1, ...")


def _attach_point(point: mf.AttachPoint) -> None:
    target = point.target
    _require(0 <= point.cookie <= U64_MAX, "bad attach cookie")
    _require("\0" not in target and 0 < len(target) <= 4096, "bad attach target")
    problem = ATTACHERS[point.kind].target_problem(point)
    _require(problem is None, problem or "")


def _global_layout(decl: ops.GlobalDecl) -> str:
    """The base layout backend.lower gives the BPF global of `decl`."""
    try:
        kind = lay.base(lay.layout_of(decl.type))
    except lay.LayoutError:
        raise CheckError(f"global {decl.name[:40]!r} has a type no global can hold") from None
    return "int" if kind == "nil" else kind  # only ever nil: a flag that stays clear


def _event(name: str, data: object) -> None:
    """An argstr event format (backend.argstr.EventDesc.to_json), bounded so that
    rendering a record stays within it."""
    _require(type(data) is list and len(data) == 4, f"bad format of event {name[:40]!r}")
    assert isinstance(data, list)
    system, event, fields, print_fmt = data
    _require(type(system) is str and type(event) is str and type(fields) is list
             and len(fields) <= 1024 and type(print_fmt) is str and len(print_fmt) <= 65536,
             f"bad format of event {name[:40]!r}")
    names = list(mf.field_types(Field))
    for raw in fields:
        _require(type(raw) is list and len(raw) == len(names), f"bad field in {name[:40]!r}")
        try:
            field = mf.typed(dict(zip(names, raw, strict=True)), Field, f"event {name[:40]!r}")
        except mf.ManifestError as e:
            raise CheckError(str(e)) from None
        assert isinstance(field, Field)
        limit = argstr.MAX_RECORD + argstr.HEADER
        _require(0 <= field.offset <= limit and 0 <= field.size <= limit
                 and (field.array_len is None or 0 <= field.array_len <= field.size),
                 f"bad field {field.name[:40]!r} in {name[:40]!r}")


# ------------------------------------------------------------------ the object


def check_object(manifest: mf.Manifest, image: bytes) -> None:
    """Opens the object with libbpf (which parses it; nothing is loaded into the kernel)
    and compares what libbpf sees with the manifest.

    libbpf's ELF parser is C, and a crafted object has crashed it (a segfault inside
    bpf_object__open_mem), so this first open, with every check, runs in a forked
    child: a crash there is an error here. The runtime opens the same bytes later."""
    _require(0 < len(image) <= MAX_OBJECT, "the BPF object is empty or too large")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe and the exit status, then leave
        status = CHILD_FAILED
        try:
            os.close(read_end)
            faulthandler.disable()  # a crash is the parent's to report, in one line
            _check_opened(manifest, image)
            status = 0
        except CheckError as e:
            os.write(write_end, str(e).encode()[:MAX_REPORT])
            status = CHILD_REFUSED
        except BaseException:  # noqa: BLE001 - a bug of these checks, shown by the parent
            os.write(write_end, traceback.format_exc().encode()[-MAX_REPORT:])
        finally:
            os._exit(status)  # no atexit handlers, no flushing of inherited buffers
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode(errors="replace")
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise CheckError(f"libbpf crashed reading its BPF object "
                         f"({signal.Signals(os.WTERMSIG(status)).name})")
    code = os.WEXITSTATUS(status)
    if code == CHILD_REFUSED:
        raise CheckError(report)
    if code != 0:
        raise RuntimeError(f"checking the BPF object failed:\n{report}")


def _check_opened(manifest: mf.Manifest, image: bytes) -> None:
    try:
        obj = BPFObject.open(image, "kllvm")
    except LoadError as e:
        raise CheckError(f"libbpf cannot read its BPF object ({e.summary})") from None
    with obj:
        _object_programs(manifest, obj)
        maps: dict[str, Map] = {}
        for bpf_map in obj.maps():
            _require(bpf_map.name not in maps, f"two maps are named {bpf_map.name[:40]!r}")
            maps[bpf_map.name] = bpf_map
        _object_maps(manifest, maps)
        _object_bss(manifest, obj, maps)


def _object_programs(manifest: mf.Manifest, obj: BPFObject) -> None:
    sections = {p.name: p.section for p in obj.programs()}
    listed = {p.name for p in manifest.programs}
    _require(set(sections) == listed, "its BPF programs are not the manifest's")
    for program in manifest.programs:
        section = sections[program.name]
        for point in program.attach:
            _require(section.startswith(ATTACHERS[point.kind].sections(point.kind)),
                     f"program {program.name} in section {section[:40]!r} "
                     f"cannot attach to a {point.kind}")


def _map(maps: dict[str, Map], name: str, kind: int, key: int, value: int,
         entries: int) -> Map:
    bpf_map = maps.get(name)
    _require(bpf_map is not None, f"its BPF object has no map {name}")
    assert bpf_map is not None
    _require((bpf_map.type, bpf_map.key_size, bpf_map.value_size, bpf_map.max_entries)
             == (kind, key, value, entries),
             f"map {name} is not the manifest's (type {bpf_map.type}, key {bpf_map.key_size}, "
             f"value {bpf_map.value_size}, {bpf_map.max_entries} entries)")
    return bpf_map


def _object_maps(manifest: mf.Manifest, maps: dict[str, Map]) -> None:
    _require(mf.RINGBUF in maps and maps[mf.RINGBUF].type == RINGBUF_TYPE,
             f"its BPF object has no ring buffer {mf.RINGBUF}")
    strlen = manifest.strlen
    for table in manifest.tables:
        _map(maps, table.map, PERCPU_HASH if table.percpu else HASH,
             lay.size_of(table.key, strlen), lay.size_of(table.value, strlen), table.capacity)
        if table.slots is not None:
            slots = _map(maps, table.slots, ARRAY, 4, SLOT.size, SLOTS_PER_CPU)
            _require(bool(slots.flags & BPF_F_MMAPABLE), f"map {table.slots} is not mmapable")
    for info in manifest.stacks:
        _map(maps, info.map, STACK_TRACE, 4, 8 * STACK_FRAMES, info.entries)
        if info.pids is not None:
            _map(maps, info.pids, HASH, 4, 8, mf.STACK_PID_ENTRIES)


def _object_bss(manifest: mf.Manifest, obj: BPFObject, maps: dict[str, Map]) -> None:
    try:
        variables = obj.section_variables(".bss")
        bss = obj.map(".bss")
    except KeyError:
        raise CheckError("its BPF object has no .bss globals") from None
    _require(bss.type == ARRAY and bss.max_entries == 1, "its .bss is not a global section")
    for name, (offset, size) in variables.items():
        _require(0 <= offset and offset + size <= bss.value_size,
                 f"global {name[:40]!r} lies outside .bss")
    expected = {name: 8 for name in BSS_REQUIRED}
    expected[mf.DROPS] = 8 * len(manifest.tables)
    expected[mf.CUTS] = 8 * len(manifest.cuts)
    for info in manifest.globals:
        expected[info.symbol] = lay.size_of(info.layout, manifest.strlen)
        if info.present is not None:
            expected[info.present] = 8
    if manifest.stacks:
        expected[mf.STACK_LOST] = 8 * 2 * len(mf.STACK_LOSSES)
    timed = sum(p.samples is not None for p in manifest.programs)
    if timed:
        expected[mf.SAMPLES] = 8 * timed
    for name in BSS_OPTIONAL:
        if name in variables:
            expected[name] = 8
    for name, size in expected.items():
        span = variables.get(name)
        # kllvm_drops and kllvm_cuts have at least one slot, even with none to count.
        fits = span is not None and (span[1] == size or (name in (mf.DROPS, mf.CUTS)
                                                         and span[1] >= size))
        _require(fits, f"global {name} is missing from .bss or has the wrong size")
