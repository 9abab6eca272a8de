"""backend.bpftarget's layout, which lowering uses instead of LLVM's, against LLVM's."""

from __future__ import annotations

import llvmlite.binding as llvm
import pytest
from llvmlite import ir

from backend import bpftarget, codegen

I8, I32, I64 = ir.IntType(8), ir.IntType(32), ir.IntType(64)
TYPES = [
    ir.IntType(1), I8, ir.IntType(16), I32, I64, ir.IntType(128), I8.as_pointer(),
    ir.ArrayType(I8, 128), ir.ArrayType(I64, 4), ir.ArrayType(ir.ArrayType(I32, 3), 5),
    ir.LiteralStructType([I8, I64]), ir.LiteralStructType([I32, I8]),
    ir.LiteralStructType([I64, ir.ArrayType(I8, 13), I32]),
    ir.LiteralStructType([I8, ir.LiteralStructType([I32, I8]), I64.as_pointer()]),
    ir.LiteralStructType([I8, I64], packed=True), ir.LiteralStructType([]),
    ir.LiteralStructType([ir.IntType(128), I8]),
]


def target_data() -> llvm.TargetData:
    return llvm.create_target_data(str(codegen.target_machine().target_data))


def test_data_layout_is_llvms() -> None:
    assert bpftarget.DATA_LAYOUT == str(codegen.target_machine().target_data)


@pytest.mark.parametrize("ty", TYPES, ids=str)
def test_sizes_and_offsets_match_llvm(ty: ir.Type) -> None:
    td = target_data()
    assert bpftarget.abi_size(ty) == ty.get_abi_size(td)
    assert bpftarget.abi_alignment(ty) == ty.get_abi_alignment(td)
    if isinstance(ty, ir.BaseStructType):
        for i in range(len(ty.elements)):
            assert bpftarget.element_offset(ty, i) == ty.get_element_offset(td, i)
