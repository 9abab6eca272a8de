"""ir.analysis: registers whose every read finds them written earlier in the block."""

from __future__ import annotations

from frontend.diagnostics import Source
from ir import ops
from ir.analysis import written_before_read
from kllvm import driver


def function_named(source: str, name: str) -> ops.Function:
    module = driver.compile_source(Source("a.kp", source)).module
    return next(f for f in module.functions.values() if f.name.startswith(name))


def names(registers: frozenset[ops.Register]) -> set[str]:
    return {r.name for r in registers}


def test_temporaries_are_written_first_and_a_maybe_unset_local_is_not() -> None:
    function = function_named(
        "function f(a) { var x\n if (a > 1) { x = a + 1 }\n return x }\nprint(f(3))\n", "f")
    found = names(written_before_read(function))
    used_before = {r.name for b in function.blocks for op in b.ops
                   for r in getattr(op, "__dict__", {}).values()
                   if isinstance(r, ops.Register)}
    assert "a" not in found  # a parameter: written by the call, not by an op
    assert not any(n.startswith("x") for n in found)  # read after the if: maybe unset
    assert found and found < used_before  # the comparison's and the sum's temporaries


def test_a_register_read_in_another_block_than_its_write_is_not_written_first() -> None:
    function = function_named("function g(a) { var y = a\n while (y < 3) { y = y + 1 }\n"
                              " return y }\nprint(g(0))\n", "g")
    assert not any(n.startswith("y") for n in names(written_before_read(function)))
