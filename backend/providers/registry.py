"""Which provider serves what: eventdef specs and probe kinds (expansion), programs
(planning, in the order of each probe's programs) and attach kinds (run time)."""

from __future__ import annotations

from backend.events import ProbeEvents, ProviderError
from backend.manifest import AttachKind
from backend.providers import registers
from backend.providers.base import Attacher, NameTable, Planner, ProgramSpec
from backend.providers.catalog import TracepointCatalog
from backend.providers.kprobe import KPROBE
from backend.providers.profile import PROFILE
from backend.providers.raw_syscalls import RAW_SYSCALLS
from backend.providers.tracepoint import TRACEPOINT
from backend.providers.uprobe import UPROBE
from frontend.eventdef import KprobeSpec, TracepointSpec, UprobeSpec
from ir import ops

# A probe's programs are planned in this order (its cookies are numbered in it).
PLANNERS: tuple[Planner, ...] = (PROFILE, KPROBE, UPROBE, RAW_SYSCALLS, TRACEPOINT)
ATTACHERS: dict[AttachKind, Attacher] = {
    kind: attacher for attacher in (TRACEPOINT, PROFILE, KPROBE, UPROBE)
    for kind in attacher.attach_kinds}
assert set(ATTACHERS) == set(AttachKind), "an attach kind without a provider"


def function_targets(spec: KprobeSpec | UprobeSpec
                     ) -> list[tuple[KprobeSpec | UprobeSpec, str]]:
    if isinstance(spec, KprobeSpec):
        return [(spec, KPROBE.target(spec))]
    return list(UPROBE.targets(spec))


def probe_events(module: ops.Module, decl: ops.ProbeDecl,
                 catalog: TracepointCatalog) -> ProbeEvents:
    """Expands one kernel probe by its provider: a profile timer, kernel and user
    functions (one probe may mix them), or tracepoints."""
    if decl.kind is ops.ProbeKind.PROFILE:
        return PROFILE.expand(module, decl, catalog)
    eventdef = decl.eventdef
    assert eventdef is not None
    if all(isinstance(s, KprobeSpec | UprobeSpec) for s in eventdef.specs):
        return registers.expand(module, decl, function_targets)
    for spec in eventdef.specs:
        if not isinstance(spec, TracepointSpec):
            raise ProviderError(spec.span, "this kind of event cannot be mixed with "
                                           "tracepoints in one probe, or is not supported yet")
    return TRACEPOINT.expand(module, decl, catalog)


def program_specs(probes: list[ProbeEvents]) -> tuple[list[ProgramSpec], list[str]]:
    """One program per event group; the probename table indexed by attach cookie."""
    names = NameTable()
    specs = [spec for probe in probes for planner in PLANNERS
             for spec in planner.plan(probe, names)]
    return specs, names.names
