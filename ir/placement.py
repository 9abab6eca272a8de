"""Placement (Part A §2, §10): which functions run in the kernel, which top-level
variables become BPF globals, and which table sites become BPF maps (per-CPU when the
kernel only ever adds to them).

It runs after `ir.checks` has accepted the module: the checks report what kernel code may
not do; this pass only records, on the module, where things live.
"""

from __future__ import annotations

from frontend.types import FuncT, TableT, strip_opt
from ir import ops


def _callee(value: ops.Value) -> str | None:
    t = strip_opt(value.type)
    return t.function if isinstance(t, FuncT) else None


def static_calls(function: ops.Function) -> list[tuple[str, ops.Call]]:
    """The calls in `function` whose callee is known at compile time, with the callee."""
    return [(callee, op) for block in function.blocks for op in block.ops
            if isinstance(op, ops.Call) and (callee := _callee(op.callee)) is not None]


def kernel_functions(module: ops.Module) -> list[str]:
    """Probe bodies and everything reachable from them by static calls, in a stable order."""
    roots = [p.function for p in module.probes if p.kind.runs_in_kernel]
    seen: list[str] = []
    work = list(roots)
    while work:
        name = work.pop(0)
        if name in seen:
            continue
        seen.append(name)
        work.extend(callee for callee, _ in static_calls(module.functions[name]))
    return seen


def _globals(module: ops.Module, kernel: list[str]) -> None:
    """The top-level variables kernel code captures become BPF globals, in first-use
    order; tables and functions are resolved statically in the kernel and need none."""
    main_cells = {
        op.dest.name: op
        for block in module.functions[module.main].blocks
        for op in block.ops
        if isinstance(op, ops.MakeCell)
    }
    written = {op.cell.name for name in kernel for block in module.functions[name].blocks
               for op in block.ops if isinstance(op, ops.StoreCell | ops.AddCell)}
    seen: set[str] = set()
    for name in kernel:
        for cell in module.functions[name].free_cells:
            make = main_cells.get(cell.name)
            inner = cell.type.inner if isinstance(cell.type, ops.CellT) else cell.type
            if make is None or isinstance(strip_opt(inner), TableT | FuncT) or cell.name in seen:
                continue  # a local cell is refused by ir.checks
            seen.add(cell.name)
            module.globals.append(ops.GlobalDecl(cell.name, make.span, inner,
                                                 cell.name in written))


def _tables(module: ops.Module, kernel: list[str]) -> None:
    sites: dict[int, set[type]] = {}
    for name in kernel:
        for block in module.functions[name].blocks:
            for op in block.ops:
                if isinstance(op, ops.TableGet | ops.TableSet | ops.TableAdd):
                    t = strip_opt(op.table.type)
                    if isinstance(t, TableT) and t.site >= 0:
                        sites.setdefault(t.site, set()).add(type(op))
    for decl in module.tables:
        used = sites.get(decl.site)
        if used is not None:
            decl.kernel = True
            decl.only_added = used == {ops.TableAdd}


def place(module: ops.Module) -> None:
    """Records placement on a typed, checked module (once: globals are appended)."""
    kernel = kernel_functions(module)
    for name in kernel:
        module.functions[name].placement = ops.Placement.KERNEL
    _globals(module, kernel)
    _tables(module, kernel)
