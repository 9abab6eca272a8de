"""`kllvm dump --emit=STAGE`: the product of one stage of the pipeline, printed.

Apart from kllvm/compiler.py so that compiling a script to run it imports none of the
printers (the AST's s-expressions, the typed IR's text, the annotated assembly)."""

from __future__ import annotations

from backend import asmview, codegen
from backend.layout import DEFAULT_STRLEN
from frontend.diagnostics import Source
from frontend.sexpr import dump as dump_ast
from frontend.tapsetpath import SearchPath
from ir.printer import print_module
from kllvm import driver
from kllvm.typesdump import dump_types


def dump(source: Source, stage: str, strlen: int = DEFAULT_STRLEN,
         tapset_path: SearchPath | None = None) -> str:
    """The product of one stage: the pipeline runs up to the pass that completes it."""
    wanted = driver.Stage(stage)
    # argN typed from the events, as `run` and `build` compile it; for the typed IR only
    # the probes that read argN are expanded (no tracefs for the others: no root needed).
    state = driver.State(source, strlen=strlen,
                         tapset_path=tapset_path or driver.default_tapset_path(),
                         every_probe=wanted not in (driver.Stage.TYPES, driver.Stage.IR))
    driver.run(state, driver.DUMP_AFTER[wanted])
    match wanted:
        case driver.Stage.AST:
            assert state.chunk is not None
            return dump_ast(state.chunk) + "\n"
        case driver.Stage.TYPES:
            return dump_types(state.compilation())
        case driver.Stage.IR:
            return print_module(state.typed)
    if state.lowering is None:
        raise SystemExit("kllvm: error: the script has no trace or profile probe to compile")
    if wanted is driver.Stage.LLVM:
        return state.lowering.bpf.llvm_ir()
    return asmview.annotate(codegen.assembly(state.lowering.bpf), state.source)
