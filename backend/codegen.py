"""LLVM IR text → optimised module → BPF ELF object, through llvmlite's LLVM.

The output is a pure function of the input text: no timestamps, no paths of the
build machine (the DIFile carries the script's own name), so the same module
always gives byte-identical objects.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import llvmlite.binding as llvm
from llvmlite import ir

from backend import bpftarget

if TYPE_CHECKING:
    from backend.bpfbuilder import BPFModule

OPT_LEVEL = 2
# BPF ISA v4 (kernel 6.6+): its `gotol` has a 32-bit offset. Under v3 a body of more
# than 32K instructions makes LLVM abort the whole process ("Branch target out of insn
# range"); v4 turns a far branch into a short one around a `gotol`.
CPU = "v4"


@functools.cache
def target_machine() -> llvm.TargetMachine:
    # llvmlite 0.50 registers only the native target by default; BPF must be
    # registered explicitly or from_triple fails with "no targets are registered".
    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    target = llvm.Target.from_triple(bpftarget.TRIPLE)
    return target.create_target_machine(cpu=CPU, opt=OPT_LEVEL, codemodel="default",
                                        reloc="static")


def _optimized(module: ir.Module | BPFModule | str) -> llvm.ModuleRef:
    parsed = llvm.parse_assembly(str(module))
    parsed.verify()
    tm = target_machine()
    pto = llvm.create_pipeline_tuning_options(speed_level=OPT_LEVEL)
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(parsed, pb)
    return parsed


def compile_object(module: ir.Module | BPFModule | str) -> bytes:
    """Verify, optimise at O2 and emit an ELF relocatable object for EM_BPF."""
    obj: bytes = target_machine().emit_object(_optimized(module))
    return obj


def optimized_llvm_ir(module: ir.Module | BPFModule | str) -> str:
    return str(_optimized(module))


def assembly(module: ir.Module | BPFModule | str) -> str:
    """BPF assembly of the optimised module (for `kllvm dump --emit=asm`)."""
    asm: str = target_machine().emit_assembly(_optimized(module))
    return asm
