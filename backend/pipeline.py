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
from frontend.diagnostics import CompileError, Diagnostic, DiagnosticSink, Source, render
from frontend.eventdef import KprobeSpec, UprobeSpec
from ir import ops
from ir.infer import infer
from ir.lower_ast import lower
from kllvm import driver


@dataclass
class Build:
    """A compiled script: the typed IR, and the manifest and BPF object for the runtime."""

    compilation: driver.Compilation
    manifest: Manifest
    lowering: ModuleLowering | None  # None when no probe runs in the kernel
    object: bytes | None


def _structure(source: Source, parsed: driver.Front) -> ops.Module:
    """The IR with types but without the kernel checks: enough to see which probes
    there are, what they call and which event variables they read."""
    sink = DiagnosticSink(source)
    module = lower(parsed.chunk, parsed.resolution, sink)
    driver._gate(sink)
    infer(module, driver.no_event_types)
    return module


def kernel_probes(module: ops.Module) -> list[ops.ProbeDecl]:
    return [p for p in module.probes if p.kind in ("trace", "profile")]


def compile_typed(source: Source, catalog: TracepointCatalog | None = None
                  ) -> tuple[driver.Compilation, dict[str, ProbeEvents]]:
    """The checked, typed IR, with argN typed from the events the probes attach to
    (what `run`, `build` and `dump` all compile), and those events by probe function."""
    parsed = driver.front(source)
    structure = _structure(source, parsed)
    if not kernel_probes(structure):
        return driver.compile_source(source, parsed=parsed), {}
    catalog = catalog or TracepointCatalog()
    try:
        events = {p.function: probe_events(structure, p, catalog)
                  for p in kernel_probes(structure)}
    except ProviderError as e:
        raise e.compile_error(source) from None
    return driver.compile_source(source, make_arg_types(structure, events), parsed), events


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
    by_id = {p.id: p for p in module.probes}
    for found in events.values():
        found.decl = by_id[found.decl.id]
    specs, names = program_specs(list(events.values()))
    try:
        lowering = ModuleLowering(module, source.name, source.text, strlen, null_checks,
                                  catalog)
        lowering.lower_programs(specs, names)
        obj = codegen.compile_object(lowering.bpf)
    except LowerError as e:
        raise CompileError(render(source, Diagnostic(e.span, e.message))) from None
    return Build(compilation, lowering.manifest, lowering, obj)


def program_specs(probes: list[ProbeEvents]) -> tuple[list[ProgramSpec], list[str]]:
    """One program per event group; the probename table indexed by attach cookie."""
    name_indices: dict[str, int] = {}  # in first-seen order

    def name_index(name: str) -> int:
        return name_indices.setdefault(name, len(name_indices))

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
            specs.append(ProgramSpec(f"p{pid}_{kind}{index}", section, probe,
                                     probe.other_groups[index],
                                     [AttachPoint(kind, target, cookie, ret)], cookie))
        for index, group in enumerate(probe.groups):
            system, event = group.events[0]
            if group.raw is not None:
                # One program on raw_syscalls for many syscalls: the probename index
                # of each matched syscall number, by a table in the program.
                indices = {e: name_index(e) for _, e in group.events}
                table = {nr: indices[e] for nr, (_, e) in group.syscalls.items()}
                specs.append(ProgramSpec(
                    f"p{pid}_{index}", f"tracepoint/raw_syscalls/{group.raw}", probe, group,
                    [AttachPoint("tracepoint", f"raw_syscalls:{group.raw}", 0)], None,
                    table))
                continue
            kind = "raw_tracepoint" if group.raw_tracepoints else "tracepoint"
            attach = [AttachPoint(kind, f"{s}:{e}", name_index(e)) for s, e in group.events]
            single = attach[0].cookie if len({a.cookie for a in attach}) == 1 else None
            section = (f"raw_tracepoint/{event}" if group.raw_tracepoints
                       else f"tracepoint/{system}/{event}")
            specs.append(ProgramSpec(f"p{pid}_{index}", section, probe, group, attach, single))
    return specs, list(name_indices)
