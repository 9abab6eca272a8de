"""Runs a compiled script: the main chunk in the interpreter, then (with probes) the live
BPF session, then trace_end. Renders run-time errors like compile errors.

Compile and run are apart: this module imports nothing of the compiler (lark, llvmlite);
a script, unlike a built artifact, is compiled through `kllvm.compiler`, imported only then.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from backend.layout import DEFAULT_STRLEN
from backend.manifest import Manifest
from frontend.diagnostics import Diagnostic, Source
from ir import ops
from ir.interp import Interpreter, RuntimeEnv
from ir.ops import TableDecl
from ir.records import Format, Records
from ir.values import ExitRequest, KtapRuntimeError, KtapTable, full_table_message
from kllvm.output import open_file, script_output

if TYPE_CHECKING:
    from backend.artifact import Artifact
    from backend.guest import GuestScript
    from backend.runtime import Options


def report_runtime_error(records: Records, source: Source, error: KtapRuntimeError) -> None:
    if error.span is not None:
        records.diagnostic(source, Diagnostic(error.span, error.message))
    else:
        records.message("error", error.message, source.name)


def report_dropped(records: Records, source: Source,
                   tables: list[tuple[TableDecl, KtapTable]]) -> None:
    """Part A §7: a full table is not silent."""
    for decl, table in tables:
        if table.dropped:
            message = full_table_message(decl.name, table.capacity, table.dropped)
            records.diagnostic(source, Diagnostic(decl.span, message, "warning"))


def run_artifact(source: Source, args: list[str], command: list[str],
                 options: argparse.Namespace) -> int:
    """Runs what `kllvm build` wrote, without compiling."""
    from backend import artifact

    try:
        built = artifact.Artifact.loads(source.text)
    except artifact.ArtifactError as e:
        raise SystemExit(f"kllvm: error: {source.name}: {e}") from None
    if options.strlen not in (DEFAULT_STRLEN, built.manifest.strlen):
        raise SystemExit(f"kllvm: error: {source.name} was built with --strlen "
                         f"{built.manifest.strlen}; build it again to change it")
    return run_built(built, args, command, options, announce=not options.quiet)


def run_built(built: Artifact, args: list[str], command: list[str],
              options: argparse.Namespace, announce: bool = False) -> int:
    """Runs a checked artifact: one the user gave (`announce`: first say what it may
    attach), or the compile cache's entry for a script (run like the script)."""
    from backend import artifact, runtime

    with script_output(options.output) as out:
        if announce:
            banner = artifact.banner(built)
            Records(out, Format(options.format)).notice(banner, "artifact",
                                                        text=banner.rstrip("\n"))
        return runtime.run(built.source, built.module, built.manifest, built.object, out,
                           args, _run_options(options, command))


def _run_options(options: argparse.Namespace, command: list[str]) -> Options:
    from backend import runtime

    run_options = runtime.options_from(options, command)
    path = getattr(options, "flamegraph", None)
    if path is not None:
        run_options.flamegraph = lambda folded: write_flamegraph(path, folded)
    return run_options


def write_flamegraph(path: str, folded: dict[str, int]) -> None:
    """`--flamegraph FILE`: the SVG of the run's stacks (backend.flamegraph)."""
    from backend import flamegraph

    samples = sum(folded.values())
    with open_file(path, "flame graph") as svg:
        svg.write(flamegraph.render(folded, f"kllvm: {samples} samples"))


def run_compiled(source: Source, module: ops.Module, manifest: Manifest, obj: bytes | None,
                 args: list[str], command: list[str], options: argparse.Namespace,
                 guest: GuestScript | None = None) -> int:
    """Runs a script just compiled: live when it has probes (an object), else in the
    interpreter alone. With `guest` (--interp) the object is the generic program that
    feeds the guest's probe bodies, which the interpreter runs."""
    from backend import runtime

    with script_output(options.output) as out:
        if obj is not None:
            return runtime.run(source, module, manifest, obj, out,
                               args, _run_options(options, command), guest)
        if getattr(options, "flamegraph", None) is not None:
            write_flamegraph(options.flamegraph, {})  # no probes: no stacks
        if guest is not None:
            source, module = guest.source, guest.module
        env = RuntimeEnv(out=out, script=source.name, argv=args,
                         output_format=Format(options.format))
        interpreter = Interpreter(module, env)
        try:
            status = _invoke(source, env.records, interpreter.run_main)
            if status is None and env.trace_end is not None:
                status = _invoke(source, env.records, lambda: interpreter.call(env.trace_end))
            return status or 0
        finally:
            out.flush()
            report_dropped(env.records, source, env.tables)


def _invoke(source: Source, records: Records, body: Callable[[], object]) -> int | None:
    """Runs the main chunk or trace_end of a script without probes: 1 after a fatal
    error (which skips trace_end), None otherwise (exit() and non-fatal errors included)."""
    try:
        body()
    except ExitRequest:
        pass
    except KtapRuntimeError as e:
        report_runtime_error(records, source, e)
        if e.fatal:
            return 1
    return None
