"""BPF-aware construction of llvmlite modules: maps, global data, programs, helpers.

`BPFModule` owns the llvmlite module with the BPF triple, data layout, license,
BTF-defined maps and global data. `ProgramBuilder` builds one BPF program and
wraps the helper calls; its `ir` attribute is the plain llvmlite IRBuilder for
ordinary arithmetic and control flow. Helper ids appear nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import TypeAlias

from llvmlite import ir

from backend import bpftarget
from backend.bpfabi import BPF_NOEXIST
from backend.debuginfo import DebugInfo, DIValue, MapField
from backend.helpers import I8, I32, I64, VOIDP, Helper

LICENSE = "GPL"  # GPL-only helpers (probe_read_*, get_stackid, ...) need it.


class MapType(IntEnum):
    HASH = 1
    ARRAY = 2
    PERF_EVENT_ARRAY = 4
    PERCPU_HASH = 5
    PERCPU_ARRAY = 6
    STACK_TRACE = 7
    RINGBUF = 27


PERF_MAX_STACK_DEPTH = 127


@dataclass(frozen=True)
class MapSpec:
    """What the loader and the manifest need to know about a map."""

    name: str
    type: MapType
    key_size: int
    value_size: int
    max_entries: int
    flags: int = 0


@dataclass(frozen=True)
class BPFMap:
    """A map declared in the module, with its key and value types (None when given as sizes)."""

    spec: MapSpec
    var: ir.GlobalVariable
    key_type: ir.Type | None
    value_type: ir.Type | None


@dataclass(frozen=True)
class GlobalData:
    """A global variable of the BPF object, in `.data`, `.bss` or `.rodata`."""

    name: str
    section: str  # ".data", ".bss" or ".rodata"
    type: ir.Type
    var: ir.GlobalVariable


# A map key or value: an llvmlite type (BTF `__type`) or a byte size (`__uint(key_size, N)`).
KeyOrSize: TypeAlias = ir.Type | int


@dataclass(frozen=True)
class IterNum:
    """The numeric iterator's kfuncs (`BPFModule.iter_num_kfuncs`)."""

    new: ir.Function  # (it, start, end) -> 0 or -errno
    next: ir.Function  # (it) -> int*, NULL when exhausted
    destroy: ir.Function  # (it)


class Spill(Enum):
    """The stack slots that hold values for helpers taking pointers: a map key and a map
    value can be needed by the same call, so they never share a slot."""

    KEY = "key"
    VALUE = "value"


class KfuncDeclaration(ir.Function):  # type: ignore[misc]  # llvmlite is untyped
    """An external kernel function, called like a helper and resolved by libbpf through
    BTF. llvmlite prints a declaration's `!dbg` after its prototype, which LLVM only
    accepts right after `declare`."""

    def descr_prototype(self, buf: list[str]) -> None:
        args = ", ".join(str(a) for a in self.args)
        buf.append(f"declare {self._stringify_metadata()} {self.return_value} "
                   f'{self.get_reference()}({args}) section "{self.section}"\n')


