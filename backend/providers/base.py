"""The provider interfaces, and the plan of one BPF program that they share.

Build time: an `EventSource` expands a probe's eventdef into `ProbeEvents` (event groups,
argN types); a `Planner` turns those into `ProgramSpec`s and emits, through an `Emitter`,
the prologue that gives each event its probename index. Run time: an `Attacher` checks an
artifact's attach points and attaches them, giving back what detaches them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from backend.events import EventGroup, ProbeEvents
from backend.manifest import AttachKind, AttachPoint
from backend.providers.catalog import TracepointCatalog
from ir import ops


@dataclass
class ProgramSpec:
    """One BPF program to build: its section, the probe and event group it serves, and
    where it attaches."""

    name: str
    section: str
    probe: ProbeEvents
    group: EventGroup | None
    attach: list[AttachPoint]
    name_index: int | None  # the probename of a single-name program (no cookie needed)
    planner: Planner  # emits the program's kind-specific prologue
    # A raw_syscalls program: syscall number -> probename index of the matched syscalls.
    syscalls: dict[int, int] | None = None


class NameTable:
    """The probename table the programs and the runtime share, indexed by attach cookie;
    names in first-seen order."""

    def __init__(self) -> None:
        self._indices: dict[str, int] = {}

    def index(self, name: str) -> int:
        return self._indices.setdefault(name, len(self._indices))

    @property
    def names(self) -> list[str]:
        return list(self._indices)


class Emitter(Protocol):
    """What a prologue may emit (backend.lower.ProgramLowering); values are LLVM values,
    opaque here so that providers need no llvmlite."""

    def attach_cookie(self) -> object:
        """bpf_get_attach_cookie(ctx)."""

    def ctx_table_index(self, offset: int, table: dict[int, int]) -> object:
        """Returns from the program unless the u64 at `offset` in the context is a key of
        `table`; then gives its value."""


# The probename index of an event: a constant, or the emitted value (unbounded: the
# lowering bounds it for the verifier) that a call gives at each use.
NameIndex = int | Callable[[], object]


class EventSource(Protocol):
    """Expands the probes of one kind (or one kind of eventdef spec)."""

    def expand(self, module: ops.Module, decl: ops.ProbeDecl,
               catalog: TracepointCatalog) -> ProbeEvents:
        """The probe's event groups and argN types; raises events.ProviderError."""


class Planner(Protocol):
    """Plans programs of one kind and emits their prologue."""

    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        """The programs of `probe` this provider serves, in a stable order."""

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        """Emits what runs before the body (after the stop and pid checks, before the
        filter) and says where the event's probename index comes from."""


class Detach(Protocol):
    """An attachment (backend.loader.Link or a provider's own)."""

    slow_to_detach: bool  # detaching waits for an RCU grace period

    def destroy(self) -> None: ...


class Attachable(Protocol):
    """A loaded program (backend.loader.Program)."""

    @property
    def fd(self) -> int: ...

    def attach_tracepoint_cookie(self, category: str, event: str, cookie: int) -> Detach: ...

    def attach_raw_tracepoint_cookie(self, event: str, cookie: int) -> Detach: ...

    def attach_uprobe(self, path: str, offset: int, pid: int = -1,
                      retprobe: bool = False, cookie: int = 0) -> Detach: ...

    def set_uprobe_multi(self) -> None: ...

    def attach_uprobe_multi(self, path: str, offsets: list[int], cookies: list[int],
                            retprobe: bool = False, pid: int = -1) -> Detach: ...


@runtime_checkable
class MultiAttacher(Protocol):
    """An attacher that can attach all of a program's points with one link (uprobes:
    detaching one link per point costs the kernel ~0.1 s each). Which programs do is
    decided before the object loads (`prepare`), since it changes how they load."""

    def multi(self, points: list[AttachPoint]) -> bool:
        """Whether a program with these points attaches them all at once."""

    def prepare(self, program: Attachable) -> None:
        """Sets up a program that `multi` said yes to; before the object loads."""

    def attach_multi(self, program: Attachable, points: list[AttachPoint],
                     links: list[Detach], pid: int) -> list[str]:
        """Attaches the points with one link (or a few), in process `pid` only (-1: all);
        returns the points it could not attach, as messages; raises OSError when it
        attached none."""


class Attacher(Protocol):
    """Attaches the points of its attach kinds; checks them in artifacts."""

    attach_kinds: tuple[AttachKind, ...]

    def sections(self, kind: AttachKind) -> tuple[str, ...]:
        """The section prefixes of programs that can attach as `kind`."""

    def target_problem(self, point: AttachPoint) -> str | None:
        """What is wrong with the target of an artifact's attach point, if anything."""

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        """Adds to `links` what it attaches, as it goes (what attached before a failure
        is detached with the rest); raises OSError when the kernel refuses."""


def single_name(spec: ProgramSpec) -> NameIndex:
    """The prologue of a program whose events all have one probename."""
    assert spec.name_index is not None
    return spec.name_index
