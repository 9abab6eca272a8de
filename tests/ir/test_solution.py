"""Inference is a function of the IR: `infer` returns a solution and changes nothing;
`apply` writes it; inferring the same module again gives the same solution."""

from __future__ import annotations

from frontend.diagnostics import DiagnosticSink, Source
from frontend.parser import parse
from frontend.scope import resolve
from frontend.types import ANY, INT, STR, OptT, TableT
from ir import ops
from ir.infer import apply, infer
from ir.lower_ast import lower

SCRIPT = """var t = {}
var n = 0
function f(x) { return x .. "!" }
trace syscalls:sys_enter_getpid { t[pid] += 1; n = n + 1 }
tick-1s { print(f("a"), t[1]) }
"""


def _lowered(text: str) -> ops.Module:
    source = Source("t.kp", text)
    sink = DiagnosticSink(source)
    chunk = parse(source, sink)
    assert chunk is not None
    module = lower(chunk, resolve(chunk, sink), sink)
    assert not sink.has_errors
    return module


def _registers(module: ops.Module) -> dict[ops.Register, object]:
    found: dict[ops.Register, object] = {}
    for function in module.functions.values():
        for reg in function.params + function.free_cells:
            found[reg] = reg.type
        for block in function.blocks:
            for op in block.ops:
                for value in vars(op).values():
                    if isinstance(value, ops.Register):
                        found[value] = value.type
    return found


def test_infer_changes_nothing_and_apply_writes_the_solution() -> None:
    module = _lowered(SCRIPT)
    before = _registers(module)
    tables_before = [(d.key, d.value) for d in module.tables]
    solution = infer(module, lambda function, index: None)
    assert _registers(module) == before
    assert [(d.key, d.value) for d in module.tables] == tables_before
    assert all(t == ANY or t == ops.CellT(ANY) for t in before.values())

    apply(module, solution)
    after = _registers(module)
    assert all(after[reg] == t for reg, t in solution.registers.items() if reg in after)
    assert solution.tables[module.tables[0].site] == (INT, INT)
    assert (module.tables[0].key, module.tables[0].value) == (INT, INT)
    (x,) = next(f.params for name, f in module.functions.items() if name.startswith("f@"))
    assert x.type == OptT(STR) or x.type == STR
    assert any(isinstance(t, ops.CellT) and isinstance(t.inner, TableT)
               for t in after.values())


def test_inferring_an_applied_module_again_gives_the_same_solution() -> None:
    module = _lowered(SCRIPT)
    first = infer(module, lambda function, index: None)
    apply(module, first)
    second = infer(module, lambda function, index: None)
    assert dict(second.registers) == dict(first.registers)
    assert dict(second.tables) == dict(first.tables)