class BPFModule:
    """A BPF object in the making. Print it with `llvm_ir()` (or hand it to
    `codegen`), not `str(self.module)`: that would lack the argument names the
    kernel needs in BTF (see `DebugInfo.finalized`)."""

    def __init__(self, name: str, filename: str = "<kllvm>", source: str | None = None,
                 directory: str = "", tapsets: Mapping[str, str] | None = None) -> None:
        self.module = ir.Module(name)
        # The text of the tapsets whose lines the code may be located at, by path.
        self.tapsets: Mapping[str, str] = tapsets or {}
        self.module.triple = bpftarget.TRIPLE
        self.module.data_layout = bpftarget.DATA_LAYOUT
        self.debug = DebugInfo(self.module, filename, directory, source)
        self.maps: dict[str, BPFMap] = {}
        self.globals: dict[str, GlobalData] = {}
        self.programs: dict[str, ProgramBuilder] = {}
        self._passthrough: dict[str, ir.Function] = {}
        self._passthrough_calls = 0
        self._iter_num: IterNum | None = None
        self._license()

    def _license(self) -> None:
        data = bytearray(LICENSE.encode() + b"\0")
        gv = ir.GlobalVariable(self.module, ir.ArrayType(I8, len(data)), "_license")
        gv.initializer = ir.Constant(gv.value_type, data)
        gv.section = "license"

    def sizeof(self, ty: ir.Type) -> int:
        return self.debug.size_bits(ty) // 8

    # -- maps ----------------------------------------------------------------

    def _declare_map(self, spec: MapSpec, fields: list[MapField], line: int,
                     key_type: ir.Type | None, value_type: ir.Type | None) -> BPFMap:
        if spec.name in self.maps or spec.name in self.globals:
            raise ValueError(f"duplicate BPF symbol {spec.name!r}")
        # The global's contents are never read: libbpf takes everything from
        # its BTF. It only has to be as large as the definition struct.
        ty = ir.LiteralStructType([VOIDP] * len(fields))
        gv = ir.GlobalVariable(self.module, ty, spec.name)
        gv.initializer = ir.Constant(ty, None)
        gv.section = ".maps"
        gv.align = 8
        self.debug.global_variable(gv, self.debug.map_definition(fields), line)
        bpf_map = BPFMap(spec, gv, key_type, value_type)
        self.maps[spec.name] = bpf_map
        return bpf_map

    def _kv_field(self, which: str, kv: KeyOrSize) -> tuple[MapField, int, ir.Type | None]:
        if isinstance(kv, int):
            return MapField(f"{which}_size", kv), kv, None
        return MapField(which, self.debug.type_for(kv)), self.sizeof(kv), kv

    def _keyed_map(self, name: str, type_: MapType, key: KeyOrSize, value: KeyOrSize,
                   max_entries: int, flags: int, line: int) -> BPFMap:
        key_field, key_size, key_type = self._kv_field("key", key)
        value_field, value_size, value_type = self._kv_field("value", value)
        fields = [MapField("type", int(type_)), MapField("max_entries", max_entries),
                  key_field, value_field]
        if flags:
            fields.append(MapField("map_flags", flags))
        spec = MapSpec(name, type_, key_size, value_size, max_entries, flags)
        return self._declare_map(spec, fields, line, key_type, value_type)

    def hash_map(self, name: str, key: KeyOrSize, value: KeyOrSize, max_entries: int, *,
                 percpu: bool = False, flags: int = 0, line: int = 0) -> BPFMap:
        """`key`/`value` are llvmlite types (BTF `__type`) or byte sizes (`key_size`)."""
        type_ = MapType.PERCPU_HASH if percpu else MapType.HASH
        return self._keyed_map(name, type_, key, value, max_entries, flags, line)

    def array_map(self, name: str, value: KeyOrSize, max_entries: int, *,
                  percpu: bool = False, flags: int = 0, line: int = 0) -> BPFMap:
        type_ = MapType.PERCPU_ARRAY if percpu else MapType.ARRAY
        return self._keyed_map(name, type_, I32, value, max_entries, flags, line)

    def stack_trace_map(self, name: str, max_entries: int, *, line: int = 0) -> BPFMap:
        value_size = PERF_MAX_STACK_DEPTH * 8
        return self._keyed_map(name, MapType.STACK_TRACE, 4, value_size, max_entries, 0, line)

    def ringbuf(self, name: str, size: int, *, line: int = 0) -> BPFMap:
        """`size` in bytes: a power of two and a multiple of the page size."""
        if size <= 0 or size & (size - 1):
            raise ValueError(f"ring buffer size {size} is not a power of two")
        fields = [MapField("type", int(MapType.RINGBUF)), MapField("max_entries", size)]
        return self._declare_map(MapSpec(name, MapType.RINGBUF, 0, 0, size), fields, line,
                                 None, None)

    # -- global data ----------------------------------------------------------

    def _declare_global(self, name: str, section: str, ty: ir.Type,
                        init: ir.Constant | None, signed: bool, line: int) -> GlobalData:
        if name in self.maps or name in self.globals:
            raise ValueError(f"duplicate BPF symbol {name!r}")
        gv = ir.GlobalVariable(self.module, ty, name)
        gv.initializer = init if init is not None else ir.Constant(ty, None)
        gv.section = section
        gv.align = 8
        self.debug.global_variable(gv, self.debug.type_for(ty, signed), line)
        data = GlobalData(name, section, ty, gv)
        self.globals[name] = data
        return data

    def global_variable(self, name: str, ty: ir.Type, init: ir.Constant | None = None, *,
                        signed: bool = False, line: int = 0) -> GlobalData:
        """A writable global: `.data` when it has an initial value, else `.bss`."""
        section = ".bss" if init is None else ".data"
        return self._declare_global(name, section, ty, init, signed, line)

    def rodata(self, name: str, ty: ir.Type, init: ir.Constant, *, signed: bool = False,
               line: int = 0) -> GlobalData:
        """Read-only for programs and settable by the loader before load.

        Deliberately not an LLVM `constant`: llvmlite has no volatile loads, and
        LLVM would fold a constant's initial value into the code.
        """
        return self._declare_global(name, ".rodata", ty, init, signed, line)

    # -- kernel functions -----------------------------------------------------------

    def iter_num_kfuncs(self) -> IterNum:
        """The numeric iterator's kfuncs (kernel 6.4+: bpf_iter_num_new, _next and
        _destroy), declared once. The verifier checks a loop that calls `next` each
        iteration by its states converging, not iteration by iteration."""
        if self._iter_num is None:
            debug = self.debug
            u64 = debug.basic_type("unsigned long long", 64, False)
            it = debug.pointer(debug.struct("bpf_iter_num", [("__opaque", u64, 64, 0)], 64))
            int_ty = debug.basic_type("int", 32, True)

            def kfunc(name: str, ret: ir.Type, ret_di: DIValue | None,
                      params: list[tuple[str, ir.Type, DIValue]]) -> ir.Function:
                fn = KfuncDeclaration(self.module, ir.FunctionType(ret, [t for _, t, _ in params]),
                                      name)
                fn.section = ".ksyms"
                debug.declaration(fn, ret_di, [(n, di) for n, _, di in params])
                return fn

            self._iter_num = IterNum(
                kfunc("bpf_iter_num_new", I32, int_ty,
                      [("it", VOIDP, it), ("start", I32, int_ty), ("end", I32, int_ty)]),
                kfunc("bpf_iter_num_next", VOIDP, debug.pointer(int_ty), [("it", VOIDP, it)]),
                kfunc("bpf_iter_num_destroy", ir.VoidType(), None, [("it", VOIDP, it)]))
        return self._iter_num

    # -- programs ---------------------------------------------------------------

    def program(self, name: str, section: str, *, line: int = 0,
                ctx_name: str = "ctx") -> ProgramBuilder:
        """`section` is libbpf's: `tracepoint/<sys>/<ev>`, `raw_tracepoint/<ev>`,
        `perf_event`, `uprobe/...`, `uretprobe/...`."""
        if name in self.programs:
            raise ValueError(f"duplicate program {name!r}")
        prog = ProgramBuilder(self, name, section, line, [(ctx_name, VOIDP)])
        self.programs[name] = prog
        return prog

    def subprogram(self, name: str, params: list[tuple[str, ir.Type]], *,
                   line: int = 0) -> ProgramBuilder:
        """A static BPF function in `.text`, called from programs (libbpf copies it into
        each); never inlined, so that code repeated at many call sites is made once.
        Parameters are pointers or i64; it returns an i32."""
        if name in self.programs:
            raise ValueError(f"duplicate function {name!r}")
        sub = ProgramBuilder(self, name, ".text", line, params, static=True)
        self.programs[name] = sub
        return sub

    def passthrough(self, ty: ir.Type) -> tuple[ir.Function, int]:
        """`llvm.bpf.passthrough` for values of `ty` (the BPF backend drops it before
        instruction selection, after optimisation) and a sequence number of its own for
        each call, which keeps calls on the same value apart."""
        mangled = "p0" if isinstance(ty, ir.PointerType) else str(ty)
        fn = self._passthrough.get(mangled)
        if fn is None:
            fn = self._passthrough[mangled] = ir.Function(
                self.module, ir.FunctionType(ty, [I32, ty]),
                f"llvm.bpf.passthrough.{mangled}.{mangled}")
        self._passthrough_calls += 1
        return fn, self._passthrough_calls

    def llvm_ir(self) -> str:
        with self.debug.finalized():
            return str(self.module)

    def __str__(self) -> str:
        return self.llvm_ir()


