"""Structural checks of an IR module, run after lowering and after every pass in tests.

`verify_module` returns the problems it finds as text (empty when the module is sound):
block and terminator structure, branch targets, registers used but never written, error
site, table, probe and function references, cell-typed operands, and built-in names.
The register check is flow-insensitive: a register must be a parameter, a free cell or
the destination of some op in the same function. Registers the interpreter dereferences
(cells, `pairs` iterators) are checked harder, since artifacts bring IR from outside:
only their own op writes them, and they are written on every path to a use.
"""

from __future__ import annotations

from collections.abc import Iterator

from frontend import builtins
from ir import ops

BUILTIN_VALUES = builtins.GLOBALS | builtins.FUNCTIONS  # `arg`, `print`, `ansi`, `ansi.set_color`


def op_defs(op: ops.Op) -> list[ops.Register]:
    """The registers an op writes."""
    match op:
        case ops.PairsNext(key=k, value=v):
            return [k, v]
        case (
            ops.Move() | ops.Arith() | ops.Compare() | ops.Not() | ops.Negate() | ops.Concat()
            | ops.MakeCell() | ops.LoadCell() | ops.NewTable() | ops.TableGet() | ops.PairsIter()
            | ops.Call() | ops.CallBuiltin() | ops.LoadBuiltin() | ops.Context()
            | ops.MakeClosure()
        ):  # fmt: skip
            return [op.dest]
    return []


def op_uses(op: ops.Op) -> list[ops.Value]:
    """The values an op reads."""
    match op:
        case ops.Move(src=a) | ops.Not(operand=a) | ops.Negate(operand=a):
            return [a]
        case (
            ops.Arith(left=a, right=b) | ops.Compare(left=a, right=b) | ops.Concat(left=a, right=b)
        ):
            return [a, b]
        case ops.MakeCell(initial=a) | ops.LoadCell(cell=a) | ops.CheckNumber(value=a):
            return [a]
        case ops.StoreCell(cell=c, value=v) | ops.AddCell(cell=c, delta=v):
            return [c, v]
        case ops.NewTable(narr=narr, nrec=nrec):
            return [v for v in (narr, nrec) if v is not None]
        case ops.TableGet(table=t, key=k):
            return [t, k]
        case ops.TableSet(table=t, key=k, value=v) | ops.TableAdd(table=t, key=k, delta=v):
            return [t, k, v]
        case ops.PairsIter(table=t):
            return [t]
        case ops.PairsNext(iterator=i):
            return [i]
        case ops.Call(callee=f, args=args):
            return [f, *args]
        case ops.CallBuiltin(args=args):
            return list(args)
        case ops.MakeClosure(cells=cells):
            return list(cells)
        case ops.RegisterProbe(closure=c) | ops.RegisterTraceEnd(closure=c):
            return [c]
        case ops.Branch(cond=c):
            return [c]
        case ops.Return(value=v):
            return [] if v is None else [v]
    return []


def _cell_operands(op: ops.Op) -> list[ops.Register]:
    """The operands that must be cells; a cell anywhere else is a lowering bug."""
    match op:
        case ops.LoadCell(cell=c) | ops.StoreCell(cell=c) | ops.AddCell(cell=c):
            return [c]
        case ops.MakeClosure(cells=cells):
            return list(cells)
    return []


def _successors(op: ops.Terminator) -> list[ops.BasicBlock]:
    match op:
        case ops.Jump(target=t):
            return [t]
        case ops.Branch(if_true=t, if_false=f):
            return [t, f]
    return []


