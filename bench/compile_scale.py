"""Compile time of one probe with a long body, by body shape and length.

Prints, for 1k, 5k and 10k-line bodies of each shape, the seconds spent in the front end
and IR (parse, check, infer), in lowering to LLVM IR, and in LLVM (optimisation and BPF
code generation), side by side. Time should grow about linearly with the length: the
10k column about twice the 5k one.

    .venv/bin/python bench/compile_scale.py [--sizes 1000,5000,10000] [--shapes n,t,...]

Compiles against the machine's tracefs (syscalls:sys_enter_getpid), so run it as root.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from backend import codegen
from backend.lower import ModuleLowering
from backend.plan import plan
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import Source
from kllvm import driver

HEADER = "var n = 0\nvar t = {}\nvar s = {}\ntrace syscalls:sys_enter_getpid {\n"
FOOTER = "}\ntrace_end { print(n, len(t), len(s)) }\n"


def _if_chain(lines: int) -> str:
    out = ["  if (pid == 0) { n += 1 }"]
    out += [f"  elseif (pid == {i}) {{ n += {i} }}" for i in range(1, lines - 1)]
    out.append("  else { n += 2 }")
    return "\n".join(out) + "\n"


SHAPES: dict[str, Callable[[int], str]] = {
    "n += 1": lambda lines: "  n += 1\n" * lines,
    "t[k] += 1": lambda lines: "".join(f"  t[{k}] += 1\n" for k in range(lines)),
    "print": lambda lines: "".join(f"  print({k})\n" for k in range(lines)),
    "if/elseif": _if_chain,
    "s[execname]": lambda lines: "  s[execname] += 1\n" * lines,
}


@dataclass(frozen=True)
class Timing:
    front: float
    lower: float
    llvm: float

    @property
    def total(self) -> float:
        return self.front + self.lower + self.llvm


def compile_timed(text: str, catalog: TracepointCatalog) -> Timing:
    """The stages of `driver.compile_script`, timed one by one."""
    source = Source("scale.kp", text)
    start = time.perf_counter()
    compilation, events = driver.compile_typed(source, catalog)
    module = compilation.module
    planned = plan(module, events.values(), catalog)
    front = time.perf_counter()
    lowering = ModuleLowering(module, source.name, source.text, 128)
    lowering.lower_programs(planned)
    text_ir = lowering.bpf.llvm_ir()
    lowered = time.perf_counter()
    codegen.compile_object(text_ir)
    done = time.perf_counter()
    return Timing(front - start, lowered - front, done - lowered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000")
    parser.add_argument("--shapes", default=",".join(SHAPES),
                        help="comma list of: " + ", ".join(SHAPES))
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    catalog = TracepointCatalog()
    head = f"{'shape':<14}" + "".join(f"{f'{n} lines':>26}" for n in sizes)
    print(head)
    print(f"{'':<14}" + f"{'front+lower+ llvm = total':>27}" * len(sizes))
    for shape in options.shapes.split(","):
        row = f"{shape:<14}"
        for size in sizes:
            t = compile_timed(HEADER + SHAPES[shape](size) + FOOTER, catalog)
            row += f"{t.front:>6.2f}+{t.lower:5.2f}+{t.llvm:6.2f} ={t.total:6.2f}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
