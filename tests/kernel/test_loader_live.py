"""Live: compile with llvmlite, load through the real verifier with libbpf,
attach, trigger events from this process and check exact numbers."""

from __future__ import annotations

import ctypes as ct
import os
import struct
from collections.abc import Callable, Iterator

import pytest
from llvmlite import ir

from backend import codegen
from backend.bpfbuilder import BPFModule, GlobalData, ProgramBuilder
from backend.helpers import I32, I64
from backend.loader import BPFObject, LoadError
from backend.ringbuf import RingBuffer
from backend.tracefs import ensure_tracefs

pytestmark = pytest.mark.needs_root

N = 1000
SYS_GETPID = 39
SYS_GETPPID = 110
LIBC = ct.CDLL(None, use_errno=True)


def getpid_syscalls(n: int, nr: int = SYS_GETPID) -> None:
    # A raw syscall: exactly one sys_enter event per call.
    for _ in range(n):
        LIBC.syscall(nr)


@pytest.fixture(scope="module", autouse=True)
def tracefs() -> None:
    ensure_tracefs()


@pytest.fixture
def me() -> int:
    """Our tgid, taken before anything is attached (getpid is a real syscall)."""
    return os.getpid()


@pytest.fixture
def load() -> Iterator[Callable[[BPFModule, str], BPFObject]]:
    opened: list[BPFObject] = []

    def _load(bpf: BPFModule, name: str) -> BPFObject:
        obj = BPFObject.open(codegen.compile_object(bpf), name)
        opened.append(obj)
        return obj

    yield _load
    for obj in opened:
        obj.close()


def tgid_of(prog: ProgramBuilder) -> ir.Value:
    return prog.ir.trunc(prog.ir.lshr(prog.get_current_pid_tgid(), ir.Constant(I64, 32)), I32)


def only_target(prog: ProgramBuilder, target: GlobalData) -> None:
    """Continue only for the tgid in `target`; return 0 for everyone else."""
    other = prog.ir.icmp_unsigned("!=", tgid_of(prog), prog.ir.load(target.var))
    with prog.ir.if_then(other):
        prog.ret(0)


def hash_counter() -> BPFModule:
    bpf = BPFModule("counter", "count.kp")
    counts = bpf.hash_map("counts", I32, I64, 10240, line=1)
    prog = bpf.program("count_getpid", "tracepoint/syscalls/sys_enter_getpid", line=2)
    prog.set_location(3)
    prog.map_add(counts, prog.spill(tgid_of(prog)), 1)
    prog.ret(0)
    return bpf


def test_hash_map_counts_exactly(load: Callable, me: int) -> None:
    assert codegen.compile_object(hash_counter()) == codegen.compile_object(hash_counter())
    obj = load(hash_counter(), "counter")
    obj.load()
    counts = obj.map("counts")
    assert (counts.key_size, counts.value_size, counts.max_entries) == (4, 8, 10240)
    link = obj.program("count_getpid").attach_tracepoint("syscalls", "sys_enter_getpid")
    getpid_syscalls(N)
    link.destroy()
    key = struct.pack("<I", me)
    assert struct.unpack("<Q", counts.lookup(key)) == (N,)
    assert dict(counts.items())[key] == struct.pack("<Q", N)
    assert dict(counts.lookup_batch())[key] == struct.pack("<Q", N)
    assert counts.delete(key) and counts.lookup(key) is None and not counts.delete(key)
    assert obj.warnings == []


def globals_module() -> BPFModule:
    bpf = BPFModule("globals", "globals.kp")
    target = bpf.rodata("target", I32, ir.Constant(I32, 0), line=1)
    hits = bpf.global_variable("hits", I64, line=2)
    step = bpf.global_variable("step", I64, ir.Constant(I64, 1), line=3)
    prog = bpf.program("on_getpid", "tracepoint/syscalls/sys_enter_getpid", line=4)
    prog.set_location(5)
    only_target(prog, target)
    prog.atomic_add(hits.var, 1)
    prog.atomic_add(step.var, 1)
    prog.ret(0)
    return bpf


