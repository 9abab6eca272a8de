"""Planning, before any LLVM lowering: from the placed IR and the providers' `ProbeEvents`
it fixes the BPF programs, their attach points and the probename table (by the
providers, `program_specs`), reads the event formats the programs' `argstr` needs, and
numbers the print sites and faults of kernel code (`backend.sites`).

Lowering gets all of it as data and reads no tracefs itself: what the host offers is
read here, once, in the pipeline's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backend import layout as lay
from backend.argstr import EventDesc, copy_sizes
from backend.events import ProbeEvents, context_names, kernel_reach
from backend.providers.base import ProgramSpec
from backend.providers.catalog import TracepointCatalog
from backend.providers.registry import program_specs
from backend.sites import Sites, SiteWalk
from ir import ops

Event = tuple[str, str]  # (system, event)


@dataclass(frozen=True)
class Plan:
    """What lowering builds: one program per spec, in this order; the probename table,
    indexed by attach cookie; the formats of the events whose record `argstr` copies;
    the ids of the print sites and faults of kernel code."""

    programs: tuple[ProgramSpec, ...]
    names: tuple[str, ...]
    formats: Mapping[Event, EventDesc]
    sites: Sites


def plan(module: ops.Module, probes: Iterable[ProbeEvents],
         catalog: TracepointCatalog | None) -> Plan:
    """`catalog` is read only for the formats of events whose programs read `argstr`
    (None: there must be none)."""
    specs, names = program_specs(list(probes))
    formats: dict[Event, EventDesc] = {}
    walk = SiteWalk(module)
    for spec in specs:
        argstr = None
        if spec.group is not None and reads_argstr(module, spec.probe.decl):
            for event in spec.group.events:
                if event not in formats:
                    assert catalog is not None, "argstr needs the events' formats"
                    formats[event] = EventDesc.of(catalog.format(*event))
            sizes = copy_sizes([formats[event] for event in spec.group.events])
            argstr = lay.argstr_layout(sum(sizes))
        walk.program(spec.probe.decl.function, argstr)
    return Plan(tuple(specs), tuple(names), formats, walk.sites)


def reads_argstr(module: ops.Module, probe: ops.ProbeDecl) -> bool:
    """Whether the probe's body, or a function it calls, reads `argstr`."""
    return "argstr" in context_names(module, kernel_reach(module, probe.function))
