"""Small analyses of IR functions that later stages share."""

from __future__ import annotations

from ir import ops
from ir.verify import op_defs, op_uses


def written_before_read(function: ops.Function) -> frozenset[ops.Register]:
    """The registers that every read finds already written in the same block (most of
    the temporaries an expression makes). A register no path can read unwritten needs no
    initial nil; knowing it from one pass over the ops, rather than from a data flow
    over every path, keeps the cost linear in the function's size."""
    written_first: set[ops.Register] = set()
    read_unwritten: set[ops.Register] = set(function.params) | set(function.free_cells)
    for block in function.blocks:
        written: set[ops.Register] = set()
        for op in block.ops:
            for value in op_uses(op):
                if isinstance(value, ops.Register) and value not in written:
                    read_unwritten.add(value)
            for register in op_defs(op):
                written.add(register)
                written_first.add(register)
    return frozenset(written_first - read_unwritten)


def concat_roots(function: ops.Function) -> dict[ops.Concat, ops.Concat]:
    """Each `..` of `function` and the outermost `..` of its expression (`a .. b .. c`
    is two ops, the inner one's result used only by the outer one): a string cut in
    the expression is one cut, reported at the whole expression."""
    uses: dict[ops.Register, list[ops.Op]] = {}
    concats: list[ops.Concat] = []
    for block in function.blocks:
        for op in block.ops:
            for value in op_uses(op):
                if isinstance(value, ops.Register):
                    uses.setdefault(value, []).append(op)
            if isinstance(op, ops.Concat):
                concats.append(op)
    roots: dict[ops.Concat, ops.Concat] = {}
    for op in concats:
        root = op
        while len(users := uses.get(root.dest, [])) == 1 and isinstance(users[0], ops.Concat):
            root = users[0]
        roots[op] = root
    return roots
