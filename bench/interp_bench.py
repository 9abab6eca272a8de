"""Interpreter speed: recursive fib(25) and a table-heavy loop, on IR built by hand.

Run: .venv/bin/python bench/interp_bench.py
Prints, per benchmark, the best wall time of a few runs and IR ops executed per second.
(The IR is built with FunctionBuilder until the frontend's lowering can produce it from
ktap source.)
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable

from frontend.types import ANY, INT
from ir import ops
from ir.builder import FunctionBuilder
from ir.interp import Interpreter, RuntimeEnv
from ir.values import Closure
from kllvm.diagnostics import Span

SPAN = Span(1, 1, 1, 2)
FIB_N = 25
LOOP_ITERATIONS = 90_000
TABLE_KEYS = 1000


def k(value: int) -> ops.Const:
    return ops.Const(value, INT)


class _Emitter:
    def __init__(self, module: ops.Module, function: ops.Function) -> None:
        self.module = module
        self.b = FunctionBuilder(function)

    def err(self, message: str) -> int:
        return self.module.error_site(SPAN, message)

    def reg(self) -> ops.Register:
        return self.b.register(ANY)

    def arith(
        self, op: str, a: ops.Value, b: ops.Value, dest: ops.Register | None = None
    ) -> ops.Register:
        dest = dest or self.reg()
        self.b.emit(ops.Arith(SPAN, dest, op, a, b, self.err("arith")))
        return dest


def with_main(module: ops.Module) -> ops.Module:
    main = ops.Function("main", SPAN, [], [])
    FunctionBuilder(main).terminate(ops.Return(SPAN, None))
    module.functions["main"] = main
    return module


def fib_module() -> ops.Module:
    """function fib(n) { if (n < 2) { return n } return fib(n-1) + fib(n-2) }"""
    module = ops.Module(main="main")
    n = ops.Register("n", ANY)
    fib = ops.Function("fib", SPAN, [n], [])
    module.functions["fib"] = fib
    e = _Emitter(module, fib)
    small = e.reg()
    e.b.emit(ops.Compare(SPAN, small, "<", n, k(2), e.err("compare")))
    base, recurse = e.b.new_block("base"), e.b.new_block("recurse")
    e.b.terminate(ops.Branch(SPAN, small, base, recurse))
    e.b.position_at(base)
    e.b.terminate(ops.Return(SPAN, n))
    e.b.position_at(recurse)
    me = e.reg()
    e.b.emit(ops.MakeClosure(SPAN, me, "fib", []))
    results = []
    for step in (1, 2):
        result = e.reg()
        e.b.emit(ops.Call(SPAN, result, me, [e.arith("-", n, k(step))], e.err("call")))
        results.append(result)
    e.b.terminate(ops.Return(SPAN, e.arith("+", *results)))
    return with_main(module)


def fib_ops(n: int) -> int:
    """IR ops fib(n) executes: 3 in a base case, 9 in a recursive one."""
    calls = {0: (1, 0), 1: (1, 0)}  # n -> (base cases, recursive cases)
    for i in range(2, n + 1):
        a, b = calls[i - 1], calls[i - 2]
        calls[i] = (a[0] + b[0], a[1] + b[1] + 1)
    base, recursive = calls[n]
    return 3 * base + 9 * recursive


def table_loop_module() -> ops.Module:
    """var t = {}; var sum = 0
    for (i = 0; i < LOOP_ITERATIONS; i += 1) { t[i % 1000] += i; sum += t[i % 1000] }
    return sum"""
    module = ops.Module(main="main")
    loop = ops.Function("loop", SPAN, [], [])
    module.functions["loop"] = loop
    module.tables.append(ops.TableDecl(0, SPAN, "t", INT, INT, False))
    e = _Emitter(module, loop)
    table, total, i = e.reg(), e.reg(), e.reg()
    e.b.emit(ops.NewTable(SPAN, table, 0, None, None, e.err("table.new")))
    e.b.emit(ops.Move(SPAN, total, k(0)))
    e.b.emit(ops.Move(SPAN, i, k(0)))
    head, body, done = e.b.new_block("head"), e.b.new_block("body"), e.b.new_block("done")
    e.b.terminate(ops.Jump(SPAN, head))
    e.b.position_at(head)
    more = e.reg()
    e.b.emit(ops.Compare(SPAN, more, "<", i, k(LOOP_ITERATIONS), e.err("compare")))
    e.b.terminate(ops.Branch(SPAN, more, body, done))
    e.b.position_at(body)
    e.b.emit(ops.LoopTick(SPAN, e.err("loop")))
    key = e.arith("%", i, k(TABLE_KEYS))
    e.b.emit(ops.TableAdd(SPAN, table, key, i, e.err("+=")))
    value = e.reg()
    e.b.emit(ops.TableGet(SPAN, value, table, key, e.err("get")))
    e.arith("+", total, value, dest=total)
    e.arith("+", i, k(1), dest=i)
    e.b.terminate(ops.Jump(SPAN, head))
    e.b.position_at(done)
    e.b.terminate(ops.Return(SPAN, total))
    return with_main(module)


def table_loop_ops() -> int:
    # per iteration: compare, branch, tick, %, +=, get, +, +, jump; then the exit test
    return 4 + 9 * LOOP_ITERATIONS + 3


def table_loop_expected() -> int:
    counts = [0] * TABLE_KEYS
    total = 0
    for i in range(LOOP_ITERATIONS):
        counts[i % TABLE_KEYS] += i
        total += counts[i % TABLE_KEYS]
    return total


def bench(name: str, run: Callable[[], object], expected: object, op_count: int) -> None:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
        assert result == expected, (name, result, expected)
    print(f"{name:<24} {best:8.3f} s  {op_count / best / 1e6:8.2f} M ops/s")


def main() -> None:
    env = RuntimeEnv(out=io.BytesIO())
    fib = Interpreter(fib_module(), env)
    bench(f"fib({FIB_N})", lambda: fib.call(Closure("fib", ()), [FIB_N]), 75025, fib_ops(FIB_N))
    loop = Interpreter(table_loop_module(), env)
    bench(
        f"table loop ({LOOP_ITERATIONS})",
        lambda: loop.call(Closure("loop", ())),
        table_loop_expected(),
        table_loop_ops(),
    )


if __name__ == "__main__":
    main()