class _Verifier:
    def __init__(self, module: ops.Module) -> None:
        self.module = module
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    # -- module-level declarations

    def declarations(self) -> None:
        module = self.module
        if module.main not in module.functions:
            self.problem("module", f"main function {module.main!r} does not exist")
        for index, site in enumerate(module.errors):
            if site.id != index:
                self.problem("module", f"error site at index {index} has id {site.id}")
        for index, table in enumerate(module.tables):
            if table.site != index:
                self.problem("module", f"table at index {index} has site {table.site}")
        for index, probe in enumerate(module.probes):
            where = f"probe #{probe.id}"
            if probe.id != index:
                self.problem(where, f"is at index {index}")
            if probe.function not in module.functions:
                self.problem(where, f"function {probe.function!r} does not exist")
            # (an unknown kind cannot be: ProbeKind is an enum, and irjson decodes it)
            if (probe.kind is ops.ProbeKind.TRACE) != (probe.eventdef is not None):
                self.problem(where, "a trace probe needs an eventdef, and only it")
            elif (probe.kind is not ops.ProbeKind.TRACE) != (probe.interval_ns is not None):
                self.problem(where, "profile and tick probes need an interval, and only they")
            elif probe.interval_ns is not None and not 0 < probe.interval_ns <= INT64_MAX:
                self.problem(where, f"interval {probe.interval_ns} is out of range")
        for name, function in module.functions.items():
            if function.name != name:
                self.problem(f"function {name}", f"is named {function.name!r}")
        main = module.functions.get(module.main)
        if main is not None and main.free_cells:
            self.problem("module", "the main function captures cells")

    # -- functions

    def function(self, function: ops.Function) -> None:
        where = f"function {function.name}"
        if not function.blocks:
            self.problem(where, "has no blocks")
            return
        own_blocks = {id(b) for b in function.blocks}
        labels: set[str] = set()
        for block in function.blocks:
            if block.label in labels:
                self.problem(where, f"duplicate block label {block.label!r}")
            labels.add(block.label)
            self.block(where, block, own_blocks)
        self.registers(where, function)
        for cell in function.free_cells:
            self.cell_typed(where, cell, "free cell")
        entry = [*function.params, *function.free_cells]
        if len({id(r) for r in entry}) != len(entry):
            self.problem(where, "a register is bound twice on entry")
        for param in function.params:
            if isinstance(param.type, ops.CellT):
                self.problem(where, f"parameter {param} is of a cell type")
        self.constants(where, function)
        self.dereferenced(where, function)

    def block(self, where: str, block: ops.BasicBlock, own_blocks: set[int]) -> None:
        where = f"{where}, block {block.label}"
        if not block.ops or not isinstance(block.ops[-1], ops.Terminator):
            self.problem(where, "does not end in a terminator")
        for index, op in enumerate(block.ops):
            name = type(op).__name__
            if isinstance(op, ops.Terminator):
                if index != len(block.ops) - 1:
                    self.problem(where, f"terminator {name} before the end of the block")
                for target in _successors(op):
                    if id(target) not in own_blocks:
                        self.problem(where, f"{name} to {target.label!r} of another function")
            self.op(f"{where}, op {index} ({name})", op)

    def op(self, where: str, op: ops.Op) -> None:
        error = getattr(op, "error", None)
        if error is not None and not 0 <= error < len(self.module.errors):
            self.problem(where, f"error site {error} does not exist")
        self.cells_only_in_cell_slots(where, op)
        match op:
            case ops.NewTable(site=site) if not 0 <= site < len(self.module.tables):
                self.problem(where, f"table site {site} does not exist")
            case ops.RegisterProbe(probe=probe) if not 0 <= probe < len(self.module.probes):
                self.problem(where, f"probe {probe} does not exist")
            case ops.MakeClosure(function=name, cells=cells):
                callee = self.module.functions.get(name)
                if callee is None:
                    self.problem(where, f"function {name!r} does not exist")
                elif len(cells) != len(callee.free_cells):
                    self.problem(
                        where,
                        f"{len(cells)} cells for {name!r}, which has {len(callee.free_cells)}",
                    )
                for cell in cells:
                    self.cell_typed(where, cell, "captured cell")
            case (
                ops.MakeCell(dest=c)
                | ops.LoadCell(cell=c)
                | ops.StoreCell(cell=c)
                | ops.AddCell(cell=c)
            ):
                self.cell_typed(where, c, "cell operand")
            case ops.CallBuiltin(name=name) if name not in builtins.FUNCTIONS:
                self.problem(where, f"unknown built-in {name!r}")
            case ops.LoadBuiltin(name=name) if name not in BUILTIN_VALUES:
                self.problem(where, f"unknown built-in global {name!r}")
            case ops.Context(name=name) if name not in builtins.CONTEXT_NAMES:
                self.problem(where, f"unknown event variable {name!r}")
            case ops.Arith(op=o) if o not in ("+", "-", "*", "/", "%"):
                self.problem(where, f"unknown arithmetic operator {o!r}")
            case ops.Compare(op=o) if o not in ("==", "!=", "<", "<=", ">", ">="):
                self.problem(where, f"unknown comparison {o!r}")

    def cells_only_in_cell_slots(self, where: str, op: ops.Op) -> None:
        slots = _cell_operands(op)
        for value in op_uses(op):
            if (
                isinstance(value, ops.Register)
                and isinstance(value.type, ops.CellT)
                and not any(value is slot for slot in slots)
            ):
                self.problem(where, f"cell {value} used as a value (load it first)")

    def cell_typed(self, where: str, register: ops.Register, what: str) -> None:
        if not isinstance(register.type, ops.CellT):
            self.problem(where, f"{what} {register} is not of a cell type")

    def registers(self, where: str, function: ops.Function) -> None:
        # A dict, not a set: problems come out in a stable order.
        defined = dict.fromkeys([*function.params, *function.free_cells])
        for op in _all_ops(function):
            defined.update(dict.fromkeys(op_defs(op)))
        names: dict[str, ops.Register] = {}
        for register in defined:
            other = names.setdefault(register.name, register)
            if other is not register:
                self.problem(where, f"two different registers are named {register}")
        reported: set[ops.Register] = set()
        for op in _all_ops(function):
            for value in op_uses(op):
                if (
                    isinstance(value, ops.Register)
                    and value not in defined
                    and value not in reported
                ):
                    reported.add(value)
                    self.problem(where, f"register {value} is used but never written")

    def constants(self, where: str, function: ops.Function) -> None:
        for op in _all_ops(function):
            for value in op_uses(op):
                if isinstance(value, ops.Const) and not _is_constant(value.value):
                    self.problem(where, f"bad constant {value.value!r}")

    def dereferenced(self, where: str, function: ops.Function) -> None:
        """Cells and iterators: written only by MakeCell and PairsIter (or bound on entry,
        for free cells), and written on every path from the entry to each use."""
        special: dict[ops.Register, None] = dict.fromkeys(function.free_cells)
        for op in _all_ops(function):
            for register in op_defs(op):
                if isinstance(register.type, ops.CellT) and not isinstance(op, ops.MakeCell):
                    self.problem(where, f"cell {register} is written by {type(op).__name__}")
                if isinstance(op, ops.MakeCell | ops.PairsIter):
                    special[register] = None
        for op in _all_ops(function):
            if isinstance(op, ops.PairsNext) and not any(
                isinstance(other, ops.PairsIter) and other.dest is op.iterator
                for other in _all_ops(function)
            ):
                self.problem(where, f"iterator {op.iterator} is not made by PairsIter")
            for register in op_defs(op):
                if register in special and not isinstance(op, ops.MakeCell | ops.PairsIter):
                    self.problem(where, f"{register} is written by {type(op).__name__}")
        if self.problems:
            return  # the flow check below assumes sound blocks
        for block, register in _maybe_unwritten(function, set(special)):
            self.problem(f"{where}, block {block.label}",
                         f"{register} may be used before it is written")
        if _has_unbudgeted_loop(function):
            self.problem(where, "a loop does not count against the loop budget (LoopTick)")

    def run(self) -> list[str]:
        self.declarations()
        for function in self.module.functions.values():
            self.function(function)
        return self.problems


