"""The BPF target's data layout, known without loading LLVM.

Lowering needs the sizes and field offsets of the few llvmlite types kllvm builds
(integers, pointers, arrays and structs of them) for BTF. llvmlite answers only through
LLVM, by parsing a small module per question; computing them here is cheaper and keeps
lowering independent of the LLVM library. tests/backend/test_bpftarget.py checks this
layout against LLVM's.
"""

from __future__ import annotations

from llvmlite import ir

TRIPLE = "bpfel"
# What LLVM's BPF target reports (TargetMachine.target_data) for bpfel.
DATA_LAYOUT = "e-m:e-p:64:64-i64:64-i128:128-n32:64-S128"
POINTER_SIZE = 8


def abi_alignment(ty: ir.Type) -> int:
    if isinstance(ty, ir.IntType):
        return min(_int_size(ty.width), 16 if ty.width > 64 else 8)
    if isinstance(ty, ir.PointerType):
        return POINTER_SIZE
    if isinstance(ty, ir.ArrayType):
        return abi_alignment(ty.element)
    if isinstance(ty, ir.BaseStructType):
        return 1 if ty.packed else max((abi_alignment(e) for e in ty.elements), default=1)
    raise TypeError(f"no BPF layout for {ty}")


def abi_size(ty: ir.Type) -> int:
    if isinstance(ty, ir.IntType):
        return _int_size(ty.width)
    if isinstance(ty, ir.PointerType):
        return POINTER_SIZE
    if isinstance(ty, ir.ArrayType):
        count: int = ty.count
        return abi_size(ty.element) * count
    if isinstance(ty, ir.BaseStructType):
        end = element_offset(ty, len(ty.elements)) if ty.elements else 0
        return _align(end, abi_alignment(ty))
    raise TypeError(f"no BPF layout for {ty}")


def element_offset(ty: ir.BaseStructType, index: int) -> int:
    """Offset of element `index` (or the end of the elements, for index == len)."""
    offset = 0
    for position, element in enumerate(ty.elements):
        if not ty.packed:
            offset = _align(offset, abi_alignment(element))
        if position == index:
            return offset
        offset += abi_size(element)
    return offset


def _int_size(width: int) -> int:
    # i1..i8 take a byte; wider integers round up to a power of two (i24 -> 4 bytes).
    size = 1
    while size * 8 < width:
        size *= 2
    return size


def _align(value: int, alignment: int) -> int:
    return (value + alignment - 1) // alignment * alignment
