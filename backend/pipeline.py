"""Script → typed IR (with argN types from the events) → BPF object + manifest."""

from __future__ import annotations

from dataclasses import dataclass

from backend import codegen
from backend.events import (
    ProbeEvents,
    ProviderError,
    TracepointCatalog,
    make_arg_types,
    probe_events,
)
from backend.layout import DEFAULT_STRLEN
from backend.lower import LowerError, ModuleLowering, ProgramSpec
from backend.manifest import AttachPoint, Manifest
from frontend.eventdef import KprobeSpec, UprobeSpec
from frontend.scope import resolve
from ir import ops
from ir.checks import check_module
from ir.infer import ArgTypes, infer
from ir.lower_ast import lower
from kllvm import driver
from kllvm.diagnostics import CompileError, Diagnostic, DiagnosticSink, Source, render


@dataclass
class Build:
    compilation: driver.Compilation
    manifest: Manifest
    lowering: ModuleLowering | None  # None when no probe runs in the kernel
    object: bytes | None


def _structure(source: Source) -> ops.Module:
    """The IR with types but without the kernel checks: enough to see which probes
    there are, what they call and which event variables they read."""
    chunk = driver.parse_source(source)
    sink = DiagnosticSink(source)
    resolution = resolve(chunk, sink)
    driver._gate(sink)
    module = lower(chunk, resolution, sink)
    driver._gate(sink)
    infer(module, driver.no_event_types)
    return module


def _compile(source: Source, arg_types: ArgTypes) -> driver.Compilation:
    """`driver.compile_source`, tolerating only BUG-1 of ir/lower_ast.py (a load temporary
    named like the captured variable it loads, tracked in tests/ir/test_programs.py): the
    backend keys registers by identity, so the clash is harmless here."""
    try:
        return driver.compile_source(source, arg_types)
    except driver.InternalError as e:
        problems = str(e).splitlines()[1:]
        if not all("two different registers are named" in p for p in problems):
            raise
    chunk = driver.parse_source(source)
    sink = DiagnosticSink(source)
    resolution = resolve(chunk, sink)
    module = lower(chunk, resolution, sink)
    solution = infer(module, arg_types)
    check_module(module, solution, sink)
    driver._gate(sink)
    return driver.Compilation(source, chunk, resolution, module, solution)


def kernel_probes(module: ops.Module) -> list[ops.ProbeDecl]:
    return [p for p in module.probes if p.kind in ("trace", "profile")]


def compile_script(source: Source, strlen: int = DEFAULT_STRLEN,
                   catalog: TracepointCatalog | None = None, null_checks: bool = True) -> Build:
    """Raises CompileError for everything the user can fix, verifier rejections aside."""
    structure = _structure(source)
    if not kernel_probes(structure):
        return Build(_compile(source, driver.no_event_types), Manifest(strlen), None, None)
    catalog = catalog or TracepointCatalog()
    try:
        events = {p.function: probe_events(structure, p, catalog)
                  for p in kernel_probes(structure)}
    except ProviderError as e:
        raise e.compile_error(source) from None
    compilation = _compile(source, make_arg_types(structure, events))
    module = compilation.module
    by_id = {p.id: p for p in module.probes}
    for found in events.values():
        found.decl = by_id[found.decl.id]
    specs, names = program_specs(list(events.values()))
    try:
        lowering = ModuleLowering(module, source.name, source.text, strlen, null_checks)
        lowering.lower_programs(specs, names)
        obj = codegen.compile_object(lowering.bpf)
    except LowerError as e:
        raise CompileError(render(source, Diagnostic(e.span, e.message))) from None
    return Build(compilation, lowering.manifest, lowering, obj)


def program_specs(probes: list[ProbeEvents]) -> tuple[list[ProgramSpec], list[str]]:
    """One program per event group; the probename table indexed by attach cookie."""
    names: list[str] = []

    def name_index(name: str) -> int:
        if name not in names:
            names.append(name)
        return names.index(name)

    specs = []
    for probe in probes:
        pid = probe.decl.id
        if probe.kind == "perf":
            cookie = name_index("profile")
            specs.append(ProgramSpec(f"profile{pid}", "perf_event", probe, None,
                                     [AttachPoint("perf", str(probe.decl.interval_ns),
                                                  cookie)], cookie))
            continue
        for index, (spec, target) in enumerate(probe.others):
            ret = spec.is_return
            if isinstance(spec, KprobeSpec):
                kind, section = "kprobe", f"{'kretprobe' if ret else 'kprobe'}/{target}"
                shown = target
            else:
                assert isinstance(spec, UprobeSpec)
                kind, section = "uprobe", "uretprobe" if ret else "uprobe"
                target = f"{spec.path}:{spec.symbol_or_offset}"
                shown = str(spec.symbol_or_offset)
            cookie = name_index(("ret_" if ret else "") + shown)
            specs.append(ProgramSpec(f"p{pid}_{kind}{index}", section, probe, None,
                                     [AttachPoint(kind, target, cookie, ret)], cookie))
        for index, group in enumerate(probe.groups):
            system, event = group.events[0]
            attach = [AttachPoint("tracepoint", f"{s}:{e}", name_index(e))
                      for s, e in group.events]
            single = attach[0].cookie if len({a.cookie for a in attach}) == 1 else None
            specs.append(ProgramSpec(f"p{pid}_{index}", f"tracepoint/{system}/{event}",
                                     probe, group, attach, single))
    return specs, names
