"""Typed IR of probe bodies → LLVM IR for the BPF target.

One BPF program per group of events (see `backend.providers`). Each IR register becomes
entry-block allocas (a value and, for nil-able registers, a present flag) that LLVM's
mem2reg turns back into SSA; calls to kernel functions are inlined here, since the IR of
kernel code is small and BPF cannot call through a value. Tables, functions and the
cells that hold them are resolved statically.

Strings are fixed-capacity byte buffers kept off the 512-byte stack: literals in
`.rodata`, run-time strings in slots of a per-CPU scratch array (one slot per producing
op). Every buffer is zero-padded, so equality and copies are whole-buffer word loops.

Errors: an error record goes to the ring buffer; a fatal one also sets the stop flag
(checked at every program entry) and the first fatal fault, then the program returns.

Loops: ktap's budget of LOOP_LIMIT iterations per event is a numeric iterator (the
kernel's bpf_iter_num kfuncs), so that the verifier checks a loop bounded by event data
by its states converging instead of iteration by iteration (`loop_tick`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import assert_never

from llvmlite import ir

from backend import layout as lay
from backend import manifest as mf
from backend.argstr import HEADER, EventDesc, copy_sizes
from backend.bpfabi import BPF_F_MMAPABLE, BPF_F_USER_STACK, BPF_NOEXIST, EEXIST, ENOMEM
from backend.bpfbuilder import BPFMap, BPFModule, GlobalData, ProgramBuilder, Spill
from backend.events import COMMON_PID, MemoryFetch, context_names, kernel_reach
from backend.helpers import I8, I32, I64, VOIDP, Helper
from backend.plan import Plan
from backend.providers.base import NameIndex, ProgramSpec
from backend.sites import CONCAT_CUT, MEMORY_STRINGS, Sites, context_cut
from backend.slots import COUNT, HASH_MULTIPLIER, KEY, SLOT_BITS, SLOT_FIELDS, SLOTS_PER_CPU, USED
from backend.tracefs import Field
from frontend.diagnostics import InternalError, Span
from frontend.eventdef import FilterAnd, FilterCompare, FilterOr
from frontend.types import FuncT, NilT, TableT, Type, strip_opt
from ir import ops, semantics
from ir.analysis import concat_roots, written_before_read
from ir.values import DEFAULT_TABLE_CAPACITY

I1 = ir.IntType(1)
RINGBUF_SIZE = 1 << 20
SCRATCH = "kllvm_scratch"  # backend.mapfail names it too
MAX_ENTRIES = 2**32 - 1  # a map's max_entries is a u32
# The largest value of a per-CPU map (the kernel's PCPU_MIN_UNIT_SIZE): the strings a
# program makes are spread over as many entries of the scratch map as they need.
SCRATCH_ENTRY_BYTES = 32 * 1024
# Stack maps: ids of distinct stacks each (the kernel hashes a stack to one of as many
# buckets; a taken bucket is a collision, counted and reported).
STACK_MAP_ENTRIES = 16384
STACK_MAX_DEPTH = 127  # the stack map's frames (PERF_MAX_STACK_DEPTH)
STACK_MAX_SKIP = 255  # BPF_F_SKIP_FIELD_MASK
TIME_UNITS = {"gettimeofday_ns": 1, "gettimeofday_us": 1_000, "gettimeofday_ms": 1_000_000,
              "gettimeofday_s": 1_000_000_000}


class LowerError(Exception):
    """A construct the BPF backend cannot compile; reported at the op's span."""

    def __init__(self, span: Span, message: str) -> None:
        super().__init__(message)
        self.span = span
        self.message = message


def symbol(name: str) -> str:
    return "g_" + re.sub(r"\W", "_", name)


def i64(n: int) -> ir.Constant:
    return ir.Constant(I64, n)


# ------------------------------------------------------------------ values


@dataclass
class Val:
    """A lowered value: `kind` is a base layout; `present` is None when surely present."""

    kind: str
    value: ir.Value | None = None  # i64 (int, bool) or i8* (str)
    present: ir.Value | None = None


@dataclass(frozen=True)
class Static:
    """A value resolved at compile time: a table site, a function, or a global cell."""

    what: str  # "table", "func", "global"
    ref: int | str  # a table's site, a function's name, a global's name


NIL = Val("nil")


@dataclass
class Slot:
    """A register's home in a program: allocas for its value and, if nil-able, present flag."""

    kind: str
    value: ir.AllocaInstr | None
    present: ir.AllocaInstr | None


def type_kind(t: Type) -> tuple[str, bool] | Static:
    """(base layout, nil-able) of a register type, a Static for tables/functions."""
    if isinstance(t, ops.CellT):
        t = t.inner
    inner = strip_opt(t)
    if isinstance(inner, TableT):
        return Static("table", inner.site)
    if isinstance(inner, FuncT):
        return Static("func", inner.function)
    if isinstance(t, NilT):
        return ("nil", False)
    layout = lay.layout_of(t)
    return (lay.base(layout), lay.is_opt(layout))


# ------------------------------------------------------------------ the module