class ProgramBuilder:
    """One BPF program: `i32 name(i8* ctx)` in its own ELF section.

    `ir` is the llvmlite IRBuilder positioned in the program body.
    """

    def __init__(self, bpf: BPFModule, name: str, section: str, line: int,
                 params: list[tuple[str, ir.Type]], static: bool = False) -> None:
        self.bpf = bpf
        self.name = name
        self.section = section
        fnty = ir.FunctionType(I32, [t for _, t in params])
        self.function = ir.Function(bpf.module, fnty, name)
        self.function.section = section
        # Without nounwind LLVM emits an .eh_frame section.
        self.function.attributes.add("nounwind")
        if static:
            self.function.linkage = "internal"
            self.function.attributes.add("noinline")
        for arg, (param, _) in zip(self.function.args, params, strict=True):
            arg.name = param
        debug = bpf.debug
        long = debug.basic_type("long", 64, True)
        self.subprogram = debug.subprogram(
            self.function, line, debug.basic_type("int", 32, True),
            [(param, debug.void_ptr if isinstance(t, ir.PointerType) else long)
             for param, t in params], static,
        )
        # Allocas live in an entry block of their own, ahead of its branch to the
        # body: an alloca anywhere else is a dynamic stack allocation, which the
        # BPF backend refuses. O2 merges the two blocks.
        entry = self.function.append_basic_block("entry")
        body = self.function.append_basic_block("body")
        self._allocas = ir.IRBuilder(entry)
        self._allocas.position_before(self._allocas.branch(body))
        self._spills: dict[tuple[Spill, str], ir.AllocaInstr] = {}
        # Emitted before every return from here on (`ret`): releases what the program
        # holds, which the verifier requires.
        self.before_return: Callable[[], None] | None = None
        self.ir = ir.IRBuilder(body)
        self._script_location = debug.location(self.subprogram, line)
        self.set_location(line)

    @property
    def ctx(self) -> ir.Argument:
        return self.function.args[0]

    def opaque(self, value: ir.Value) -> ir.Value:
        """`value`, through a call LLVM's optimiser cannot see into: it keeps LLVM from
        rewriting code into forms the verifier refuses."""
        fn, seq = self.bpf.passthrough(value.type)
        return self.ir.call(fn, [ir.Constant(I32, seq), value])

    def ctx_address(self, offset: int) -> ir.Value:
        """`ctx + offset` for a helper to read from (probe_read_kernel). Made from an
        opaque copy of ctx: were it the same value as the address of a context load at
        that offset, LLVM could keep it in a register and load through it, which the
        verifier refuses ("dereference of modified ctx ptr")."""
        return self.ir.gep(self.opaque(self.ctx), [ir.Constant(I32, offset)])

    def set_location(self, line: int, column: int = 0, file: str = "") -> None:
        """Attach this source position to every instruction emitted next; `file` names a
        tapset the line is in ("" for the script)."""
        debug = self.bpf.debug
        if not file:
            self._script_location = debug.location(self.subprogram, line, column)
            self.ir.debug_metadata = self._script_location
            return
        # A tapset's line, as if inlined at the script line that led to it.
        scope = debug.tapset_scope(file, self.bpf.tapsets.get(file))
        self.ir.debug_metadata = debug.location(scope, line, column,
                                                inlined_at=self._script_location)

    # -- stack ---------------------------------------------------------------

    def alloca(self, ty: ir.Type, name: str = "") -> ir.AllocaInstr:
        return self._allocas.alloca(ty, name=name)

    def spill(self, value: ir.Value, role: Spill = Spill.KEY) -> ir.AllocaInstr:
        """A stack slot holding `value`, for helpers that take pointers; valid until the
        next spill of the same role and type. Slots are shared because LLVM gives every
        address-taken alloca a stack slot of its own (there are no lifetime markers):
        a body of a few dozen `t[k] += 1` would outgrow the 512-byte BPF stack."""
        key = (role, str(value.type))
        slot = self._spills.get(key)
        if slot is None:
            slot = self._spills[key] = self.alloca(value.type, role.value)
        self.ir.store(value, slot)
        return slot

    # -- helpers -------------------------------------------------------------

    def _coerce(self, value: ir.Value | int, ty: ir.Type) -> ir.Value:
        if isinstance(value, int):
            return ir.Constant(ty, value) if isinstance(ty, ir.IntType) \
                else ir.Constant(I64, value).inttoptr(ty)
        if value.type == ty:
            return value
        if isinstance(ty, ir.PointerType):
            if isinstance(value.type, ir.IntType):
                return self.ir.inttoptr(value, ty)
            return self.ir.bitcast(value, ty)
        if isinstance(value.type, ir.PointerType):
            return self.ir.ptrtoint(value, ty)
        if value.type.width < ty.width:
            return self.ir.zext(value, ty)
        return self.ir.trunc(value, ty)

    def call_helper(self, helper: Helper, *args: ir.Value | int) -> ir.Value:
        sig = helper.value
        fnty = sig.function_type()
        if len(args) != len(sig.args):
            raise TypeError(f"{helper.name} takes {len(sig.args)} arguments")
        # A constant-expression callee: an inttoptr instruction can be hoisted
        # into a register, and the resulting `callx` is rejected by the kernel.
        callee = ir.Constant(I64, sig.id).inttoptr(fnty.as_pointer())
        # llvmlite's CallInstr reads `function_type`, which only named values have.
        callee.function_type = fnty
        return self.ir.call(callee, [self._coerce(a, t) for a, t in zip(args, sig.args,
                                                                          strict=True)])

    def _map_ptr(self, bpf_map: BPFMap) -> ir.Value:
        return bpf_map.var.bitcast(VOIDP)

    def map_lookup_elem(self, bpf_map: BPFMap, key_ptr: ir.Value) -> ir.Value:
        """Pointer to the value (typed when the map's value type is known), or null."""
        ptr = self.call_helper(Helper.MAP_LOOKUP_ELEM, self._map_ptr(bpf_map), key_ptr)
        if bpf_map.value_type is not None:
            return self.ir.bitcast(ptr, bpf_map.value_type.as_pointer())
        return ptr

    def map_update_elem(self, bpf_map: BPFMap, key_ptr: ir.Value, value_ptr: ir.Value,
                        flags: int | ir.Value = 0) -> ir.Value:
        return self.call_helper(Helper.MAP_UPDATE_ELEM, self._map_ptr(bpf_map), key_ptr,
                                value_ptr, flags)

    def map_delete_elem(self, bpf_map: BPFMap, key_ptr: ir.Value) -> ir.Value:
        return self.call_helper(Helper.MAP_DELETE_ELEM, self._map_ptr(bpf_map), key_ptr)

    def is_null(self, ptr: ir.Value) -> ir.Value:
        return self.ir.icmp_unsigned("==", ptr, ir.Constant(ptr.type, None))

    def map_add(self, bpf_map: BPFMap, key_ptr: ir.Value, delta: ir.Value | int) -> None:
        """`map[key] += delta` with a missing key counting as 0.

        Lookup; on a miss insert zero with BPF_NOEXIST (losing a race to another
        CPU is fine: the entry then exists) and look up again; then add
        atomically. If the map is full the second lookup misses and the add is
        dropped.
        """
        value_type = bpf_map.value_type
        if not isinstance(value_type, ir.IntType):
            raise TypeError("map_add needs a map with an integer value type")
        found = self.map_lookup_elem(bpf_map, key_ptr)
        slot = self.alloca(found.type, "slot")
        self.ir.store(found, slot)
        with self.ir.if_then(self.is_null(found), likely=False):
            zero = self.spill(ir.Constant(value_type, 0), Spill.VALUE)
            self.map_update_elem(bpf_map, key_ptr, zero, BPF_NOEXIST)
            self.ir.store(self.map_lookup_elem(bpf_map, key_ptr), slot)
        ptr = self.ir.load(slot)
        with self.ir.if_then(self.ir.not_(self.is_null(ptr)), likely=True):
            self.atomic_add(ptr, delta)

    def atomic_add(self, ptr: ir.Value, delta: ir.Value | int) -> None:
        """Atomic `*ptr += delta`, result unused: BPF `lock *(u64 *)(r) += v`."""
        self.ir.atomic_rmw("add", ptr, self._coerce(delta, ptr.type.pointee), "monotonic")

    def atomic_fetch_add(self, ptr: ir.Value, delta: ir.Value | int) -> ir.Value:
        """Atomic `*ptr += delta` returning the old value (BPF `atomic_fetch_add`).

        seq_cst, not monotonic: LLVM 22 lowers a monotonic atomicrmw whose
        result is used to the no-fetch instruction and "returns" the addend
        (llvm/llvm-project#210280). Fetch atomics are full barriers in BPF anyway.
        """
        return self.ir.atomic_rmw("add", ptr, self._coerce(delta, ptr.type.pointee), "seq_cst")

    def ringbuf_output(self, bpf_map: BPFMap, data_ptr: ir.Value, size: int | None = None,
                       flags: int = 0) -> ir.Value:
        """Copy `size` bytes (default: the pointee's size) into the ring buffer."""
        if size is None:
            size = self.bpf.sizeof(data_ptr.type.pointee)
        return self.call_helper(Helper.RINGBUF_OUTPUT, self._map_ptr(bpf_map), data_ptr,
                                size, flags)

    def ringbuf_reserve(self, bpf_map: BPFMap, ty: ir.Type) -> ir.Value:
        """A `ty*` into the ring buffer, or null; submit or discard it on every path."""
        ptr = self.call_helper(Helper.RINGBUF_RESERVE, self._map_ptr(bpf_map),
                               self.bpf.sizeof(ty), 0)
        return self.ir.bitcast(ptr, ty.as_pointer())

    def ringbuf_submit(self, ptr: ir.Value, flags: int = 0) -> None:
        self.call_helper(Helper.RINGBUF_SUBMIT, ptr, flags)

    def ringbuf_discard(self, ptr: ir.Value, flags: int = 0) -> None:
        self.call_helper(Helper.RINGBUF_DISCARD, ptr, flags)

    def get_current_pid_tgid(self) -> ir.Value:
        """u64: tgid (the user-visible pid) in the high half, thread id in the low."""
        return self.call_helper(Helper.GET_CURRENT_PID_TGID)

    def get_current_uid_gid(self) -> ir.Value:
        """u64: gid in the high half, uid in the low."""
        return self.call_helper(Helper.GET_CURRENT_UID_GID)

    def get_current_comm(self, buf_ptr: ir.Value, size: int | None = None) -> ir.Value:
        if size is None:
            size = self.bpf.sizeof(buf_ptr.type.pointee)
        return self.call_helper(Helper.GET_CURRENT_COMM, buf_ptr, size)

    def get_smp_processor_id(self) -> ir.Value:
        return self.call_helper(Helper.GET_SMP_PROCESSOR_ID)

    def ktime_get_ns(self) -> ir.Value:
        return self.call_helper(Helper.KTIME_GET_NS)

    def probe_read_kernel(self, dst: ir.Value, size: int | ir.Value,
                          src: ir.Value | int) -> ir.Value:
        return self.call_helper(Helper.PROBE_READ_KERNEL, dst, size, src)

    def probe_read_user(self, dst: ir.Value, size: int | ir.Value,
                        src: ir.Value | int) -> ir.Value:
        return self.call_helper(Helper.PROBE_READ_USER, dst, size, src)

    def probe_read_kernel_str(self, dst: ir.Value, size: int | ir.Value,
                              src: ir.Value | int) -> ir.Value:
        """Length including the NUL on success, negative errno on failure."""
        return self.call_helper(Helper.PROBE_READ_KERNEL_STR, dst, size, src)

    def probe_read_user_str(self, dst: ir.Value, size: int | ir.Value,
                            src: ir.Value | int) -> ir.Value:
        return self.call_helper(Helper.PROBE_READ_USER_STR, dst, size, src)

    def get_stackid(self, stack_map: BPFMap, flags: int = 0) -> ir.Value:
        """Stack id (>= 0) or a negative errno (-EFAULT: no stack of that kind)."""
        return self.call_helper(Helper.GET_STACKID, self.ctx, self._map_ptr(stack_map), flags)

    def ret(self, value: int = 0) -> None:
        """Return from the program. Tracing programs return 0: a non-zero return
        also pushes every event through perf's own tracepoint path, at a cost.
        `before_return` (an iterator's destroy) runs first."""
        if self.before_return is not None:
            self.before_return()
        self.ir.ret(ir.Constant(I32, value))

