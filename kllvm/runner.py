"""Runs a compiled script: the main chunk in the interpreter, then (with probes) the live
BPF session, then trace_end. Renders run-time errors like compile errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from backend.layout import DEFAULT_STRLEN
from frontend.diagnostics import Diagnostic, Source, render
from frontend.sexpr import dump as dump_ast
from ir.interp import Interpreter, RuntimeEnv
from ir.ops import TableDecl
from ir.printer import print_module
from ir.values import ExitRequest, KtapRuntimeError, KtapTable, full_table_message
from kllvm import driver
from kllvm.output import OutputError, open_file, script_output
from kllvm.typesdump import dump_types

if TYPE_CHECKING:
    from backend.pipeline import Build as pipeline_build


def report_runtime_error(source: Source, error: KtapRuntimeError) -> None:
    if error.span is not None:
        sys.stderr.write(render(source, Diagnostic(error.span, error.message)))
    else:
        sys.stderr.write(f"{source.name}: error: {error.message}\n")


def report_dropped(source: Source, tables: list[tuple[TableDecl, KtapTable]]) -> None:
    """Part A §7: a full table is not silent."""
    for decl, table in tables:
        if table.dropped:
            message = full_table_message(decl.name, table.capacity, table.dropped)
            sys.stderr.write(render(source, Diagnostic(decl.span, message, "warning")))


def run_script(source: Source, args: list[str], command: list[str],
               options: argparse.Namespace) -> int:
    from backend import artifact, pipeline, runtime

    if artifact.is_artifact(source.text):
        try:
            built = artifact.Artifact.loads(source.text)
        except artifact.ArtifactError as e:
            raise SystemExit(f"kllvm: error: {source.name}: {e}") from None
        if options.strlen not in (DEFAULT_STRLEN, built.manifest.strlen):
            raise SystemExit(f"kllvm: error: {source.name} was built with --strlen "
                             f"{built.manifest.strlen}; build it again to change it")
        with script_output(options.output) as out:
            if not options.quiet:
                out.write(artifact.banner(built).encode())
            return runtime.run(built.source, built.module, built.manifest, built.object, out,
                               args, runtime.options_from(options, command))
    build = pipeline.compile_script(source, options.strlen)
    module = build.compilation.module
    with script_output(options.output) as out:
        if build.object is not None:
            return runtime.run(source, module, build.manifest, build.object, out,
                               args, runtime.options_from(options, command))
        env = RuntimeEnv(out=out, script=source.name, argv=args)
        interpreter = Interpreter(module, env)
        try:
            status = _invoke(source, out, interpreter.run_main)
            if status is None and env.trace_end is not None:
                status = _invoke(source, out, lambda: interpreter.call(env.trace_end))
            return status or 0
        finally:
            out.flush()
            report_dropped(source, env.tables)


def _invoke(source: Source, out: BinaryIO, body: Callable[[], object]) -> int | None:
    """Runs the main chunk or trace_end of a script without probes: 1 after a fatal
    error (which skips trace_end), None otherwise (exit() and non-fatal errors included)."""
    try:
        body()
    except ExitRequest:
        pass
    except KtapRuntimeError as e:
        out.flush()
        report_runtime_error(source, e)
        if e.fatal:
            return 1
    return None


def _kernel_build(source: Source, strlen: int) -> pipeline_build:
    from backend import pipeline

    build = pipeline.compile_script(source, strlen)
    if build.lowering is None or build.object is None:
        raise SystemExit("kllvm: error: the script has no trace or profile probe to compile")
    return build


def dump(source: Source, stage: str, strlen: int = DEFAULT_STRLEN) -> str:
    if stage in ("llvm", "asm"):
        from backend import asmview, codegen

        lowering = _kernel_build(source, strlen).lowering
        assert lowering is not None
        if stage == "llvm":
            return lowering.bpf.llvm_ir()
        return asmview.annotate(codegen.assembly(lowering.bpf), source)
    if stage == "ast":
        return dump_ast(driver.parse_source(source)) + "\n"
    from backend import pipeline

    # argN typed from the events, as `run` and `build` compile it.
    compilation, _ = pipeline.compile_typed(source)
    if stage == "types":
        return dump_types(compilation)
    if stage == "ir":
        return print_module(compilation.module)
    raise SystemExit(f"kllvm: error: --emit={stage} needs the BPF backend (not available yet)")


def build(source: Source, output: str, strlen: int = DEFAULT_STRLEN) -> None:
    from backend.artifact import Artifact

    built = _kernel_build(source, strlen)
    assert built.object is not None
    data = Artifact(source, built.manifest, built.object, built.compilation.module).dumps()
    with open_file(output, "artifact") as out:
        try:
            out.write(data)
        except OSError as e:
            raise OutputError(f"cannot write artifact '{output}': {e.strerror}") from None