def test_global_data_live_through_mmap(load: Callable, me: int) -> None:
    obj = load(globals_module(), "globals")
    obj.set_global("target", struct.pack("<I", me))
    obj.set_global("step", struct.pack("<Q", 5))
    obj.load()
    data, bss = obj.global_section(".data"), obj.global_section(".bss")
    assert (data.read_int("step"), bss.read_int("hits")) == (5, 0)
    assert obj.global_section(".rodata").read_int("target") == me
    obj.program("on_getpid").attach()  # auto-attach from the section name
    getpid_syscalls(N)
    assert (bss.read_int("hits"), data.read_int("step")) == (N, 5 + N)
    bss.write_int("hits", 100_000)  # user space writes are seen by the program
    getpid_syscalls(10)
    assert (bss.read_int("hits"), data.read_int("step")) == (100_010, 15 + N)
    assert obj.warnings == []


RECORD = struct.Struct("<IIQ")  # tgid, tag, seq


def ringbuf_module() -> BPFModule:
    bpf = BPFModule("events", "events.kp")
    target = bpf.rodata("target", I32, ir.Constant(I32, 0))
    seq = bpf.global_variable("seq", I64)
    events = bpf.ringbuf("events", 1 << 16)
    record = ir.LiteralStructType([I32, I32, I64])

    def fill(prog: ProgramBuilder, ptr: ir.Value, tag: int) -> None:
        zero = ir.Constant(I32, 0)
        b = prog.ir
        b.store(tgid_of(prog), b.gep(ptr, [zero, zero]))
        b.store(ir.Constant(I32, tag), b.gep(ptr, [zero, ir.Constant(I32, 1)]))
        b.store(prog.atomic_fetch_add(seq.var, 1), b.gep(ptr, [zero, ir.Constant(I32, 2)]))

    # A record built on the stack and copied with bpf_ringbuf_output.
    out = bpf.program("emit_getpid", "tracepoint/syscalls/sys_enter_getpid", line=1)
    only_target(out, target)
    rec = out.alloca(record, "rec")
    fill(out, rec, 1)
    out.ringbuf_output(events, rec)
    out.ret(0)
    # A record written in place with reserve/submit.
    res = bpf.program("emit_getppid", "tracepoint/syscalls/sys_enter_getppid", line=2)
    only_target(res, target)
    slot = res.ringbuf_reserve(events, record)
    with res.ir.if_then(res.ir.not_(res.is_null(slot))):
        fill(res, slot, 2)
        res.ringbuf_submit(slot)
    res.ret(0)
    return bpf


def test_ring_buffer_records(load: Callable, me: int) -> None:
    obj = load(ringbuf_module(), "events")
    obj.set_global("target", struct.pack("<I", me))
    obj.load()
    obj.program("emit_getpid").attach_tracepoint("syscalls", "sys_enter_getpid")
    obj.program("emit_getppid").attach_tracepoint("syscalls", "sys_enter_getppid")
    getpid_syscalls(N)
    getpid_syscalls(10, SYS_GETPPID)
    records: list[tuple[int, int, int]] = []
    with RingBuffer(obj.map("events"), lambda data: records.append(RECORD.unpack(data))) as rb:
        while len(records) < N + 10 and rb.poll(100) > 0:
            pass
        assert rb.consume() == 0
    assert records == [(me, 1, i) for i in range(N)] + [(me, 2, N + i) for i in range(10)]
    assert obj.warnings == []