class ModuleLowering:
    def __init__(self, module: ops.Module, filename: str, source: str, strlen: int,
                 null_checks: bool = True, tapsets: Mapping[str, str] | None = None) -> None:
        self.module = module
        # False only in tests: provokes a verifier rejection on purpose.
        self.null_checks = null_checks
        self.strlen = strlen
        self.words = strlen // 8
        self.str_type = ir.ArrayType(I8, strlen)
        self.bpf = BPFModule("kllvm", filename, source, tapsets=tapsets)
        self.manifest = mf.Manifest(strlen)
        self.literals: dict[bytes, GlobalData] = {}
        self.tables: dict[int, tuple[BPFMap, mf.TableInfo]] = {}
        self.globals: dict[str, tuple[mf.GlobalInfo, GlobalData, GlobalData | None]] = {}
        self.sites = Sites()  # the plan's
        self.adders: dict[int, ir.Function] = {}  # by table site (make_adder)
        self.roots: dict[str, dict[ops.Concat, ops.Concat]] = {}  # (concat_root)
        self.formats: Mapping[tuple[str, str], EventDesc] = {}  # the plan's (argstr)
        self._declare_runtime()

    # -- declarations

    def _declare_runtime(self) -> None:
        b = self.bpf
        self.ringbuf = b.ringbuf(mf.RINGBUF, RINGBUF_SIZE)
        self.stop = b.global_variable(mf.STOP, I64)
        self.fatal = b.global_variable(mf.FATAL, I64)
        self.target_pid = b.global_variable(mf.TARGET_PID, I64)
        self.lost = b.global_variable(mf.LOST, I64)
        self.realtime = b.global_variable(mf.REALTIME_OFFSET, I64, signed=True)
        self.self_pid = b.global_variable(mf.SELF_PID, I64)
        self.zero = b.global_variable(mf.ZERO, I64)
        kernel = [d for d in self.module.tables if d.kernel]
        self.drops = b.global_variable(mf.DROPS, ir.ArrayType(I64, max(len(kernel), 1)))
        capacities = self._table_capacities()
        for index, decl in enumerate(kernel):
            try:
                key, value = lay.layout_of(decl.key), lay.layout_of(decl.value)
                if "argstr" in (lay.base(key), lay.base(value)):
                    raise lay.LayoutError("argstr can only be printed in a probe body")
            except lay.LayoutError as e:
                raise LowerError(decl.span, f"table '{decl.name}': {e}") from None
            capacity = capacities.get(decl.site, DEFAULT_TABLE_CAPACITY)
            if capacity > MAX_ENTRIES:
                raise LowerError(decl.span, f"table '{decl.name}' of {capacity} entries: a "
                                            f"kernel map holds at most {MAX_ENTRIES}")
            name = f"t{decl.site}_{re.sub(r'[^A-Za-z0-9_]', '_', decl.name)}"[:15]
            bpf_map = b.hash_map(name, self.map_type(key), self.map_type(value), capacity,
                                 percpu=decl.only_added, line=decl.span.line)
            slots = None
            if decl.only_added and key == "int" and value == "int":
                slots = f"c{decl.site}_{name}"[:15]
                b.array_map(slots, ir.ArrayType(I64, SLOT_FIELDS), SLOTS_PER_CPU,
                            flags=BPF_F_MMAPABLE, line=decl.span.line)
            info = mf.TableInfo(decl.site, self._variable_names().get(decl.site, decl.name),
                                decl.span.line, name, key, value,
                                capacity, decl.only_added, index, slots)
            self.manifest.tables.append(info)
            self.tables[decl.site] = (bpf_map, info)
        for global_decl in self.module.globals:
            self._declare_global(global_decl)
        strings = max((self.string_slots(p.function) for p in self.module.probes
                       if p.kind.runs_in_kernel), default=0)
        # A concatenation writes its right operand at a variable offset into its string
        # with a variable size, whose sum the verifier cannot bound below 2 * strlen - 1:
        # the entries then end with one spare string of room (`concat`).
        spare = int(self.has_concat())
        self.strings_per_entry = SCRATCH_ENTRY_BYTES // self.strlen - spare
        entries = max(1, -(-strings // self.strings_per_entry))
        size = (min(max(strings, 1), self.strings_per_entry) + spare) * self.strlen
        self.scratch = b.array_map(SCRATCH, ir.ArrayType(I8, size), entries, percpu=True)
        self.empty = self.literal(b"")
        self._declare_stacks()

    def _declare_stacks(self) -> None:
        """A stack map for each kind of stack the module takes, and their loss counters."""
        taken = {op.name for function in self.module.functions.values()
                 for block in function.blocks for op in block.ops
                 if isinstance(op, ops.CallBuiltin) and op.name in ("stack", "ustack")}
        self.stack_maps: dict[bool, BPFMap] = {}
        self.stack_pids: BPFMap | None = None
        if not taken:
            return
        b = self.bpf
        for user in (False, True):
            if ("ustack" if user else "stack") not in taken:
                continue
            name = "kllvm_ustacks" if user else "kllvm_kstacks"
            self.stack_maps[user] = b.stack_trace_map(name, STACK_MAP_ENTRIES)
            pids = None
            if user:
                self.stack_pids = b.hash_map("kllvm_upids", I32, I64, mf.STACK_PID_ENTRIES)
                pids = "kllvm_upids"
            self.manifest.stacks.append(mf.StackMapInfo(user, name, STACK_MAP_ENTRIES, pids))
        self.stack_lost = b.global_variable(
            mf.STACK_LOST, ir.ArrayType(I64, 2 * len(mf.STACK_LOSSES)))

    def _variable_names(self) -> dict[int, str]:
        """The top-level variable each table was first stored in, for reports."""
        made: dict[ops.Register, int] = {}
        names: dict[int, str] = {}
        for block in self.module.functions[self.module.main].blocks:
            for op in block.ops:
                if isinstance(op, ops.NewTable):
                    made[op.dest] = op.site
                elif isinstance(op, ops.MakeCell) and op.initial in made and op.global_name:
                    names.setdefault(made[op.initial], op.global_name)
        return names

    def _table_capacities(self) -> dict[int, int]:
        """Capacities from `table.new(narr, nrec)` with constant sizes in the main chunk
        (a map's size is fixed before the main chunk runs)."""
        result = {}
        for function in self.module.functions.values():
            for block in function.blocks:
                for op in block.ops:
                    if isinstance(op, ops.NewTable):
                        sizes = [0 if v is None or not isinstance(v, ops.Const)
                                 or type(v.value) is not int else v.value
                                 for v in (op.narr, op.nrec)]
                        result[op.site] = semantics.table_capacity(*sizes)
        return result

    def _declare_global(self, decl: ops.GlobalDecl) -> None:
        try:
            layout = lay.layout_of(decl.type)
            if lay.base(layout) == "argstr":
                raise lay.LayoutError("argstr can only be printed in a probe body")
        except lay.LayoutError as e:
            raise LowerError(decl.span, f"variable '{decl.name.split('.')[0]}': {e}") from None
        kind = lay.base(layout)
        if kind == "nil":
            kind, layout = "int", "opt:int"  # only ever nil: a flag that stays clear
        sym = symbol(decl.name)
        value = self.bpf.global_variable(sym, self.map_type(kind), signed=True,
                                         line=decl.span.line)
        present = None
        if lay.is_opt(layout):
            present = self.bpf.global_variable(sym + "_set", I64, line=decl.span.line)
        info = mf.GlobalInfo(decl.name, sym, kind, present.name if present else None)
        self.manifest.globals.append(info)
        self.globals[decl.name] = (info, value, present)

    def map_type(self, layout: str) -> ir.Type:
        if lay.is_opt(layout):
            return ir.LiteralStructType([I64, self.map_type(lay.base(layout))])
        return self.str_type if layout == "str" else I64

    def literal(self, text: bytes) -> GlobalData:
        text = text[: self.strlen - 1]
        found = self.literals.get(text)
        if found is None:
            init = ir.Constant(self.str_type, bytearray(text.ljust(self.strlen, b"\0")))
            found = self.bpf.rodata(f"kllvm_str{len(self.literals)}", self.str_type, init)
            self.literals[text] = found
        return found

    def concat_root(self, function: ops.Function, op: ops.Concat) -> ops.Concat:
        roots = self.roots.get(function.name)
        if roots is None:
            roots = self.roots[function.name] = concat_roots(function)
        return roots[op]

    def has_loops(self, function: str) -> bool:
        """Whether a probe's `function` (or one it calls) loops (`loop_tick`)."""
        return any(isinstance(op, ops.LoopTick) for name in kernel_reach(self.module, function)
                   for block in self.module.functions[name].blocks for op in block.ops)

    def has_concat(self) -> bool:
        """Whether kernel code concatenates strings."""
        return any(isinstance(op, ops.Concat)
                   for p in self.module.probes if p.kind.runs_in_kernel
                   for name in kernel_reach(self.module, p.function)
                   for block in self.module.functions[name].blocks for op in block.ops)

    def uses_execname(self, function: str) -> bool:
        return "execname" in context_names(self.module, kernel_reach(self.module, function))

    def string_slots(self, function: str) -> int:
        """How many strings a probe's `function` (and the functions it calls, inlined)
        makes at run time in the scratch map: one per op that makes one (`new_string`),
        and one for execname, read once per event; string constants live in `.rodata`."""
        return self._string_ops(function) + self.uses_execname(function)

    def _string_ops(self, function: str, seen: tuple[str, ...] = ()) -> int:
        count = 0
        for block in self.module.functions[function].blocks:
            for op in block.ops:
                if _makes_string(op):
                    count += 1
                elif isinstance(op, ops.Call):
                    callee = strip_opt(op.callee.type)
                    if isinstance(callee, FuncT) and callee.function not in seen:
                        count += self._string_ops(callee.function, (*seen, function))
        return count

    def event_descs(self, events: list[tuple[str, str]]) -> list[EventDesc]:
        """The formats of `events` (read by the plan), recorded in the manifest for
        rendering argstr."""
        descs = []
        for system, event in events:
            desc = self.formats[(system, event)]
            self.manifest.events.setdefault(event, desc.to_json())
            descs.append(desc)
        return descs

    def fault(self, error: int, message: str, fatal: bool) -> int:
        """The plan's id of a fault."""
        found = self.sites.faults.get((error, message, fatal))
        if found is None:
            raise InternalError(f"the plan has no fault ({error}, {message!r}, {fatal})")
        return found

    def cut(self, error: int, what: str) -> int:
        """The plan's index of a cut site."""
        found = self.sites.cuts.get((error, what))
        if found is None:
            raise InternalError(f"the plan has no cut site ({error}, {what!r})")
        return found

    def print_site(self, kind: str, template: bytes, layouts: list[str], error: int) -> int:
        """The plan's id of a print site."""
        found = self.sites.prints.get((kind, template.decode("latin-1"), tuple(layouts),
                                       error))
        if found is None:
            raise InternalError(f"the plan has no {kind} site {template[:40]!r} {layouts}")
        return found

    # -- programs

    def check_literals(self) -> None:
        """A string constant that a probe uses must fit the kernel's strings: cutting it
        would change what the script prints or compares."""
        for function in self.module.functions.values():
            if function.placement != ops.Placement.KERNEL:
                continue
            for block in function.blocks:
                for op in block.ops:
                    for value in vars(op).values():
                        values = value if isinstance(value, (list, tuple)) else (value,)
                        for v in values:
                            if (isinstance(v, ops.Const) and isinstance(v.value, bytes)
                                    and len(v.value) >= self.strlen):
                                raise LowerError(op.span, (
                                    f"this string of {len(v.value)} bytes does not fit in "
                                    f"a probe's strings ({self.strlen - 1} bytes and a NUL); "
                                    "raise the capacity with --strlen"))

    def lower_programs(self, plan: Plan) -> None:
        """The plan's programs, with its probename table, event formats and the ids of
        its print sites and faults."""
        self.check_literals()
        self.formats = plan.formats
        self.sites = plan.sites
        self.manifest.prints = plan.sites.print_sites()
        self.manifest.faults = plan.sites.fault_list()
        self.manifest.cuts = plan.sites.cut_list()
        self.cuts = self.bpf.global_variable(mf.CUTS, ir.ArrayType(I64, max(len(plan.sites.cuts),
                                                                          1)))
        self.manifest.names = list(plan.names)
        table = names_table(list(plan.names) or [""], self.strlen)
        self.names_var = self.bpf.rodata("kllvm_names", table.type, table).var
        # Profile programs count their samples, so that throttling by the kernel shows.
        timed = [spec.name for spec in plan.programs
                 if spec.probe.decl.kind is ops.ProbeKind.PROFILE]
        self.sample_index = {name: i for i, name in enumerate(timed)}
        if timed:
            self.samples = self.bpf.global_variable(mf.SAMPLES, ir.ArrayType(I64, len(timed)))
        for spec in plan.programs:
            ProgramLowering(self, spec).lower()
            self.manifest.programs.append(mf.ProgramInfo(spec.name, spec.probe.decl.id,
                                                         spec.attach,
                                                         self.sample_index.get(spec.name)))


_QUOTED = frozenset(b'"\\')  # printable, yet escaped in LLVM's c"..." strings


def _makes_string(op: ops.Op) -> bool:
    """Whether lowering `op` takes a string of the scratch map (`new_string`)."""
    if isinstance(op, ops.CallBuiltin):
        return op.name in MEMORY_STRINGS
    if isinstance(op, ops.Concat):
        return True
    if not isinstance(op, ops.TableGet | ops.LoadCell | ops.Context):
        return False
    kind = type_kind(op.dest.type)
    if isinstance(kind, Static) or kind[0] != "str":
        return False
    # probename is in `.rodata`; execname has one string per program (`string_slots`).
    return not (isinstance(op, ops.Context) and op.name in ("probename", "execname"))


def _reachable(function: ops.Function) -> frozenset[int]:
    """The ids of the blocks of `function` that some path from its entry reaches."""
    seen = {id(function.entry)}
    todo = [function.entry]
    while todo:
        match todo.pop().terminator:
            case ops.Jump(target=target):
                targets = [target]
            case ops.Branch(if_true=if_true, if_false=if_false):
                targets = [if_true, if_false]
            case _:
                targets = []
        for target in targets:
            if id(target) not in seen:
                seen.add(id(target))
                todo.append(target)
    return frozenset(seen)


def _static_noun(static: Static) -> str:
    return "a table" if static.what == "table" else "a function"


def names_table(names: list[str], strlen: int) -> ir.Constant:
    """The probename table, `[N x [strlen x i8]]`, as LLVM text written here: llvmlite
    escapes byte arrays one byte at a time, ~25 ms for the 200 KB table of `*:*`."""
    row_type = ir.ArrayType(I8, strlen)
    rows = []
    for name in names:
        text = name.encode()[: strlen - 1]
        plain = text.isascii() and text.decode().isprintable() and not set(text) & _QUOTED
        escaped = text.decode() if plain else "".join(
            chr(c) if 32 <= c < 127 and c not in _QUOTED else f"\\{c:02x}" for c in text)
        padding = "\\00" * (strlen - len(text))
        rows.append(f'{row_type} c"{escaped}{padding}"')
    return ir.FormattedConstant(ir.ArrayType(row_type, len(names)), f"[{', '.join(rows)}]")


# ------------------------------------------------------------------ one program


@dataclass
class Frame:
    """One inlined activation of an IR function."""

    function: ops.Function
    slots: dict[ops.Register, Slot | Static] = field(default_factory=dict)
    blocks: dict[int, ir.Block] = field(default_factory=dict)
    result: Slot | Static | None = None
    result_type: Type | None = None
    exit: ir.Block | None = None  # where a return continues; None: the program returns
    # Registers every read finds written earlier in its block: their allocas start
    # unset. An initial store in the entry block would make each one live across the
    # whole function, and LLVM's SROA and InstCombine then take time quadratic in the
    # length of a long if/elseif chain.
    written_first: frozenset[ops.Register] = frozenset()
    # Whether the block being lowered can run: the frame's call site can, and a path from
    # the entry reaches the block (the IR builder also makes blocks for code after a return).
    live: bool = True
    block_live: bool = True


class ProgramLowering:
    def __init__(self, owner: ModuleLowering, spec: ProgramSpec) -> None:
        self.m = owner
        self.spec = spec
        self.pb: ProgramBuilder = owner.bpf.program(spec.name, spec.section,
                                                    line=spec.probe.decl.span.line)
        self.b = self.pb.ir
        self.next_slot = 0
        self.loop_budget: ir.Value | None = None  # the iterator of `loop_tick`, i8*
        self.name_source: NameIndex = 0  # set by the provider's prologue
        self.cut_flags: dict[int, ir.AllocaInstr] = {}  # by id of a `..` root (`concat`)

    # -- entry

    def lower(self) -> None:
        decl = self.spec.probe.decl
        self.pb.set_location(decl.span.line, decl.span.col)
        self.prologue()
        function = self.m.module.functions[decl.function]
        frame = Frame(function, written_first=written_before_read(function))
        self.bind_free_cells(frame)
        self.lower_frame(frame)

    def prologue(self) -> None:
        b = self.b
        self.return_if(b.icmp_unsigned("!=", b.load(self.m.stop.var), i64(0)))
        sample = self.m.sample_index.get(self.spec.name)
        if sample is not None:  # every sample, whichever process it interrupts
            self.pb.atomic_add(b.gep(self.m.samples.var, [ir.Constant(I32, 0),
                                                         ir.Constant(I32, sample)]), 1)
        target = b.load(self.m.target_pid.var)
        # One helper call per event: pid and tid reuse it.
        self.pid_tgid = self.pb.get_current_pid_tgid()
        tgid = b.lshr(self.pid_tgid, i64(32))
        other = b.and_(b.icmp_unsigned("!=", target, i64(0)),
                       b.icmp_unsigned("!=", target, tgid))
        # kllvm's own events are never traced: printing them would make more of them.
        mine = b.icmp_unsigned("==", tgid, b.load(self.m.self_pid.var))
        self.return_if(b.or_(other, mine))
        self.name_source = self.spec.planner.prologue(self.spec, self)
        eventdef = self.spec.probe.decl.eventdef
        if self.spec.group is not None and eventdef is not None and eventdef.filter:
            self.return_if(b.not_(self.filter(eventdef.filter)))
        # One scratch entry per SCRATCH_ENTRY_BYTES of the strings this program makes.
        self.scratch: list[ir.Value] = []
        slots = self.m.string_slots(self.spec.probe.decl.function)
        for entry in range(-(-slots // self.m.strings_per_entry)):
            scratch = self.pb.map_lookup_elem(self.m.scratch,
                                              self.pb.spill(ir.Constant(I32, entry)))
            if self.m.null_checks:
                self.return_if(self.pb.is_null(scratch))
            self.scratch.append(b.bitcast(scratch, VOIDP))
        if self.m.has_loops(self.spec.probe.decl.function):
            self.start_loop_budget()
        # execname cannot change during an event: one copy serves every use.
        self.execname: ir.Value | None = None
        if self.m.uses_execname(self.spec.probe.decl.function):
            self.execname = self.new_string()
            self.pb.get_current_comm(self.execname, 16)

    # -- what providers' prologues emit (backend.providers.base.Emitter)

    def attach_cookie(self) -> ir.Value:
        return self.pb.call_helper(Helper.GET_ATTACH_COOKIE, self.pb.ctx)

    def ctx_table_index(self, offset: int, table: dict[int, int]) -> ir.Value:
        """Returns unless the u64 at `offset` in the context (a raw_syscalls record's
        syscall number) is a key of `table`; then gives its value, from a `.rodata`
        table indexed by key (0: not a key, else value + 1)."""
        b = self.b
        size = max(table) + 1
        ty = ir.ArrayType(I32, size)
        init = ir.Constant(ty, [table[nr] + 1 if nr in table else 0 for nr in range(size)])
        var = self.m.bpf.rodata(f"kllvm_sys_{self.spec.name}", ty, init).var
        nr = b.load(b.bitcast(b.gep(self.pb.ctx, [ir.Constant(I32, offset)]),
                              I64.as_pointer()))
        self.return_if(b.icmp_unsigned(">=", nr, i64(size)))
        entry = b.load(b.gep(var, [i64(0), nr]))
        self.return_if(b.icmp_unsigned("==", entry, ir.Constant(I32, 0)))
        return b.zext(b.sub(entry, ir.Constant(I32, 1)), I64)

    def return_if(self, cond: ir.Value) -> None:
        stop = self.pb.function.append_basic_block("ret")
        go = self.pb.function.append_basic_block("go")
        self.b.cbranch(cond, stop, go)
        self.b.position_at_end(stop)
        self.pb.ret(0)
        self.b.position_at_end(go)

    # -- filters (Part A §12)

    def filter(self, node: FilterAnd | FilterOr | FilterCompare) -> ir.Value:
        b = self.b
        match node:
            case FilterAnd(left=left, right=right):
                return b.and_(self.filter(left), self.filter(right))
            case FilterOr(left=left, right=right):
                return b.or_(self.filter(left), self.filter(right))
            case FilterCompare(field=name, op=op, value=int(value)) if name == COMMON_PID:
                # The record's copy is overwritten (see events.COMMON_PID); the task
                # that emits an event is the current one, whose thread id it held.
                tid = b.and_(self.pid_tgid, i64(0xFFFFFFFF))
                return b.icmp_signed(op, tid, i64(value))
            case FilterCompare():
                group = self.spec.group
                assert group is not None
                f = group.filter_fields[node.field]
                if f.is_char_array:
                    return self.filter_string(f, node)
                if isinstance(node.value, str) or f.is_array or f.data_loc \
                        or f.size not in (1, 2, 4, 8):
                    raise LowerError(node.span, f"field '{f.name}' ({f.type}) cannot be "
                                                f"compared with {node.value!r}")
                return b.icmp_signed(node.op, self.ctx_int(f), i64(node.value))
        raise TypeError(node)

    def filter_string(self, f: Field, node: FilterCompare) -> ir.Value:
        b = self.b
        text = str(node.value).encode()
        op = node.op
        prefix = text.endswith(b"*") and b"*" not in text[:-1]
        if op not in ("==", "!=") or any(c in text.rstrip(b"*") for c in b"*?["):
            raise LowerError(node.span, "string filters support == and != with an "
                                        "exact value or a trailing '*'")
        text = text[:-1] if prefix else text
        expected = list(text) if prefix else [*text, 0]
        if len(expected) > f.size:
            equal: ir.Value = ir.Constant(I1, 0)
        else:
            equal = ir.Constant(I1, 1)
            base = self.pb.ctx
            for i, byte in enumerate(expected):
                ptr = b.gep(base, [ir.Constant(I32, f.offset + i)])
                equal = b.and_(equal, b.icmp_unsigned("==", b.load(ptr), ir.Constant(I8, byte)))
        return equal if op == "==" else b.not_(equal)

    def ctx_int(self, f: Field) -> ir.Value:
        ty = ir.IntType(f.size * 8)
        ptr = self.b.bitcast(self.b.gep(self.pb.ctx, [ir.Constant(I32, f.offset)]),
                             ty.as_pointer())
        value = self.b.load(ptr)
        if f.size == 8:
            return value
        return self.b.sext(value, I64) if f.signed else self.b.zext(value, I64)

    # -- frames

    def bind_free_cells(self, frame: Frame) -> None:
        for cell in frame.function.free_cells:
            kind = type_kind(cell.type)
            if isinstance(kind, Static):
                frame.slots[cell] = kind
            elif cell.name in self.m.globals:
                frame.slots[cell] = Static("global", cell.name)
            else:
                raise LowerError(frame.function.span,
                                 f"'{cell.name.split('.')[0]}' is not a top-level variable")

    def slot(self, frame: Frame, reg: ops.Register) -> Slot | Static:
        found = frame.slots.get(reg)
        if found is not None:
            return found
        kind = type_kind(reg.type)
        if isinstance(kind, Static):
            frame.slots[reg] = kind
            return kind
        base, optional = kind
        init = None if reg in frame.written_first else self.pb._allocas
        value = present = None
        if base not in ("nil", "argstr"):
            ty = VOIDP if base == "str" else I64
            value = self.pb.alloca(ty, reg.name)
            if init is not None:
                init.store(self.m.empty.var.bitcast(VOIDP) if base == "str"
                           else i64(0), value)
        if optional:
            present = self.pb.alloca(I1, reg.name + ".set")
            if init is not None:
                init.store(ir.Constant(I1, 0), present)
        made = frame.slots[reg] = Slot(base, value, present)
        return made

    def block_of(self, frame: Frame, block: ops.BasicBlock) -> ir.Block:
        found = frame.blocks.get(id(block))
        if found is None:
            found = frame.blocks[id(block)] = self.pb.function.append_basic_block(block.label)
        return found

    def lower_frame(self, frame: Frame) -> None:
        self.b.branch(self.block_of(frame, frame.function.entry))
        reachable = _reachable(frame.function)
        for block in frame.function.blocks:
            frame.block_live = frame.live and id(block) in reachable
            self.b.position_at_end(self.block_of(frame, block))
            for op in block.ops:
                self.pb.set_location(op.span.line, op.span.col, op.span.file)
                self.op(frame, op)
                if isinstance(op, ops.Terminator):
                    break

    # -- reading and writing values

    def read(self, frame: Frame, value: ops.Value) -> Val | Static:
        if isinstance(value, ops.Const):
            return self.const(value)
        slot = self.slot(frame, value)
        if isinstance(slot, Static):
            return slot
        b = self.b
        v = b.load(slot.value) if slot.value is not None else None
        p = b.load(slot.present) if slot.present is not None else None
        if slot.kind == "nil":
            return NIL
        if slot.kind == "argstr":
            return Val("argstr")
        return Val(slot.kind, v, p)

    def const(self, c: ops.Const) -> Val | Static:
        v = c.value
        if v is None:
            return NIL
        if isinstance(v, bool):
            return Val("bool", i64(int(v)))
        if isinstance(v, int):
            return Val("int", i64(v))
        if isinstance(v, bytes):
            return Val("str", self.m.literal(v).var.bitcast(VOIDP))
        assert_never(v)

    def write(self, frame: Frame, reg: ops.Register, val: Val | Static, span: Span) -> None:
        slot = self.slot(frame, reg)
        if isinstance(val, Static):
            frame.slots[reg] = val
        elif isinstance(slot, Static):
            # A table or function is bound at compile time, with no flag for nil: binding
            # nil as well would make every use see whichever binding was lowered last.
            # Code that never runs binds nothing.
            if not frame.block_live:
                return
            name = f"'{reg.name.split('.')[0]}'" if "." in reg.name else "this value"
            raise LowerError(span, f"{name} holds {_static_noun(slot)} and may be nil: "
                                   "in a probe body it cannot be both")
        else:
            self.store_val(slot, val)

    def store_val(self, slot: Slot, val: Val) -> None:
        b = self.b
        if slot.present is not None:
            b.store(self.present(val), slot.present)
        if slot.value is not None and val.value is not None:
            b.store(val.value, slot.value)

    def present(self, val: Val) -> ir.Value:
        if val.kind == "nil":
            return ir.Constant(I1, 0)
        return val.present if val.present is not None else ir.Constant(I1, 1)

    def truthy(self, val: Val | Static) -> ir.Value:
        if isinstance(val, Static):
            return ir.Constant(I1, 1)
        if val.kind == "nil":
            return ir.Constant(I1, 0)
        result = self.present(val)
        if val.kind == "bool":
            result = self.b.and_(result, self.b.icmp_unsigned("!=", val.value, i64(0)))
        return result

    # -- failing

    def fail(self, error: int, message: str, fatal: bool) -> None:
        """Report a fault from the current block, then end the invocation."""
        index = self.m.fault(error, message, fatal)
        if fatal:
            self.b.store(i64(mf.STOP_FATAL), self.m.stop.var)
            self.b.store(i64(index + 1), self.m.fatal.var)
        self.record(mf.RECORD_FAULT, index, [], [])
        self.pb.ret(0)

    def fail_if(self, cond: ir.Value, error: int, message: str, fatal: bool) -> None:
        bad = self.pb.function.append_basic_block("fault")
        good = self.pb.function.append_basic_block("ok")
        self.b.cbranch(cond, bad, good)
        self.b.position_at_end(bad)
        self.fail(error, message, fatal)
        self.b.position_at_end(good)

    def number(self, val: Val | Static, error: int, message: str, fatal: bool) -> ir.Value:
        """The i64 of a value that must be a number, failing when it is nil."""
        if isinstance(val, Static) or val.kind not in ("int", "nil"):
            raise LowerError(self.m.module.errors[error].span,
                             f"{message}: the value is not a number")
        if val.kind == "nil":
            self.fail_if(ir.Constant(I1, 1), error, message, fatal)
            return i64(0)
        if val.present is not None:
            self.fail_if(self.b.not_(val.present), error, message, fatal)
        return val.value

    # -- strings

    def new_string(self) -> ir.Value:
        ptr = self.new_string_unzeroed()
        self.zero_string(ptr)
        return ptr

    def words(self, ptr: ir.Value) -> ir.Value:
        return self.b.bitcast(ptr, I64.as_pointer())

    def zero_string(self, ptr: ir.Value) -> None:
        dst = self.words(ptr)
        for i in range(self.m.words):
            self.b.store(i64(0), self.b.gep(dst, [i64(i)]))

    def copy_string(self, dst: ir.Value, src: ir.Value) -> None:
        d, s = self.words(dst), self.words(src)
        for i in range(self.m.words):
            self.b.store(self.b.load(self.b.gep(s, [i64(i)])), self.b.gep(d, [i64(i)]))

    def strings_equal(self, left: ir.Value, right: ir.Value) -> ir.Value:
        a, c = self.words(left), self.words(right)
        diff: ir.Value = i64(0)
        for i in range(self.m.words):
            x = self.b.load(self.b.gep(a, [i64(i)]))
            y = self.b.load(self.b.gep(c, [i64(i)]))
            diff = self.b.or_(diff, self.b.xor(x, y))
        return self.b.icmp_unsigned("==", diff, i64(0))

    # -- ring-buffer records

    def record(self, kind: int, ident: int, vals: list[Val], layouts: list[str]) -> None:
        b = self.b
        fields: list[ir.Type] = [I32, I32]
        for layout in layouts:
            if lay.is_opt(layout):
                fields.append(I64)
            base = lay.base(layout)
            if (raw := lay.argstr_size(layout)) is not None:
                fields += [I64, ir.ArrayType(I8, raw)]
            elif base == "str":
                fields.append(ir.ArrayType(I64, self.m.words))
            elif base != "nil":
                fields.append(I64)
        ty = ir.LiteralStructType(fields)
        ptr = self.pb.ringbuf_reserve(self.m.ringbuf, ty)
        full = self.pb.function.append_basic_block("rb_full")
        fill = self.pb.function.append_basic_block("rb_fill")
        done = self.pb.function.append_basic_block("rb_done")
        if self.m.null_checks:
            b.cbranch(self.pb.is_null(ptr), full, fill)
        else:
            b.branch(fill)
        b.position_at_end(full)
        self.pb.atomic_add(self.m.lost.var, 1)
        b.branch(done)
        b.position_at_end(fill)

        def at(i: int) -> ir.Value:
            return b.gep(ptr, [ir.Constant(I32, 0), ir.Constant(I32, i)])

        b.store(ir.Constant(I32, kind), at(0))
        b.store(ir.Constant(I32, ident), at(1))
        index = 2
        for val, layout in zip(vals, layouts, strict=True):
            base = lay.base(layout)
            if lay.argstr_size(layout) is not None:
                b.store(self.name_index(), at(index))
                dst = b.bitcast(at(index + 1), VOIDP)
                self.copy_record(dst, *self.argstr_sizes(self.spec.probe.decl.span))
                index += 2
                continue
            present = self.present(val)
            if lay.is_opt(layout):
                b.store(b.zext(present, I64), at(index))
                index += 1
            if base == "str":
                src = val.value if val.kind == "str" else self.m.empty.var.bitcast(VOIDP)
                if val.present is not None:
                    src = b.select(present, src, self.m.empty.var.bitcast(VOIDP))
                self.copy_string(b.bitcast(at(index), VOIDP), src)
                index += 1
            elif base != "nil":
                value = val.value if val.value is not None else i64(0)
                if val.present is not None:
                    value = b.select(present, value, i64(0))
                b.store(value, at(index))
                index += 1
        self.pb.ringbuf_submit(b.bitcast(ptr, VOIDP))
        b.branch(done)
        b.position_at_end(done)

    # -- ops

    def op(self, frame: Frame, op: ops.Op) -> None:
        match op:
            case ops.Move():
                self.move(frame, op)
            case ops.Arith():
                self.arith(frame, op)
            case ops.Compare():
                self.compare(frame, op)
            case ops.Not():
                self.not_(frame, op)
            case ops.Concat():
                self.concat(frame, op)
            case ops.Negate():
                self.negate(frame, op)
            case ops.LoadCell():
                self.load_cell(frame, op)
            case ops.StoreCell():
                self.store_cell(frame, op)
            case ops.AddCell():
                self.add_cell(frame, op)
            case ops.TableGet():
                self.table_get(frame, op)
            case ops.TableSet():
                self.table_set(frame, op)
            case ops.TableAdd():
                self.table_add(frame, op)
            case ops.Call():
                self.call(frame, op)
            case ops.CallBuiltin():
                self.call_builtin(frame, op)
            case ops.Context():
                self.context(frame, op)
            case ops.LoopTick():
                self.loop_tick(frame, op)
            case ops.CheckNumber():
                self.check_number(frame, op)
            case ops.Jump():
                self.jump(frame, op)
            case ops.Branch():
                self.branch(frame, op)
            case ops.Return():
                self.return_(frame, op)
            case ops.Fail():
                self.fail_op(frame, op)
            case _:
                raise LowerError(op.span, f"'{type(op).__name__}' cannot run in a probe body")

    def move(self, frame: Frame, op: ops.Move) -> None:
        self.write(frame, op.dest, self.read(frame, op.src), op.span)

    def arith(self, frame: Frame, op: ops.Arith) -> None:
        b = self.b
        left = self.number(self.read(frame, op.left), op.error, semantics.ARITH_NON_NUMBER, False)
        right = self.number(self.read(frame, op.right), op.error, semantics.ARITH_NON_NUMBER,
                            False)
        match op.op:
            case "+":
                result = b.add(left, right)
            case "-":
                result = b.sub(left, right)
            case "*":
                result = b.mul(left, right)
            case "/" | "%":
                message = semantics.DIVIDE_BY_ZERO if op.op == "/" else semantics.MOD_BY_ZERO
                self.fail_if(b.icmp_unsigned("==", right, i64(0)), op.error, message, True)
                result = self.signed_divide(op.op, left, right)
            case _:
                raise LowerError(op.span, f"unknown operator {op.op!r}")
        self.write(frame, op.dest, Val("int", result), op.span)

    def signed_divide(self, which: str, a: ir.Value, d: ir.Value) -> ir.Value:
        """ktap's truncating division on magnitudes: BPF's signed division needs cpu v4,
        and this also wraps INT64_MIN / -1 to INT64_MIN as the interpreter does."""
        b = self.b
        zero = i64(0)
        a_neg = b.icmp_signed("<", a, zero)
        d_neg = b.icmp_signed("<", d, zero)
        abs_a = b.select(a_neg, b.sub(zero, a), a)
        abs_d = b.select(d_neg, b.sub(zero, d), d)
        if which == "/":
            q = b.udiv(abs_a, abs_d)
            return b.select(b.xor(a_neg, d_neg), b.sub(zero, q), q)
        r = b.urem(abs_a, abs_d)
        return b.select(a_neg, b.sub(zero, r), r)

    def compare(self, frame: Frame, op: ops.Compare) -> None:
        b = self.b
        left, right = self.read(frame, op.left), self.read(frame, op.right)
        if op.op in ("==", "!="):
            result = self.equal(left, right, op.span)
            if op.op == "!=":
                result = b.not_(result)
        else:
            a = self.number(left, op.error, semantics.COMPARE_NON_NUMBER, True)
            c = self.number(right, op.error, semantics.COMPARE_NON_NUMBER, True)
            result = b.icmp_signed(op.op, self.pb.opaque(a), c)  # opaque: see `equal`
        self.write(frame, op.dest, Val("bool", b.zext(result, I64)), op.span)

    def equal(self, left: Val | Static, right: Val | Static, span: Span) -> ir.Value:
        b = self.b
        if isinstance(left, Static) or isinstance(right, Static):
            return ir.Constant(I1, int(left == right))
        if left.kind == "nil" or right.kind == "nil":
            other = right if left.kind == "nil" else left
            return b.not_(self.present(other))
        if left.kind != right.kind:
            return ir.Constant(I1, 0)
        pl, pr = self.present(left), self.present(right)
        if left.kind == "str":
            same = self.strings_equal(left.value, right.value)
        else:
            # Opaque: LLVM's InstCombine checks each comparison against every dominating
            # one on the same value, quadratic in a long if/elseif chain over one
            # variable; a distinct value per comparison keeps it linear.
            same = b.icmp_unsigned("==", self.pb.opaque(left.value), right.value)
        both = b.and_(pl, pr)
        neither = b.and_(b.not_(pl), b.not_(pr))
        return b.or_(b.and_(both, same), neither)

    def not_(self, frame: Frame, op: ops.Not) -> None:
        value = self.b.not_(self.truthy(self.read(frame, op.operand)))
        self.write(frame, op.dest, Val("bool", self.b.zext(value, I64)), op.span)

    def negate(self, frame: Frame, op: ops.Negate) -> None:
        value = self.number(self.read(frame, op.operand), op.error, semantics.NEGATE_NON_NUMBER,
                            True)
        self.write(frame, op.dest, Val("int", self.b.sub(i64(0), value)), op.span)

    # -- cells (top-level variables as globals)

    def global_of(self, frame: Frame, cell: ops.Register) -> tuple[mf.GlobalInfo, GlobalData,
                                                                    GlobalData | None]:
        slot = self.slot(frame, cell)
        assert isinstance(slot, Static) and slot.what == "global", cell
        assert isinstance(slot.ref, str)
        return self.m.globals[slot.ref]

    def load_cell(self, frame: Frame, op: ops.LoadCell) -> None:
        slot = self.slot(frame, op.cell)
        if isinstance(slot, Static) and slot.what != "global":
            self.write(frame, op.dest, slot, op.span)
            return
        info, value, present = self.global_of(frame, op.cell)
        b = self.b
        flag = None
        if present is not None:
            flag = b.icmp_unsigned("!=", b.load(present.var), i64(0))
        if info.layout == "str":
            ptr = self.new_string_unzeroed()
            self.copy_string(ptr, value.var.bitcast(VOIDP))
            self.write(frame, op.dest, Val("str", ptr, flag), op.span)
        else:
            self.write(frame, op.dest, Val(info.layout, b.load(value.var), flag), op.span)

    def new_string_unzeroed(self) -> ir.Value:
        """The next string of the scratch map; `string_slots` counted it."""
        entry, index = divmod(self.next_slot, self.m.strings_per_entry)
        self.next_slot += 1
        assert entry < len(self.scratch), "string_slots missed a string"
        return self.b.gep(self.scratch[entry], [i64(index * self.m.strlen)])

    def store_cell(self, frame: Frame, op: ops.StoreCell) -> None:
        info, value, present = self.global_of(frame, op.cell)
        val = self.read(frame, op.value)
        assert isinstance(val, Val)
        b = self.b
        if val.kind != "nil":
            if info.layout == "str":
                self.copy_string(value.var.bitcast(VOIDP), val.value)
            else:
                b.store(val.value, value.var)
        if present is not None:
            b.store(b.zext(self.present(val), I64), present.var)

    def add_cell(self, frame: Frame, op: ops.AddCell) -> None:
        info, value, present = self.global_of(frame, op.cell)
        delta = self.number(self.read(frame, op.delta), op.error, semantics.ADD_NON_NUMBER, True)
        if present is not None:
            unset = self.b.icmp_unsigned("==", self.b.load(present.var), i64(0))
            self.fail_if(unset, op.error, semantics.ADD_NON_NUMBER, True)
        self.pb.atomic_add(value.var, delta)

    # -- tables

    def table(self, frame: Frame, value: ops.Value, span: Span) -> tuple[BPFMap, mf.TableInfo]:
        t = self.read(frame, value)
        if not isinstance(t, Static) or t.what != "table" or t.ref not in self.m.tables:
            raise LowerError(span, "a probe body can only use tables created at the top level")
        assert isinstance(t.ref, int)
        return self.m.tables[t.ref]

    def key_ptr(self, frame: Frame, key: ops.Value, error: int) -> ir.Value:
        val = self.read(frame, key)
        if isinstance(val, Static) or val.kind == "nil":
            self.fail_if(ir.Constant(I1, 1), error, semantics.TABLE_NIL_INDEX, True)
            return self.pb.spill(i64(0))
        if val.present is not None:
            self.fail_if(self.b.not_(val.present), error, semantics.TABLE_NIL_INDEX, True)
        if val.kind == "str":
            return val.value
        return self.pb.spill(val.value)

    def count_drop(self, info: mf.TableInfo, rc: ir.Value) -> None:
        failed = self.b.icmp_signed("<", rc, i64(0))
        with self.b.if_then(failed, likely=False):
            ptr = self.b.gep(self.m.drops.var, [ir.Constant(I32, 0),
                                                ir.Constant(I32, info.drop_index)])
            self.pb.atomic_add(ptr, 1)

    def table_get(self, frame: Frame, op: ops.TableGet) -> None:
        bpf_map, info = self.table(frame, op.table, op.span)
        key = self.key_ptr(frame, op.key, op.error)
        found = self.pb.map_lookup_elem(bpf_map, key)
        b = self.b
        # Opaque: LLVM would merge the null checks of two lookups into an OR of the two
        # pointers (`t[a] == t[b]`), which the verifier refuses ("pointer |= pointer").
        hit = self.pb.opaque(b.not_(self.pb.is_null(found)))
        if info.value == "str":
            ptr = self.new_string_unzeroed()
            with b.if_else(hit) as (then, otherwise):
                with then:
                    self.copy_string(ptr, b.bitcast(found, VOIDP))
                with otherwise:
                    self.zero_string(ptr)
            self.write(frame, op.dest, Val("str", ptr, hit), op.span)
            return
        slot = self.pb.alloca(I64, "got")
        b.store(i64(0), slot)
        with b.if_then(hit):
            b.store(b.load(found), slot)
        self.write(frame, op.dest, Val(info.value, b.load(slot), hit), op.span)

    def table_set(self, frame: Frame, op: ops.TableSet) -> None:
        bpf_map, info = self.table(frame, op.table, op.span)
        key = self.key_ptr(frame, op.key, op.error)
        val = self.read(frame, op.value)
        assert isinstance(val, Val)
        b = self.b
        if val.kind == "nil":
            self.pb.map_delete_elem(bpf_map, key)
            return

        def update() -> None:
            if val.kind == "str":
                ptr = val.value
            else:
                ptr = self.pb.spill(val.value, Spill.VALUE)
            self.count_drop(info, self.pb.map_update_elem(bpf_map, key, ptr, 0))

        if val.present is None:
            update()
            return
        with b.if_else(val.present) as (then, otherwise):
            with then:
                update()
            with otherwise:
                self.pb.map_delete_elem(bpf_map, key)

    def table_add(self, frame: Frame, op: ops.TableAdd) -> None:
        bpf_map, info = self.table(frame, op.table, op.span)
        key = self.key_ptr(frame, op.key, op.error)
        delta = self.number(self.read(frame, op.delta), op.error, semantics.ADD_NON_NUMBER, True)
        adder = self.m.adders.get(info.site)
        if adder is None:
            adder = self.m.adders[info.site] = self.make_adder(bpf_map, info)
        self.b.call(adder, [self.b.bitcast(key, VOIDP), delta])

    def make_adder(self, bpf_map: BPFMap, info: mf.TableInfo) -> ir.Function:
        """`t[key] += delta` for one table as a BPF function of its own, which every
        `+=` on the table calls: inlined, its ~50 instructions at each of thousands of
        sites made LLVM's compile time grow faster than the script."""
        sub = self.m.bpf.subprogram(f"add_{bpf_map.spec.name}", [("key", VOIDP),
                                                                  ("delta", I64)],
                                    line=info.line)
        saved = self.pb, self.b
        self.pb, self.b = sub, sub.ir
        try:
            key, delta = sub.function.args
            if info.key != "str":
                key = self.b.bitcast(key, I64.as_pointer())
            self.add_body(bpf_map, info, key, delta)
            sub.ret(0)
        finally:
            self.pb, self.b = saved
        return sub.function

    def add_body(self, bpf_map: BPFMap, info: mf.TableInfo, key: ir.Value,
                 delta: ir.Value) -> None:
        b = self.b
        done = self.pb.function.append_basic_block("added")
        if info.slots is not None:
            self.slot_add(bpf_map, info, key, delta, done)
        # Add to an existing entry; else insert the delta (BPF_NOEXIST) and, when another
        # CPU inserted first, add to its entry. A full map drops the update and counts it.
        found = self.pb.map_lookup_elem(bpf_map, key)
        with b.if_else(self.pb.is_null(found)) as (missing, present):
            with missing:
                rc = self.pb.map_update_elem(bpf_map, key, self.pb.spill(delta, Spill.VALUE),
                                              BPF_NOEXIST)
                with b.if_then(b.icmp_signed("<", rc, i64(0)), likely=False):
                    again = self.pb.map_lookup_elem(bpf_map, key)
                    with b.if_else(self.pb.is_null(again)) as (lost, raced):
                        with lost:
                            self.count_drop(info, i64(-1))
                        with raced:
                            self.add_in_place(info, again, delta)
            with present:
                self.add_in_place(info, found, delta)
        b.branch(done)
        b.position_at_end(done)

    def slot_add(self, bpf_map: BPFMap, info: mf.TableInfo, key_ptr: ir.Value,
                 delta: ir.Value, done: ir.Block) -> None:
        """The counter-slot fast path of `+=` (backend.slots): add to this CPU's slot of
        the key when the key holds it, claim the slot when it is free; else (a collision,
        or an object loaded without resizing the slots) fall through to the hash map."""
        b, pb = self.b, self.pb
        slots = self.m.bpf.maps[str(info.slots)]
        key = b.load(key_ptr)
        cpu = b.zext(pb.get_smp_processor_id(), I64)
        hashed = b.lshr(b.mul(key, i64(HASH_MULTIPLIER)), i64(64 - SLOT_BITS))
        index = b.trunc(b.add(b.shl(cpu, i64(SLOT_BITS)), hashed), I32)
        slot = pb.map_lookup_elem(slots, pb.spill(index))
        fallback = pb.function.append_basic_block("slot_miss")
        have_slot = pb.function.append_basic_block("slot")
        b.cbranch(pb.is_null(slot), fallback, have_slot)
        b.position_at_end(have_slot)

        def field(which: int) -> ir.Value:
            return b.gep(slot, [ir.Constant(I32, 0), ir.Constant(I32, which)])

        used = b.icmp_unsigned("!=", b.load(field(USED)), i64(0))
        mine = b.and_(used, b.icmp_signed("==", b.load(field(KEY)), key))
        with b.if_else(mine, likely=True) as (hit, other):
            with hit:
                count = field(COUNT)
                b.store(b.add(b.load(count), delta), count)
                b.branch(done)
            with other:
                with b.if_then(b.not_(used)):
                    # Claim only a key the hash map holds: a full table refuses it here.
                    rc = pb.map_update_elem(bpf_map, key_ptr, pb.spill(i64(0), Spill.VALUE),
                                           BPF_NOEXIST)
                    inserted = b.or_(b.icmp_signed("==", rc, i64(0)),
                                     b.icmp_signed("==", rc, i64(-EEXIST)))
                    with b.if_else(inserted) as (claim, full):
                        with claim:
                            b.store(key, field(KEY))
                            b.store(delta, field(COUNT))
                            b.store(i64(1), field(USED))
                        with full:
                            self.count_drop(info, i64(-1))
                    b.branch(done)
                b.branch(fallback)
        b.unreachable()
        b.position_at_end(fallback)

    def add_in_place(self, info: mf.TableInfo, ptr: ir.Value, delta: ir.Value) -> None:
        """`*ptr += delta` on a map value: a plain add on a per-CPU map (only this CPU
        writes its value, and a program does not nest on its CPU), else atomic."""
        if info.percpu:
            self.b.store(self.b.add(self.b.load(ptr), delta), ptr)
        else:
            self.pb.atomic_add(ptr, delta)

    # -- calls

    def call(self, frame: Frame, op: ops.Call) -> None:
        callee = self.read(frame, op.callee)
        if not isinstance(callee, Static) or callee.what != "func":
            raise LowerError(op.span, "a probe body can only call functions known at "
                                      "compile time")
        assert isinstance(callee.ref, str)
        function = self.m.module.functions[callee.ref]
        inner = Frame(function, written_first=written_before_read(function),
                      live=frame.block_live)
        self.bind_free_cells(inner)
        for i, param in enumerate(function.params):
            arg = self.read(frame, op.args[i]) if i < len(op.args) else NIL
            self.write(inner, param, arg, op.span)
        after = self.pb.function.append_basic_block("after_" + function.name)
        inner.exit = after
        inner.result = self.slot(frame, op.dest)
        inner.result_type = op.dest.type
        self.lower_frame(inner)
        self.b.position_at_end(after)
        if isinstance(inner.result, Static):
            frame.slots[op.dest] = inner.result

    def call_builtin(self, frame: Frame, op: ops.CallBuiltin) -> None:
        args = [self.read(frame, a) for a in op.args]
        emit = BUILTIN_EMITTERS.get(op.name)
        if emit is None:
            raise LowerError(op.span, f"'{op.name}' is not available in a probe body yet")
        self.write(frame, op.dest, emit(self, op, args), op.span)

    def exit_(self, op: ops.CallBuiltin, args: list[Val | Static]) -> Val:
        self.b.store(i64(mf.STOP_EXIT), self.m.stop.var)
        self.record(mf.RECORD_EXIT, 0, [], [])
        self.pb.ret(0)
        self.b.position_at_end(self.pb.function.append_basic_block("after_exit"))
        return NIL

    def stack(self, op: ops.CallBuiltin, args: list[Val | Static]) -> Val:
        """`stack([depth [, skip]])`, `ustack(...)`: bpf_get_stackid into the module's
        stack map, packed with the depth to show (and the process of a user stack) as
        backend.layout's StackRef. An id the kernel could not give is counted by why."""
        user = op.name == "ustack"
        depth, skip = self.stack_args(op)
        b = self.b
        flags = skip | (BPF_F_USER_STACK if user else 0)
        rc = self.pb.get_stackid(self.m.stack_maps[user], flags)
        base = len(mf.STACK_LOSSES) if user else 0
        known = [(-EEXIST, 0), (-ENOMEM, 1)]
        for errno, index in known:
            with b.if_then(b.icmp_signed("==", rc, i64(errno)), likely=False):
                self.count_stack_loss(base + index)
        other = b.icmp_signed("<", rc, i64(0))
        for errno, _ in known:
            other = b.and_(other, b.icmp_signed("!=", rc, i64(errno)))
        with b.if_then(other, likely=False):
            self.count_stack_loss(base + 2)
        word = b.or_(b.and_(rc, _LOW32), i64(depth << lay.STACK_DEPTH_SHIFT))
        if user:
            tgid = b.lshr(self.pid_tgid, i64(32))
            with b.if_then(b.icmp_signed(">=", rc, i64(0))):  # a stack to name later
                self.note_stack_pid(tgid)
            word = b.or_(word, b.shl(tgid, i64(lay.STACK_PID_SHIFT)))
        return Val(op.name, word)

    def ipof(self, op: ops.CallBuiltin, args: list[Val | Static]) -> Val:
        """`ipof(addr)`: the number, marked a kernel address (named in user space)."""
        if not args:
            raise LowerError(op.span, "ipof() takes a kernel address: ipof(addr)")
        return Val("ip", self.number(args[0], op.error, "wrong type of argument 1", True))

    def stack_args(self, op: ops.CallBuiltin) -> tuple[int, int]:
        """(depth, skip) of a stack call: constants. A negative depth (ktap's -1) or
        one past the map's frames means all of them."""
        values = []
        for arg in op.args[:2]:
            if not (isinstance(arg, ops.Const) and type(arg.value) is int):
                raise LowerError(op.span, f"{op.name}() takes constant numbers: "
                                          f"{op.name}(depth, skip)")
            values.append(arg.value)
        depth = values[0] if values else -1
        skip = values[1] if len(values) > 1 else 0
        if not 0 <= skip <= STACK_MAX_SKIP:
            raise LowerError(op.span, f"{op.name}() can skip 0 to {STACK_MAX_SKIP} frames, "
                                      f"not {skip}")
        return (STACK_MAX_DEPTH if depth < 0 else min(depth, STACK_MAX_DEPTH)), skip

    def count_stack_loss(self, index: int) -> None:
        ptr = self.b.gep(self.m.stack_lost.var, [ir.Constant(I32, 0), ir.Constant(I32, index)])
        self.pb.atomic_add(ptr, 1)

    def note_stack_pid(self, tgid: ir.Value) -> None:
        """Lists the process in the pid map (once): user space opens its symbols while
        it lives, so that its stacks can still be named after it exits."""
        pids = self.m.stack_pids
        assert pids is not None
        key = self.pb.spill(self.b.trunc(tgid, I32))
        with self.b.if_then(self.pb.is_null(self.pb.map_lookup_elem(pids, key)),
                            likely=False):
            self.pb.map_update_elem(pids, key, self.pb.spill(i64(1), Spill.VALUE), BPF_NOEXIST)

    def wall_clock(self, unit_ns: int) -> ir.Value:
        """gettimeofday: the monotonic clock plus the runtime's realtime offset, so that
        deltas are exact; whole units by (unsigned) division, as the time is positive."""
        b = self.b
        ns = b.add(self.pb.ktime_get_ns(), b.load(self.m.realtime.var))
        return ns if unit_ns == 1 else b.udiv(ns, i64(unit_ns))

    def output(self, op: ops.CallBuiltin, args: list[Val | Static]) -> Val:
        template = b""
        if op.name == "printf":
            first = op.args[0] if op.args else None
            if not (isinstance(first, ops.Const) and isinstance(first.value, bytes)):
                raise LowerError(op.span, "printf in a probe body needs a constant format")
            template, args = first.value, args[1:]
        vals: list[Val] = []
        layouts: list[str] = []
        for arg in args:
            if isinstance(arg, Static):
                raise LowerError(op.span, f"cannot {op.name} a table or a function "
                                          "in a probe body")
            if arg.kind == "ip" and op.name == "print":
                raise LowerError(op.span, "print cannot show an ipof() value: "
                                          "print its symbol with printf(\"%p\", ...)")
            vals.append(arg)
            if arg.kind == "argstr":
                layouts.append(lay.argstr_layout(sum(self.argstr_sizes(op.span))))
                continue
            layouts.append(f"opt:{arg.kind}" if arg.present is not None and arg.kind != "nil"
                           else arg.kind)
        site = self.m.print_site(op.name, template, layouts, op.error)
        kind = mf.RECORD_PRINT if op.name == "print" else mf.RECORD_PRINTF
        self.record(kind, site, vals, layouts)
        return NIL

    # -- concatenation

    def string_operand(self, val: Val | Static, op: ops.Concat) -> ir.Value:
        """The i8* of a string operand of `..`, failing when it is nil."""
        if isinstance(val, Static) or val.kind not in ("str", "nil"):
            raise LowerError(op.span, f"{semantics.CONCAT_NON_STRING}: '..' takes strings")
        if val.kind == "nil":
            self.fail_if(ir.Constant(I1, 1), op.error, semantics.CONCAT_NON_STRING, True)
            return self.m.empty.var.bitcast(VOIDP)
        if val.present is not None:
            self.fail_if(self.b.not_(val.present), op.error, semantics.CONCAT_NON_STRING, True)
        assert val.value is not None
        return val.value

    def concat(self, frame: Frame, op: ops.Concat) -> None:
        """`a .. b` into a new string: `a` copied whole (a kernel string always fits),
        then as much of `b` as fits after it; a cut is counted. Both copies are
        `probe_read_kernel_str`, whose result gives `a`'s length without a loop."""
        b = self.b
        left = self.string_operand(self.read(frame, op.left), op)
        right = self.string_operand(self.read(frame, op.right), op)
        strlen = self.m.strlen
        dst = self.new_string()
        got = self.pb.probe_read_kernel_str(dst, strlen, left)
        # got is a's length with its NUL (1..strlen), or negative on a fault (never for a
        # kernel string): the offset of b, bounded for the verifier.
        offset = b.sub(got, i64(1))
        offset = self.pb.opaque(b.select(b.icmp_unsigned("<", offset, i64(strlen)), offset,
                                         i64(0)))
        room = b.sub(i64(strlen), offset)
        got = self.pb.probe_read_kernel_str(b.gep(dst, [offset]), room, right)
        # A cut anywhere in `a .. b .. c` is one cut of the whole expression: each op
        # of it raises its root's flag; the root counts it and lowers the flag.
        root = self.m.concat_root(frame.function, op)
        flag = self.cut_flags.get(id(root))
        if flag is None:
            flag = self.cut_flags[id(root)] = self.pb.alloca(I1, "cut")
            self.pb._allocas.store(ir.Constant(I1, 0), flag)
        with b.if_then(b.icmp_signed("==", got, room), likely=False):
            # b filled the room: it was cut unless its byte where the NUL went is one.
            last = self.pb.spill(ir.Constant(I8, 0))
            self.pb.probe_read_kernel(last, 1, b.gep(right, [b.sub(room, i64(1))]))
            with b.if_then(b.icmp_unsigned("!=", b.load(last), ir.Constant(I8, 0))):
                b.store(ir.Constant(I1, 1), flag)
        if root is op:
            with b.if_then(b.load(flag), likely=False):
                index = self.m.cut(op.error, CONCAT_CUT)
                self.pb.atomic_add(b.gep(self.m.cuts.var, [ir.Constant(I32, 0),
                                                           ir.Constant(I32, index)]), 1)
                b.store(ir.Constant(I1, 0), flag)
        self.write(frame, op.dest, Val("str", dst), op.span)

    # -- strings from memory

    def memory_string(self, op: ops.CallBuiltin, args: list[Val | Static]) -> Val:
        """`user_string(addr)`, `kernel_string(addr)`: the NUL-terminated string at
        `addr`, cut to the string capacity (and counted); a fault gives "" (the helper
        zeroes the buffer), as ktap's partial or empty result."""
        if len(args) != 1:
            raise LowerError(op.span, f"{op.name}() takes one argument: an address")
        addr = self.number(args[0], op.error, semantics.bad_argument(1), True)
        user = op.name == "user_string"
        ptr = self.new_string()
        src = self.b.inttoptr(addr, VOIDP)
        read_str = self.pb.probe_read_user_str if user else self.pb.probe_read_kernel_str
        got = read_str(ptr, self.m.strlen, src)
        self.count_cut(got, src, user, self.m.cut(op.error, MEMORY_STRINGS[op.name]))
        return Val("str", ptr)

    def count_cut(self, got: ir.Value, src: ir.Value, user: bool, index: int) -> None:
        """Counts a string cut by a `probe_read_*_str` of the whole capacity that
        returned `got`: it filled the buffer, and the source's byte where the buffer's
        NUL went is not a NUL (a string of exactly strlen - 1 bytes fits)."""
        b = self.b
        with b.if_then(b.icmp_signed("==", got, i64(self.m.strlen)), likely=False):
            last = self.pb.spill(ir.Constant(I8, 0))
            read = self.pb.probe_read_user if user else self.pb.probe_read_kernel
            read(last, 1, b.gep(src, [i64(self.m.strlen - 1)]))
            with b.if_then(b.icmp_unsigned("!=", b.load(last), ir.Constant(I8, 0))):
                self.pb.atomic_add(b.gep(self.m.cuts.var, [ir.Constant(I32, 0),
                                                           ir.Constant(I32, index)]), 1)

    # -- event context

    def context(self, frame: Frame, op: ops.Context) -> None:
        emit = CONTEXT_EMITTERS.get(op.name)
        if emit is None:
            raise LowerError(op.span, f"'{op.name}' is not available in a probe body yet")
        self.write(frame, op.dest, emit(self, op), op.span)

    def context_execname(self, op: ops.Context) -> Val:
        assert self.execname is not None, "uses_execname missed it"  # read once per event
        return Val("str", self.execname)

    def argstr(self, op: ops.Context) -> Val:
        self.argstr_sizes(op.span)  # only tracepoints have a record
        return Val("argstr")

    def name_index(self) -> ir.Value:
        """The event's index in the probe-name table (its attach cookie)."""
        b = self.b
        if isinstance(self.name_source, int):
            return i64(self.name_source)
        cookie = self.name_source()  # bounded below, for the verifier
        count = i64(len(self.m.manifest.names))
        return b.select(b.icmp_unsigned("<", cookie, count), cookie, i64(0))

    def probename(self) -> ir.Value:
        names = self.m.names_var
        return self.b.bitcast(self.b.gep(names, [i64(0), self.name_index()]), VOIDP)

    def argstr_sizes(self, span: Span) -> tuple[int, int]:
        """(fixed, dynamic) bytes of the record this program copies for argstr."""
        if not hasattr(self, "_argstr_sizes"):
            group = self.spec.group
            if group is None:
                raise LowerError(span, "argstr is only available in tracepoint probes: "
                                       "this event has no tracepoint record to print")
            self._argstr_sizes = copy_sizes(self.m.event_descs(group.events))
        return self._argstr_sizes

    def copy_record(self, dst: ir.Value, fixed: int, dynamic: int) -> None:
        """The tracepoint record after its common header, into `dst` (i8*)."""
        b = self.b
        if fixed:
            self.pb.probe_read_kernel(dst, fixed, self.pb.ctx_address(HEADER))
        if dynamic:
            # Apart, so that a fault past the record cannot zero the fixed fields.
            self.pb.probe_read_kernel(b.gep(dst, [i64(fixed)]), dynamic,
                                      self.pb.ctx_address(HEADER + fixed))

    def arg(self, index: int, op: ops.Context) -> Val:
        group = self.spec.group
        if group is None or index not in group.args:
            raise LowerError(op.span, f"'arg{index}' is not available for this event")
        f = group.args[index]
        if f is None:
            return NIL
        if (fetch := group.fetches.get(index)) is not None:
            return self.memory_fetch(fetch, op)
        if f.is_char_array:
            ptr = self.new_string()
            size = min(f.size, self.m.strlen - 1)
            self.pb.probe_read_kernel(ptr, size, self.pb.ctx_address(f.offset))
            if f.size > size:
                # A NUL in the field at `size` (or before it) means nothing was cut.
                src = self.pb.ctx_address(f.offset)
                self.count_cut(i64(self.m.strlen), src, False,
                               self.m.cut(op.error, context_cut(op.name)))
            return Val("str", ptr)
        if f.is_data_loc_string:
            return self.data_loc_string(f, op)
        return Val("int", self.ctx_int(f))

    def memory_fetch(self, fetch: MemoryFetch, op: ops.Context) -> Val:
        """A kprobe/uprobe fetch arg that reads memory (backend.events.MemoryFetch); a
        read that faults gives 0 (a string: "")."""
        b = self.b
        value = self.ctx_int(fetch.register)
        read = self.pb.probe_read_user if fetch.user else self.pb.probe_read_kernel
        for i, offset in enumerate(fetch.offsets):
            address = b.add(value, i64(offset))
            last = i == len(fetch.offsets) - 1
            if last and fetch.string:
                value = address
                break
            word = self.pb.spill(i64(0), Spill.VALUE)
            read(b.bitcast(word, VOIDP), fetch.size if last else 8,
                 b.inttoptr(address, VOIDP))
            value = b.load(word)
            if last and fetch.size < 8:
                narrow = b.trunc(value, ir.IntType(fetch.size * 8))
                value = b.sext(narrow, I64) if fetch.signed else b.zext(narrow, I64)
        if not fetch.string:
            return Val("int", value)
        ptr = self.new_string()
        src = b.inttoptr(value, VOIDP)
        read_str = self.pb.probe_read_user_str if fetch.user else self.pb.probe_read_kernel_str
        got = read_str(ptr, self.m.strlen, src)
        self.count_cut(got, src, fetch.user, self.m.cut(op.error, context_cut(op.name)))
        return Val("str", ptr)

    def data_loc_string(self, f: Field, op: ops.Context) -> Val:
        """A `__data_loc char[]` field: a u32 whose low half is the string's offset in
        the record (its high half the length, which a cut does not need)."""
        b = self.b
        loc = b.load(b.bitcast(b.gep(self.pb.ctx, [ir.Constant(I32, f.offset)]),
                               I32.as_pointer()))
        offset = b.zext(b.and_(loc, ir.Constant(I32, 0xFFFF)), I64)
        src = b.inttoptr(b.add(b.ptrtoint(self.pb.opaque(self.pb.ctx), I64), offset), VOIDP)
        ptr = self.new_string()
        got = self.pb.probe_read_kernel_str(ptr, self.m.strlen, src)
        self.count_cut(got, src, False, self.m.cut(op.error, context_cut(op.name)))
        return Val("str", ptr)

    # -- loops and control flow

    def start_loop_budget(self) -> None:
        """ktap's loop budget as a numeric iterator over LOOP_LIMIT values, made once per
        event and destroyed at every return: the verifier checks a loop that takes one
        value per iteration by its states converging, so a loop bounded by event data
        passes within the whole budget (a counter of our own would make the verifier
        follow the loop iteration by iteration)."""
        kfuncs = self.m.bpf.iter_num_kfuncs()
        it = self.b.bitcast(self.pb.alloca(ir.ArrayType(I64, 1), "loop_budget"), VOIDP)
        self.b.call(kfuncs.new, [it, ir.Constant(I32, 0), ir.Constant(I32, semantics.LOOP_LIMIT)])
        self.loop_budget = it
        self.pb.before_return = lambda: self.b.call(kfuncs.destroy, [it]) and None

    def loop_tick(self, frame: Frame, op: ops.LoopTick) -> None:
        assert self.loop_budget is not None, "has_loops missed a loop"
        b = self.b
        value = b.call(self.m.bpf.iter_num_kfuncs().next, [self.loop_budget])
        self.fail_if(self.pb.is_null(value), op.error, semantics.LOOP_OVER_BUDGET, True)
        # The verifier sees that a loop's iterations repeat only when the numbers they
        # carry are not known exactly: a counter compared with a constant in the body
        # (`if (i == 5)`) would make each iteration a new state. The numbers that may
        # live across blocks get a zero added that only the run knows (kllvm_zero), so
        # their values stay unknown to the verifier; nothing in a probe body needs them
        # bounded (table keys, printed values and globals take any number).
        zero = b.load(self.m.zero.var)
        for reg, slot in frame.slots.items():
            if (isinstance(slot, Slot) and slot.kind == "int" and slot.value is not None
                    and reg not in frame.written_first):
                b.store(b.add(b.load(slot.value), zero), slot.value)

    def check_number(self, frame: Frame, op: ops.CheckNumber) -> None:
        self.number(self.read(frame, op.value), op.error, semantics.FOR_NON_NUMBER, True)

    def jump(self, frame: Frame, op: ops.Jump) -> None:
        self.b.branch(self.block_of(frame, op.target))

    def branch(self, frame: Frame, op: ops.Branch) -> None:
        cond = self.truthy(self.read(frame, op.cond))
        self.b.cbranch(cond, self.block_of(frame, op.if_true), self.block_of(frame, op.if_false))

    def return_(self, frame: Frame, op: ops.Return) -> None:
        if frame.exit is None:
            self.pb.ret(0)
            return
        if frame.result is not None:
            val = self.read(frame, op.value) if op.value is not None else NIL
            if isinstance(val, Static):
                frame.result = val
            elif isinstance(frame.result, Static):
                # As in `write`: the result is bound at compile time and cannot also be
                # nil; a return that never runs binds nothing.
                if frame.block_live:
                    name = frame.function.name.split("@")[0]
                    raise LowerError(op.span, f"'{name}' returns {_static_noun(frame.result)} "
                                              "and may return nil: in a probe body it cannot "
                                              "do both")
            else:
                self.store_val(frame.result, val)
        self.b.branch(frame.exit)

    def fail_op(self, frame: Frame, op: ops.Fail) -> None:
        self.fail(op.error, self.m.module.errors[op.error].message, True)


# The kernel implementations of built-ins, by their registry names (frontend.builtins): a
# built-in that runs in the kernel has one here, which tests/frontend/test_builtins.py checks.
BuiltinEmitter = Callable[[ProgramLowering, ops.CallBuiltin, list[Val | Static]], Val]
ContextEmitter = Callable[[ProgramLowering, ops.Context], Val]


def _clock(unit_ns: int) -> BuiltinEmitter:
    return lambda self, op, args: Val("int", self.wall_clock(unit_ns))


def _arg_n(index: int) -> ContextEmitter:
    return lambda self, op: self.arg(index, op)


BUILTIN_EMITTERS: dict[str, BuiltinEmitter] = {
    "print": ProgramLowering.output,
    "printf": ProgramLowering.output,
    "exit": ProgramLowering.exit_,
    "user_string": ProgramLowering.memory_string,
    "kernel_string": ProgramLowering.memory_string,
    "stack": ProgramLowering.stack,
    "ustack": ProgramLowering.stack,
    "ipof": ProgramLowering.ipof,
    **{name: _clock(unit) for name, unit in TIME_UNITS.items()},
}
_LOW32 = i64(0xFFFFFFFF)
CONTEXT_EMITTERS: dict[str, ContextEmitter] = {
    "pid": lambda self, op: Val("int", self.b.lshr(self.pid_tgid, i64(32))),
    "tid": lambda self, op: Val("int", self.b.and_(self.pid_tgid, _LOW32)),
    "uid": lambda self, op: Val("int", self.b.and_(self.pb.get_current_uid_gid(), _LOW32)),
    "cpu": lambda self, op: Val("int", self.b.and_(self.pb.get_smp_processor_id(), _LOW32)),
    "execname": ProgramLowering.context_execname,
    "probename": lambda self, op: Val("str", self.probename()),
    "argstr": ProgramLowering.argstr,
    **{f"arg{i}": _arg_n(i) for i in range(10)},
}
