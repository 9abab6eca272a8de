"""`kllvm build` and the compile step of `run SCRIPT`: with kllvm/dumping.py (`dump`), the only
parts of the command that import the compiler (lark, llvmlite)."""

from __future__ import annotations

from backend.artifact import Artifact
from backend.layout import DEFAULT_STRLEN
from frontend.diagnostics import Source
from frontend.tapsetpath import SearchPath
from kllvm.driver import Build, compile_script
from kllvm.output import OutputError, open_file

__all__ = ["build", "compile_script"]


def _kernel_build(source: Source, strlen: int, tapset_path: SearchPath | None) -> Build:
    build = compile_script(source, strlen, tapset_path=tapset_path)
    if build.lowering is None or build.object is None:
        raise SystemExit("kllvm: error: the script has no trace or profile probe to compile")
    return build


def build(source: Source, output: str, strlen: int = DEFAULT_STRLEN,
          tapset_path: SearchPath | None = None) -> None:
    built = _kernel_build(source, strlen, tapset_path)
    assert built.object is not None
    data = Artifact(built.compilation.source, built.manifest, built.object,
                    built.compilation.module).dumps()
    with open_file(output, "artifact") as out:
        try:
            out.write(data)
        except OSError as e:
            raise OutputError(f"cannot write artifact '{output}': {e.strerror}") from None