def test_raw_tracepoint_and_uprobe(load: Callable, me: int) -> None:
    bpf = BPFModule("probes", "probes.kp")
    target = bpf.rodata("target", I32, ir.Constant(I32, 0))
    raw_hits = bpf.global_variable("raw_hits", I64)
    uprobe_hits = bpf.global_variable("uprobe_hits", I64)
    raw = bpf.program("on_sys_enter", "raw_tracepoint/sys_enter")
    only_target(raw, target)
    # struct bpf_raw_tracepoint_args { u64 args[]; }: args[1] is the syscall number.
    args = raw.ir.bitcast(raw.ctx, I64.as_pointer())
    nr = raw.ir.load(raw.ir.gep(args, [ir.Constant(I32, 1)]))
    with raw.ir.if_then(raw.ir.icmp_unsigned("==", nr, ir.Constant(I64, SYS_GETPID))):
        raw.atomic_add(raw_hits.var, 1)
    raw.ret(0)
    up = bpf.program("on_getpid_call", "uprobe")
    up.atomic_add(uprobe_hits.var, 1)
    up.ret(0)

    obj = load(bpf, "probes")
    obj.set_global("target", struct.pack("<I", me))
    obj.load()
    path, offset = resolve_symbol("c", "getpid")
    obj.program("on_sys_enter").attach_raw_tracepoint("sys_enter")
    obj.program("on_getpid_call").attach_uprobe(path, offset, pid=me)
    getpid_syscalls(N)  # syscalls only: no call of libc's getpid()
    for _ in range(N // 2):
        LIBC.getpid()
    bss = obj.global_section(".bss")
    assert (bss.read_int("raw_hits"), bss.read_int("uprobe_hits")) == (N + N // 2, N // 2)
    assert obj.warnings == []


def resolve_symbol(library: str, symbol: str) -> tuple[str, int]:
    """File path and offset of a function, resolved by libbcc."""
    from bcc import libbcc

    sym = libbcc.bcc_symbol()
    rc = libbcc.lib.bcc_resolve_symname(library.encode(), symbol.encode(), 0, 0, None,
                                        ct.byref(sym))
    assert rc == 0, f"cannot resolve {library}:{symbol}"
    path = ct.cast(sym.module, ct.c_char_p).value.decode()
    libbcc.lib.bcc_procutils_free(sym.module)
    return path, sym.offset


BAD_SOURCE = """var t = {}
trace syscalls:sys_enter_getpid {
    var key = 1
    print(t[key] + 1)
}
"""


def test_verifier_error_names_the_script_line(load: Callable) -> None:
    bpf = BPFModule("bad", "bad.kp", BAD_SOURCE)
    t = bpf.hash_map("t", I32, I64, 16, line=1)
    prog = bpf.program("bad_prog", "tracepoint/syscalls/sys_enter_getpid", line=2)
    prog.set_location(3, 5)
    key = prog.spill(ir.Constant(I32, 1))
    prog.set_location(4, 11)
    value = prog.map_lookup_elem(t, key)  # dereferenced below without a NULL check
    prog.ir.store(prog.ir.add(prog.ir.load(value), ir.Constant(I64, 1)), value)
    prog.ret(0)
    obj = load(bpf, "bad")
    with pytest.raises(LoadError) as info:
        obj.load()
    err = info.value
    assert "bad_prog" in err.summary and "Permission denied" in err.summary
    assert "invalid mem access 'map_value_or_null'" in err.log
    # The kernel prints each line-info record as `; <text> @ <file>:<line>`,
    # the text coming from the DIFile source embedded into the BTF.
    assert "; print(t[key] + 1) @ bad.kp:4" in err.log
    assert "; var key = 1 @ bad.kp:3" in err.log
    assert "bad.kp:4" in str(err)


def test_refused_btf_shows_up_as_a_warning(load: Callable) -> None:
    # An unnamed program argument is what makes the kernel refuse an object's
    # BTF; libbpf then only warns and drops it. The warning check must see it.
    bpf = BPFModule("nameless")
    bpf.program("p", "tracepoint/syscalls/sys_enter_getpid", ctx_name="").ret(0)
    obj = load(bpf, "nameless")
    obj.load()
    assert any("BTF is optional, ignoring" in w for w in obj.warnings)
    assert any("Invalid arg#1" in w for w in obj.warnings)


def test_tracefs_lists_and_describes_real_events() -> None:
    from backend.tracefs import event_format, expand

    assert ("syscalls", "sys_enter_getpid") in expand("syscalls:sys_enter_getp*")
    fmt = event_format("syscalls", "sys_enter_getpid")
    assert fmt.id > 0 and fmt.field("__syscall_nr").size == 4
    assert fmt.field("common_pid").signed
