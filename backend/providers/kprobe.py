"""The kprobe provider (`probe:func`, `probe:func%return`): one program per probed kernel
function, reading argN and filter fields from registers (backend.providers.registers)."""

from __future__ import annotations

from backend.events import ProbeEvents
from backend.manifest import AttachKind, AttachPoint
from backend.providers.base import (
    Attachable,
    Detach,
    Emitter,
    NameIndex,
    NameTable,
    ProgramSpec,
    single_name,
)
from frontend.eventdef import KprobeSpec


class Kprobes:
    attach_kinds: tuple[AttachKind, ...] = (AttachKind.KPROBE,)

    def target(self, spec: KprobeSpec) -> str:
        """The attach target of a spec (its expansion: registers.expand)."""
        return spec.symbol_glob

    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        specs = []
        for index, (spec, target) in enumerate(probe.others):
            if not isinstance(spec, KprobeSpec):
                continue
            ret = spec.is_return
            cookie = names.index(("ret_" if ret else "") + target)
            specs.append(ProgramSpec(
                f"p{probe.decl.id}_kprobe{index}",
                f"{'kretprobe' if ret else 'kprobe'}/{target}", probe,
                probe.other_groups[index], [AttachPoint(AttachKind.KPROBE, target, cookie, ret)],
                cookie, self))
        return specs

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        return single_name(spec)

    def sections(self, kind: AttachKind) -> tuple[str, ...]:
        return ("kprobe/", "kretprobe/")

    def target_problem(self, point: AttachPoint) -> str | None:
        return None  # a symbol name: the kernel looks it up

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        raise OSError(0, "this kernel has no kprobes (CONFIG_KPROBES is not set)")


KPROBE = Kprobes()

