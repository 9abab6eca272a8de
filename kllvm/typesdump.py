"""`kllvm dump --emit=types`: the inferred type of every variable, table and global."""

from __future__ import annotations

from ir import ops
from kllvm.driver import Compilation


def _registers(function: ops.Function) -> dict[str, ops.Register]:
    found: dict[str, ops.Register] = {r.name: r for r in function.params + function.free_cells}
    for block in function.blocks:
        for op in block.ops:
            for value in vars(op).values():
                if isinstance(value, ops.Register):
                    found.setdefault(value.name, value)
    return found


def dump_types(compilation: Compilation) -> str:
    module = compilation.module
    lines: list[str] = []
    for decl in module.tables:
        where = "kernel" if decl.kernel else "user"
        lines.append(f"table {decl.name} @{decl.span}: [{decl.key}] {decl.value} ({where})")
    for glob in module.globals:
        lines.append(f"global {glob.name.split('.')[0]} @{glob.span}: {glob.type}")
    for scope in compilation.resolution.scopes.values():
        function = module.functions.get(scope.name)
        if function is None:
            continue
        registers = _registers(function)
        lines.append(f"function {scope.name} ({function.placement.value})")
        for symbol in scope.symbols:
            reg = registers.get(symbol.unique) or registers.get(f"{symbol.unique}.arg")
            shown = "unused" if reg is None else str(
                reg.type.inner if isinstance(reg.type, ops.CellT) else reg.type)
            lines.append(f"  {symbol.name} @{symbol.span}: {shown}")
    return "\n".join(lines) + "\n"
