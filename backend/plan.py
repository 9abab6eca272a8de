"""Programs and attach points of the probes: one program per event group, and the
probename table, indexed by attach cookie, that the programs and the runtime share."""

from __future__ import annotations

from backend.events import ProbeEvents
from backend.lower import ProgramSpec
from backend.manifest import AttachPoint
from frontend.eventdef import KprobeSpec, UprobeSpec


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
