"""BPFModule / ProgramBuilder: the LLVM IR they produce, checked without a kernel."""

from __future__ import annotations

import re

import pytest
from llvmlite import ir

from backend import bpftarget, codegen
from backend.bpfbuilder import BPFModule, MapType
from backend.helpers import I8, I32, I64

SOURCE = "var counts = {}\ntrace syscalls:sys_enter_getpid {\n    counts[pid] += 1\n}\n"


def counter_module() -> BPFModule:
    bpf = BPFModule("counter", "count.kp", SOURCE)
    counts = bpf.hash_map("counts", I32, I64, 10240, line=1)
    prog = bpf.program("count_getpid", "tracepoint/syscalls/sys_enter_getpid", line=2)
    prog.set_location(3, 5)
    tgid = prog.ir.trunc(prog.ir.lshr(prog.get_current_pid_tgid(), ir.Constant(I64, 32)), I32)
    prog.map_add(counts, prog.spill(tgid), 1)
    prog.ret(0)
    return bpf


def test_module_target_and_license() -> None:
    text = counter_module().llvm_ir()
    assert 'target triple = "bpfel"' in text
    assert f'target datalayout = "{bpftarget.DATA_LAYOUT}"' in text
    assert re.search(r'@"_license" = global \[4 x i8\] c"GPL\\00", section "license"', text)


def test_map_specs_and_btf_definition() -> None:
    bpf = BPFModule("maps")
    h = bpf.hash_map("h", I32, I64, 100)
    p = bpf.hash_map("p", ir.LiteralStructType([I32, I64]), 16, 50, percpu=True)
    a = bpf.array_map("a", I64, 4)
    r = bpf.ringbuf("rb", 1 << 16)
    s = bpf.stack_trace_map("stacks", 1024)
    assert (h.spec.type, h.spec.key_size, h.spec.value_size, h.spec.max_entries) == (
        MapType.HASH, 4, 8, 100)
    # The struct key is padded as LLVM lays it out for BPF.
    assert (p.spec.type, p.spec.key_size, p.spec.value_size) == (MapType.PERCPU_HASH, 16, 16)
    assert (a.spec.type, a.spec.key_size) == (MapType.ARRAY, 4)
    assert (r.spec.type, r.spec.max_entries) == (MapType.RINGBUF, 1 << 16)
    assert (s.spec.key_size, s.spec.value_size) == (4, 127 * 8)
    text = bpf.llvm_ir()
    for name in ("h", "p", "a", "rb", "stacks"):
        assert re.search(rf'@"{name}" = global .* section ".maps", align 8, !dbg', text)
    members = re.findall(r'name: "(\w+)", offset: \d+, size: 64, tag: DW_TAG_member', text)
    assert {"type", "max_entries", "key", "value", "value_size", "key_size"} <= set(members)
    # A typed key gets a real BTF struct: {u32 f0; u64 f1} with f1 at bit 64.
    assert 'name: "f1", offset: 64, size: 64, tag: DW_TAG_member' in text


def test_ringbuf_size_must_be_power_of_two() -> None:
    with pytest.raises(ValueError, match="power of two"):
        BPFModule("x").ringbuf("rb", 3000)


def test_duplicate_symbols_are_refused() -> None:
    bpf = BPFModule("dup")
    bpf.hash_map("t", I32, I64, 4)
    with pytest.raises(ValueError, match="duplicate"):
        bpf.global_variable("t", I64)
    bpf.program("p", "tracepoint/a/b")
    with pytest.raises(ValueError, match="duplicate"):
        bpf.program("p", "tracepoint/a/b")


def test_global_data_sections() -> None:
    bpf = BPFModule("globals")
    bss = bpf.global_variable("hits", I64)
    data = bpf.global_variable("step", I64, ir.Constant(I64, 5))
    ro = bpf.rodata("target", I32, ir.Constant(I32, 0))
    assert (bss.section, data.section, ro.section) == (".bss", ".data", ".rodata")
    text = bpf.llvm_ir()
    assert '@"hits" = global i64 0, section ".bss", align 8' in text
    assert '@"step" = global i64 5, section ".data", align 8' in text
    # .rodata must not be an LLVM constant, or its value is folded into the code.
    assert '@"target" = global i32 0, section ".rodata"' in text


def test_allocas_stay_in_the_entry_block() -> None:
    bpf = counter_module()
    fn = bpf.programs["count_getpid"].function
    entry, *others = fn.blocks
    assert any(isinstance(i, ir.AllocaInstr) for i in entry.instructions)
    # map_add allocates its zero value inside a conditional branch.
    assert not [i for b in others for i in b.instructions if isinstance(i, ir.AllocaInstr)]


def test_helpers_are_called_through_constant_expressions() -> None:
    text = counter_module().llvm_ir()
    assert "call i64 inttoptr (i64 14 to i64 ()*)()" in text
    assert "call i8* inttoptr (i64 1 to i8* (i8*, i8*)*)" in text
    assert not re.search(r"= inttoptr", text)  # no inttoptr instructions


def test_set_location_attaches_line_info() -> None:
    bpf = BPFModule("loc", "x.kp")
    prog = bpf.program("p", "tracepoint/a/b", line=7)
    first = prog.get_smp_processor_id()
    prog.set_location(9, 3)
    second = prog.ktime_get_ns()
    prog.ret(0)
    text = bpf.llvm_ir()
    for instr, (line, col) in ((first, (7, 0)), (second, (9, 3))):
        ref = instr.metadata["dbg"].get_reference()
        assert re.search(rf"{ref} = !DILocation\(column: {col}, line: {line},", text)


def test_program_arguments_are_named_in_debug_info() -> None:
    text = counter_module().llvm_ir()
    sp = re.search(r"(!\d+) = distinct !DISubprogram\(.*name: \"count_getpid\".*"
                   r"retainedNodes: (!\d+)", text)
    assert sp, "the subprogram lists its arguments in retainedNodes"
    assert re.search(rf'!DILocalVariable\(arg: 1, .*name: "ctx", scope: {sp.group(1)}', text)
    # Printing twice gives the same text: the temporary patch is undone.
    bpf = counter_module()
    assert bpf.llvm_ir() == bpf.llvm_ir()


def test_helper_wrappers_coerce_arguments() -> None:
    bpf = BPFModule("wrappers")
    rb = bpf.ringbuf("rb", 4096)
    stacks = bpf.stack_trace_map("stacks", 16)
    prog = bpf.program("p", "perf_event")
    comm = prog.alloca(ir.ArrayType(I8, 16), "comm")
    prog.get_current_comm(comm)
    buf = prog.alloca(ir.ArrayType(I8, 64), "buf")
    prog.probe_read_kernel_str(buf, 64, prog.ktime_get_ns())  # an i64 address
    prog.probe_read_user(buf, 8, 0x1000)
    prog.get_stackid(stacks, 0)
    prog.ringbuf_output(rb, comm)
    rec = prog.ringbuf_reserve(rb, ir.LiteralStructType([I32, I64]))
    prog.ringbuf_submit(rec)
    prog.get_current_uid_gid()
    prog.ret(0)
    text = bpf.llvm_ir()
    assert "inttoptr (i64 16 to i64 (i8*, i64)*)" in text
    assert re.search(r"call i64 inttoptr \(i64 130 .*i64 16, i64 0\)", text)  # size of comm
    assert re.search(r"call i8\* inttoptr \(i64 131 .*i64 16, i64 0\)", text)  # padded struct
    codegen.compile_object(bpf)  # LLVM accepts it
