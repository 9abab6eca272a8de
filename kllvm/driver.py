"""The compiler's pipeline: the ordered passes from a script to a BPF object and its
manifest, with a gate after every phase that recorded errors.

parse → resolve names → lower to IR → infer types → expand the probes' events → infer
again with argN types (same module) → probe-context checks → placement → IR verifier →
plan programs → lower to LLVM → object.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from backend import codegen
from backend.events import (
    ProbeEvents,
    ProviderError,
    arg_indices,
    context_names,
    kernel_reach,
    make_arg_types,
)
from backend.layout import DEFAULT_STRLEN
from backend.lower import LowerError, ModuleLowering
from backend.manifest import Manifest
from backend.providers.catalog import TracepointCatalog
from backend.providers.registry import probe_events, program_specs
from frontend import ast
from frontend.diagnostics import (
    CompileError,
    Diagnostic,
    DiagnosticSink,
    InternalError,
    Source,
    render,
)
from frontend.parser import parse
from frontend.scope import Resolution, resolve
from ir import ops
from ir.checks import check_module
from ir.infer import ArgTypes, Solution, apply, infer
from ir.lower_ast import lower
from ir.placement import place
from ir.verify import verify_module


@dataclass
class Compilation:
    """What `compile_source` returns: the AST, its names resolved, and the checked, typed IR."""

    source: Source
    chunk: ast.Chunk
    resolution: Resolution
    module: ops.Module
    solution: Solution


def _gate(sink: DiagnosticSink) -> None:
    if sink.has_errors:
        raise CompileError(sink.render_all())


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Compiling builds a large graph of objects that all stay alive, and next to no cyclic
    garbage (a 10,000-line script: 6 objects). The cycle collector's full passes rescan the
    whole graph, so with it on a 10,000-line script took ~1.9x longer per line than a
    1,000-line one; without it, the same per line."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def no_event_types(function: str, index: int) -> None:
    del function, index


def parse_source(source: Source) -> ast.Chunk:
    sink = DiagnosticSink(source)
    chunk = parse(source, sink)
    _gate(sink)
    assert chunk is not None
    return chunk


@dataclass(frozen=True)
class Front:
    """A parsed, name-resolved script (what lowering reads, and changes neither)."""

    chunk: ast.Chunk
    resolution: Resolution


def front(source: Source) -> Front:
    with _no_cycle_collection():
        chunk = parse_source(source)
        sink = DiagnosticSink(source)
        resolution = resolve(chunk, sink)
        _gate(sink)
        return Front(chunk, resolution)


def compile_source(source: Source, arg_types: ArgTypes = no_event_types) -> Compilation:
    """Source → AST → names → IR → types → checks → placement, with the given argN
    types (no event is expanded). Raises CompileError."""
    with _no_cycle_collection():
        parsed = front(source)
        module = _lower(source, parsed)
        solution = infer(module, arg_types)
        apply(module, solution)
        return _finish(source, parsed, module, solution)


def _lower(source: Source, parsed: Front) -> ops.Module:
    sink = DiagnosticSink(source)
    module = lower(parsed.chunk, parsed.resolution, sink)
    _gate(sink)
    return module


def _finish(source: Source, parsed: Front, module: ops.Module,
            solution: Solution) -> Compilation:
    """The passes after inference: probe-context checks, placement, the IR verifier."""
    sink = DiagnosticSink(source)
    check_module(module, solution, sink)
    _gate(sink)
    place(module)
    problems = verify_module(module)
    if problems:
        raise InternalError("IR verification failed:\n" + "\n".join(problems))
    return Compilation(source, parsed.chunk, parsed.resolution, module, solution)


@dataclass
class Build:
    """A compiled script: the typed IR, and the manifest and BPF object for the runtime."""

    compilation: Compilation
    manifest: Manifest
    lowering: ModuleLowering | None  # None when no probe runs in the kernel
    object: bytes | None


def kernel_probes(module: ops.Module) -> list[ops.ProbeDecl]:
    return [p for p in module.probes if p.kind.runs_in_kernel]


def reads_args(module: ops.Module, probe: ops.ProbeDecl) -> bool:
    """Whether the probe's body, or a function it calls, reads argN: only then do the
    types of the IR depend on the events the probe expands to."""
    return bool(arg_indices(context_names(module, kernel_reach(module, probe.function))))


def compile_typed(source: Source, catalog: TracepointCatalog | None = None,
                  every_probe: bool = True) -> tuple[Compilation, dict[str, ProbeEvents]]:
    """The checked, typed IR, with argN typed from the events the probes attach to
    (what `run`, `build` and `dump` all compile), and those events by probe function.

    The script is lowered once. Inference runs first without event types, to find the
    probes' call targets and what they read; the probes are expanded; inference runs
    again on the same module only if some probe reads argN. With `every_probe` False
    only those probes are expanded (what the typed IR needs, and no tracefs otherwise)."""
    with _no_cycle_collection():
        parsed = front(source)
        module = _lower(source, parsed)
        solution = infer(module, no_event_types)
        apply(module, solution)  # the providers read call targets from the IR
        probes = [p for p in kernel_probes(module) if every_probe or reads_args(module, p)]
        if not probes:
            return _finish(source, parsed, module, solution), {}
        catalog = catalog or TracepointCatalog()
        try:
            events = {p.function: probe_events(module, p, catalog) for p in probes}
        except ProviderError as e:
            raise e.compile_error(source) from None
        if any(found.arg_types for found in events.values()):
            solution = infer(module, make_arg_types(module, events))
            apply(module, solution)
        return _finish(source, parsed, module, solution), events


def compile_script(source: Source, strlen: int = DEFAULT_STRLEN,
                   catalog: TracepointCatalog | None = None, null_checks: bool = True) -> Build:
    """Raises CompileError for everything the user can fix, verifier rejections aside.

    Scripts whose only probes are `tick-N` get an object too (without programs): the
    live runtime runs their ticks, with the banner, -d and signals of any session."""
    catalog = catalog or TracepointCatalog()
    compilation, events = compile_typed(source, catalog)
    if not compilation.module.probes:
        return Build(compilation, Manifest(strlen), None, None)
    module = compilation.module
    specs, names = program_specs(list(events.values()))
    try:
        lowering = ModuleLowering(module, source.name, source.text, strlen, null_checks,
                                  catalog)
        lowering.lower_programs(specs, names)
        obj = codegen.compile_object(lowering.bpf)
    except LowerError as e:
        raise CompileError(render(source, Diagnostic(e.span, e.message))) from None
    return Build(compilation, lowering.manifest, lowering, obj)