def _all_ops(function: ops.Function) -> Iterator[ops.Op]:
    for block in function.blocks:
        yield from block.ops


INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def _is_constant(value: object) -> bool:
    if type(value) is int:
        return INT64_MIN <= value <= INT64_MAX
    return value is None or type(value) in (bool, bytes)


def _maybe_unwritten(
    function: ops.Function, tracked: set[ops.Register]
) -> list[tuple[ops.BasicBlock, ops.Register]]:
    """(block, register) for each use of a tracked register that some path from the
    entry reaches before writing it: a forward must-be-written data flow."""
    blocks = function.blocks
    index = {id(b): i for i, b in enumerate(blocks)}
    preds: list[list[int]] = [[] for _ in blocks]
    for i, block in enumerate(blocks):
        terminator = block.terminator
        for target in _successors(terminator) if terminator is not None else []:
            preds[index[id(target)]].append(i)
    writes = [tracked & {r for op in b.ops for r in op_defs(op)} for b in blocks]
    on_entry = tracked & set(function.free_cells)
    written_out = [set(tracked) for _ in blocks]  # optimistic start, narrowed to a fixpoint

    def written_in(i: int) -> set[ops.Register]:
        written = set(on_entry) if i == 0 else set(tracked)
        for p in preds[i]:
            written &= written_out[p]
        return written

    changed = True
    while changed:
        changed = False
        for i in range(len(blocks)):
            out = written_in(i) | writes[i]
            if out != written_out[i]:
                written_out[i], changed = out, True
    found: list[tuple[ops.BasicBlock, ops.Register]] = []
    for i, block in enumerate(blocks):
        written = written_in(i)
        for op in block.ops:
            for value in op_uses(op):
                if isinstance(value, ops.Register) and value in tracked - written:
                    found.append((block, value))
            written.update(r for r in op_defs(op) if r in tracked)
    return found


def _has_unbudgeted_loop(function: ops.Function) -> bool:
    """Whether some cycle of blocks has no LoopTick: the blocks without one must form an
    acyclic graph (Kahn's algorithm), or a loop could run forever, unbudgeted."""
    free = [b for b in function.blocks if not any(isinstance(op, ops.LoopTick) for op in b.ops)]
    index = {id(b): i for i, b in enumerate(free)}
    edges: list[list[int]] = []
    incoming = [0] * len(free)
    for block in free:
        terminator = block.terminator
        targets = _successors(terminator) if terminator is not None else []
        edges.append([index[id(t)] for t in targets if id(t) in index])
        for target in edges[-1]:
            incoming[target] += 1
    ready = [i for i, count in enumerate(incoming) if count == 0]
    seen = 0
    while ready:
        seen += 1
        for target in edges[ready.pop()]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return seen != len(free)


def verify_module(module: ops.Module) -> list[str]:
    """The module's structural problems, one line each; empty when it is sound."""
    return _Verifier(module).run()
