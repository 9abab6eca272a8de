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
    if stage in ("llvm", "asm"):
        lowering = _kernel_build(source, strlen).lowering
        assert lowering is not None
        if stage == "llvm":
            return lowering.bpf.llvm_ir()
        return asmview.annotate(codegen.assembly(lowering.bpf), source)
    if stage == "ast":
        return dump_ast(driver.parse_source(source)) + "\n"
    # argN typed from the events, as `run` and `build` compile it; only the probes that
    # read argN are expanded (no tracefs for the others: no root needed).
    compilation, _ = driver.compile_typed(source, every_probe=False)
    if stage == "types":
        return dump_types(compilation)
    if stage == "ir":
        return print_module(compilation.module)
    raise SystemExit(f"kllvm: error: --emit={stage} needs the BPF backend (not available yet)")


def build(source: Source, output: str, strlen: int = DEFAULT_STRLEN) -> None:
    built = _kernel_build(source, strlen)
    assert built.object is not None
    data = Artifact(source, built.manifest, built.object, built.compilation.module).dumps()
    with open_file(output, "artifact") as out:
        try:
            out.write(data)
        except OSError as e:
            raise OutputError(f"cannot write artifact '{output}': {e.strerror}") from None
