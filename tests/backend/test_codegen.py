"""codegen: the ELF object LLVM emits for a BPF module, and its determinism."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import llvmlite.binding as llvm
from llvmlite import ir

from backend import bpftarget, codegen
from backend.bpfbuilder import BPFModule
from backend.helpers import I32, I64

SOURCE = "var counts = {}\ntrace syscalls:sys_enter_getpid {\n    counts[pid] += 1\n}\n"
EM_BPF = 247



def build(source: str | None) -> BPFModule:
    bpf = BPFModule("counter", "count.kp", source)
    counts = bpf.hash_map("counts", I32, I64, 10240, line=1)
    hits = bpf.global_variable("hits", I64, line=1)
    bpf.ringbuf("events", 1 << 16, line=1)
    prog = bpf.program("count_getpid", "tracepoint/syscalls/sys_enter_getpid", line=2)
    prog.set_location(3, 5)
    tgid = prog.ir.trunc(prog.ir.lshr(prog.get_current_pid_tgid(), ir.Constant(I64, 32)), I32)
    prog.map_add(counts, prog.spill(tgid), 1)
    prog.atomic_add(hits.var, 1)
    prog.ret(0)
    return bpf


def sections(obj: bytes) -> dict[str, bytes]:
    return {s.name().decode(): s.data() for s in llvm.ObjectFileRef.from_data(obj).sections()
            if s.name()}


def test_object_is_a_bpf_elf_with_btf() -> None:
    obj = codegen.compile_object(build(SOURCE))
    assert obj[:4] == b"\x7fELF" and int.from_bytes(obj[18:20], "little") == EM_BPF
    secs = sections(obj)
    for name in ("tracepoint/syscalls/sys_enter_getpid", "license", ".maps", ".bss",
                 ".BTF", ".BTF.ext"):
        assert name in secs, name
    assert secs["license"] == b"GPL\0"
    assert ".eh_frame" not in secs  # programs are nounwind


def test_btf_line_info_carries_the_script_text() -> None:
    btf = sections(codegen.compile_object(build(SOURCE)))[".BTF"]
    # BTFDebug copies each referenced source line into the BTF string table,
    # which is where the verifier takes the text of its `; line @ file:N`.
    assert b"    counts[pid] += 1\0" in btf
    assert b"count.kp\0" in btf
    without = sections(codegen.compile_object(build(None)))[".BTF"]
    assert b"counts[pid]" not in without and b"count.kp\0" in without


def test_optimised_code() -> None:
    bpf = build(SOURCE)
    asm = codegen.assembly(bpf)
    assert "lock *(u64 *)" in asm  # atomicrmw add → BPF atomic add
    assert "callx" not in asm  # helper addresses stay immediate
    assert "call 14" in asm and "call 1\n" in asm
    assert "define" in codegen.optimized_llvm_ir(bpf)


def test_same_module_gives_identical_bytes() -> None:
    bpf = build(SOURCE)
    first = codegen.compile_object(bpf)
    assert codegen.compile_object(bpf) == first
    assert codegen.compile_object(build(SOURCE)) == first


def test_identical_bytes_across_processes() -> None:
    # A fresh interpreter: no shared caches, different hash seeds.
    script = textwrap.dedent(f"""
        import runpy, sys
        from backend import codegen
        build = runpy.run_path({__file__!r})["build"]
        sys.stdout.buffer.write(codegen.compile_object(build({SOURCE!r})))
    """)
    out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True).stdout
    assert out == codegen.compile_object(build(SOURCE))


def test_accepts_plain_llvmlite_modules() -> None:
    m = ir.Module("plain")
    m.triple = bpftarget.TRIPLE
    m.data_layout = bpftarget.DATA_LAYOUT
    fn = ir.Function(m, ir.FunctionType(I32, [I64]), "f")
    fn.attributes.add("nounwind")
    b = ir.IRBuilder(fn.append_basic_block())
    b.ret(b.trunc(b.mul(fn.args[0], ir.Constant(I64, 3)), I32))
    assert sections(codegen.compile_object(m))[".text"]


def test_atomic_add_and_fetch_add_instructions() -> None:
    bpf = BPFModule("atomics")
    counter = bpf.global_variable("counter", I64)
    seen = bpf.global_variable("seen", I64)
    prog = bpf.program("p", "tracepoint/a/b")
    prog.atomic_add(counter.var, 1)
    prog.ir.store(prog.atomic_fetch_add(counter.var, 2), seen.var)
    prog.ret(0)
    asm = codegen.assembly(bpf)
    assert "lock *(u64 *)" in asm
    # The old value must come back from a FETCH instruction (LLVM 22 bug workaround).
    assert "= atomic_fetch_add((u64 *)" in asm
