"""Front-end and IR speed: parser start-up, and compile time against script length.

    .venv/bin/python bench/frontend_bench.py [--runs N]

Start-up: loading the LALR parser from frontend/ktap.tables.json against building it from
the grammar. Scale: scripts whose probe body is 1,000, 5,000 and 10,000 lines of one
statement, compiled through names, IR, types and checks (what `kllvm dump --emit=ir` does,
without the tracepoint catalog); time per line should stay about the same as scripts grow.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from frontend import parsetables  # noqa: E402
from frontend.diagnostics import Source  # noqa: E402
from ir.printer import print_module  # noqa: E402
from kllvm.driver import compile_source  # noqa: E402

BODIES: dict[str, Callable[[int], str]] = {
    "n = n + 1": lambda i: "  n = n + 1\n",
    "t[i] += 1": lambda i: f"  t[{i}] += 1\n",
    "if (x) { n += 1 }": lambda i: "  if (x) { n += 1 }\n",
}
LINES = (1000, 5000, 10000)


def script(body: Callable[[int], str], lines: int) -> str:
    statements = "".join(body(i) for i in range(lines))
    return f"var n = 0\nvar x = 1\nvar t = {{}}\ntrace_end {{\n{statements}}}\nprint(n)\n"


def best_of(runs: int, work: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    grammar = parsetables.GRAMMAR_PATH.read_text(encoding="utf-8")
    load = best_of(runs, parsetables.load)
    build = best_of(runs, lambda: parsetables.build(grammar))
    print(f"parser start-up: {load * 1e3:.1f} ms from the JSON tables, "
          f"{build * 1e3:.1f} ms built from the grammar")
    for name, body in BODIES.items():
        for lines in LINES:
            source = Source("bench.kp", script(body, lines))
            took = best_of(runs, lambda s=source: print_module(compile_source(s).module))
            print(f"{name:18} {lines:6} lines: {took * 1e3:7.0f} ms, "
                  f"{took / lines * 1e6:4.0f} us/line")


if __name__ == "__main__":
    main()
