"""The compiling commands (`build`, `dump`) and the compile step of `run SCRIPT`: the only
part of the command that imports the compiler (lark, llvmlite)."""

from __future__ import annotations

from backend import asmview, codegen
from backend.artifact import Artifact
from backend.layout import DEFAULT_STRLEN
from frontend.diagnostics import Source
from frontend.sexpr import dump as dump_ast
from ir.printer import print_module
from kllvm import driver
from kllvm.driver import Build, compile_script
from kllvm.output import OutputError, open_file
from kllvm.typesdump import dump_types

__all__ = ["build", "compile_script", "dump"]


def _kernel_build(source: Source, strlen: int) -> Build:
    build = compile_script(source, strlen)
    if build.lowering is None or build.object is None:
        raise SystemExit("kllvm: error: the script has no trace or profile probe to compile")
    return build


def dump(source: Source, stage: str, strlen: int = DEFAULT_STRLEN) -> str:
    """The product of one stage: the pipeline runs up to the pass that completes it."""
    wanted = driver.Stage(stage)
    # argN typed from the events, as `run` and `build` compile it; for the typed IR only
    # the probes that read argN are expanded (no tracefs for the others: no root needed).
    state = driver.State(source, strlen=strlen,
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
    return asmview.annotate(codegen.assembly(state.lowering.bpf), source)


def build(source: Source, output: str, strlen: int = DEFAULT_STRLEN) -> None:
    built = _kernel_build(source, strlen)
    assert built.object is not None
    data = Artifact(source, built.manifest, built.object, built.compilation.module).dumps()
    with open_file(output, "artifact") as out:
        try:
            out.write(data)
        except OSError as e:
            raise OutputError(f"cannot write artifact '{output}': {e.strerror}") from None
