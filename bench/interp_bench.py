"""Interpreter speed on ktap source: recursive fib(25) and a table-heavy loop.

    .venv/bin/python bench/interp_bench.py [--runs N]

Each script is compiled once (parse, names, IR, types), then run N times; the best run is
reported with the number of calls or loop iterations per second.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frontend.diagnostics import Source  # noqa: E402
from ir.interp import Interpreter, RuntimeEnv  # noqa: E402
from kllvm.driver import compile_source  # noqa: E402

FIB = """
function fib(n) {
	if (n < 2) { return n }
	return fib(n - 1) + fib(n - 2)
}
print(fib(25))
"""
FIB_CALLS = 242785  # calls made by fib(25)

TABLE_LOOP = """
var t = {}
var sum = 0
for (i = 1, 90000) {
	t[i % 1000] += i
	sum = sum + t[i % 1000]
}
print(len(t), sum)
"""
TABLE_ITERATIONS = 90000


def best_of(text: str, runs: int) -> tuple[float, bytes]:
    module = compile_source(Source("bench.kp", text)).module
    best, output = float("inf"), b""
    for _ in range(runs):
        out = io.BytesIO()
        interpreter = Interpreter(module, RuntimeEnv(out=out))
        start = time.perf_counter()
        interpreter.run_main()
        best = min(best, time.perf_counter() - start)
        output = out.getvalue()
    return best, output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    fib_s, fib_out = best_of(FIB, runs)
    loop_s, loop_out = best_of(TABLE_LOOP, runs)
    assert fib_out == b"75025\n", fib_out
    print(f"{'benchmark':<28}{'best s':>10}{'per second':>16}")
    print(f"{'fib(25), recursive':<28}{fib_s:>10.3f}{FIB_CALLS / fib_s:>13,.0f} calls")
    print(f"{'table loop, 90000 iters':<28}{loop_s:>10.3f}"
          f"{TABLE_ITERATIONS / loop_s:>13,.0f} iters   ({loop_out.decode().strip()})")


if __name__ == "__main__":
    main()
