"""The ordered compiler passes, with a gate after every phase that recorded errors."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from frontend import ast
from frontend.diagnostics import CompileError, DiagnosticSink, InternalError, Source
from frontend.parser import parse
from frontend.scope import Resolution, resolve
from ir import ops
from ir.checks import check_module
from ir.infer import ArgTypes, Solution, infer
from ir.lower_ast import lower
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
    """A parsed, name-resolved script: lowering reads both and changes neither, so
    one Front serves every compilation of the script."""

    chunk: ast.Chunk
    resolution: Resolution


def front(source: Source) -> Front:
    with _no_cycle_collection():
        chunk = parse_source(source)
        sink = DiagnosticSink(source)
        resolution = resolve(chunk, sink)
        _gate(sink)
        return Front(chunk, resolution)


def compile_source(source: Source, arg_types: ArgTypes = no_event_types,
                   parsed: Front | None = None) -> Compilation:
    """Source → AST → names → IR → types → probe-context checks. Raises CompileError."""
    with _no_cycle_collection():
        return _compile(source, arg_types, parsed)


def _compile(source: Source, arg_types: ArgTypes, parsed: Front | None) -> Compilation:
    parsed = parsed or front(source)
    chunk, resolution = parsed.chunk, parsed.resolution
    sink = DiagnosticSink(source)
    module = lower(chunk, resolution, sink)
    _gate(sink)
    solution = infer(module, arg_types)
    check_module(module, solution, sink)
    _gate(sink)
    problems = verify_module(module)
    if problems:
        raise InternalError("IR verification failed:\n" + "\n".join(problems))
    return Compilation(source, chunk, resolution, module, solution)
