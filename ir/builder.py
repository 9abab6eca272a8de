"""A small builder that appends ops to the current block of one IR function."""

from __future__ import annotations

from frontend.types import Type
from ir.ops import BasicBlock, Function, Op, Register, Terminator


class FunctionBuilder:
    def __init__(self, function: Function) -> None:
        self.function = function
        self.block = self.new_block("entry")
        self._registers = 0
        self._labels = 0

    def new_block(self, hint: str = "bb") -> BasicBlock:
        block = BasicBlock(f"{hint}{len(self.function.blocks)}")
        self.function.blocks.append(block)
        return block

    def position_at(self, block: BasicBlock) -> None:
        self.block = block

    def register(self, type_: Type, hint: str = "r") -> Register:
        self._registers += 1
        return Register(f"{hint}{self._registers}", type_)

    def emit(self, op: Op) -> Op:
        if self.terminated:
            # Code after a return or break is unreachable; keep the CFG well formed.
            self.block = self.new_block("dead")
        self.block.ops.append(op)
        return op

    @property
    def terminated(self) -> bool:
        return self.block.terminator is not None

    def terminate(self, op: Terminator) -> None:
        if not self.terminated:
            self.block.ops.append(op)
