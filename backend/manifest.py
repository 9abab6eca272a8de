"""What the live runtime needs to know about a compiled object, as plain JSON-able data:
maps and their layouts, globals, programs and where they attach, print sites, faults."""

from __future__ import annotations

import enum
import functools
import types
import typing
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from backend import argstr
from backend.layout import decode_many

# Ring-buffer record kinds (the first u32 of every record).
RECORD_PRINT = 1
RECORD_PRINTF = 2
RECORD_EXIT = 3
RECORD_FAULT = 4

# Values of the `kllvm_stop` global.
STOP_EXIT = 1
STOP_FATAL = 2

RINGBUF = "kllvm_events"
STOP = "kllvm_stop"
FATAL = "kllvm_fatal"  # 1 + the fault index of the first fatal error
TARGET_PID = "kllvm_pid"
LOST = "kllvm_lost"
DROPS = "kllvm_drops"  # one u64 per kernel table
CUTS = "kllvm_cuts"  # one u64 per cut site: strings the kernel cut to its capacity
# CLOCK_REALTIME - CLOCK_MONOTONIC in ns, set by the runtime before attaching:
# gettimeofday_ns() in a probe is bpf_ktime_get_ns() (monotonic) plus this.
REALTIME_OFFSET = "kllvm_realtime"
SELF_PID = "kllvm_self"  # kllvm's own pid: its events are not traced
# Always 0, and never written: a number the verifier cannot know (`ProgramLowering.loop_tick`).
ZERO = "kllvm_zero"
# Stack ids bpf_get_stackid could not give, by (user, why): STACK_LOSSES[i] names slot i of
# this .bss array (kernel slots, then user slots). Present when a probe takes stacks.
SAMPLES = "kllvm_samples"  # one u64 per profile program: the samples it took
STACK_LOST = "kllvm_stacklost"
STACK_LOSSES = ("collision", "full", "none")  # -EEXIST, -ENOMEM, anything else (-EFAULT)
STACK_PID_ENTRIES = 4096  # the processes whose user stacks user space symbolises


# repr=False throughout: a generated __repr__ per class costs start-up time, and the
# manifest's readable form is its JSON (to_json).
@dataclass(repr=False)
class TableInfo:
    """A kernel table: the map the runtime reads and writes for its site, and its drop
    counter for the full-table warning."""

    site: int
    name: str
    line: int
    map: str
    key: str  # layouts (backend.layout)
    value: str
    capacity: int
    percpu: bool
    drop_index: int
    slots: str | None = None  # the counter slots' array map (backend.slots)


@dataclass(repr=False)
class GlobalInfo:
    """A top-level variable kept in a BPF global, which the runtime reads and writes for
    the interpreter's cell."""

    cell: str  # the IR cell's name
    symbol: str
    layout: str  # the base layout; `present` names the flag global of a nil-able one
    present: str | None = None


class AttachKind(enum.StrEnum):
    """How the runtime attaches a program: one kind per attach call of a provider
    (backend/providers); the manifest stores the value."""

    TRACEPOINT = "tracepoint"  # a perf-event tracepoint, "system:event"
    RAW_TRACEPOINT = "raw_tracepoint"  # "system:event", attached by event name
    PERF = "perf"  # a CPU-clock perf event on every CPU, period in ns
    KPROBE = "kprobe"  # a kernel symbol
    UPROBE = "uprobe"  # "path:symbol" or "path:offset"


@dataclass(repr=False)
class AttachPoint:
    """One attachment of a program; `cookie` is what bpf_get_attach_cookie returns in it."""

    kind: AttachKind
    target: str  # "sys:event", a period in ns, a symbol, "path:offset"
    cookie: int
    retprobe: bool = False


@dataclass(repr=False)
class ProgramInfo:
    """A program of the object, the probe it serves and where the runtime attaches it."""

    name: str
    probe: int
    attach: list[AttachPoint] = field(default_factory=list)
    samples: int | None = None  # a profile program's slot in SAMPLES


@dataclass
class StackMapInfo:
    """The stack map of `stack()` (user=False) or `ustack()` (user=True); for user
    stacks also the map in which probes list the processes whose stacks they took, so
    that user space reads their memory maps while they live."""

    user: bool
    map: str
    entries: int
    pids: str | None = None


@dataclass(repr=False)
class PrintSite:
    """A `print`/`printf` call in a probe: how the runtime decodes and formats its records."""

    kind: str  # "print" or "printf"
    format: str  # printf's template, latin-1 (bytes 0..255 round-trip)
    layouts: list[str]
    site: int  # the call's error site: where a formatting error is reported


@dataclass(repr=False)
class Fault:
    """A run-time error the kernel can raise: its error site, ktap's message, fatality."""

    site: int
    message: str
    fatal: bool


@dataclass(repr=False)
class Cut:
    """A place where kernel code makes a string that may not fit the string capacity (a
    read from memory, a record's string field, a concatenation): how many were cut there
    is counted in `CUTS` at the cut's index, and reported at the end with `what`."""

    site: int  # the error site whose span the warning points at
    what: str  # "read by user_string()", ...


@dataclass(repr=False)
class Manifest:
    """What the runtime needs about a compiled object; `kllvm build` saves it in artifacts."""

    strlen: int
    tables: list[TableInfo] = field(default_factory=list)
    globals: list[GlobalInfo] = field(default_factory=list)
    programs: list[ProgramInfo] = field(default_factory=list)
    prints: list[PrintSite] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    cuts: list[Cut] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # probename by cookie
    stacks: list[StackMapInfo] = field(default_factory=list)
    # argstr: the format (backend.argstr.EventDesc.to_json) of each printed event, by
    # probename
    events: dict[str, list[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._descs: dict[str, Any] = {}

    def decode(self, layouts: list[str], data: bytes) -> list[object]:
        """A print record's values, with argstr rendered from its event's format."""
        values = decode_many(layouts, data, self.strlen)
        if self.events and not self._descs:
            self._descs = {k: argstr.EventDesc.from_json(v) for k, v in self.events.items()}
        return argstr.resolve(values, self.names, self._descs)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Manifest:
        """The manifest `to_json` wrote; every field must have its annotated type (an
        int is not a bool, nothing is missing or extra), else a ManifestError. What the
        values refer to is checked against the IR and the object by backend.artifactcheck."""
        manifest = typed(data, Manifest, "manifest")
        assert isinstance(manifest, Manifest)
        return manifest


class ManifestError(Exception):
    """A manifest that `to_json` did not write; the message says where."""


MAX_INT = (1 << 64) - 1
MIN_INT = -(1 << 63)


@functools.cache
def field_types(cls: type) -> dict[str, object]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def typed(data: object, hint: object, where: str) -> object:
    """`data` (plain JSON) as a value of type `hint`: dataclasses from objects with
    exactly their fields, lists, dicts with string keys, unions, exact scalars."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for alternative in args:
            try:
                return typed(data, alternative, where)
            except ManifestError:
                pass
        raise ManifestError(f"{where} has a bad value {_short(data)}")
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        if type(data) is not str or data not in {m.value for m in hint}:
            raise ManifestError(f"{where} should be one of "
                                f"{', '.join(m.value for m in hint)}, not {_short(data)}")
        return hint(data)
    if hint is Any:
        return data  # checked by its user (the events' formats: artifactcheck)
    if hint is type(None) or hint in (bool, int, str):
        if type(data) is not (hint if hint is not type(None) else type(None)):
            raise ManifestError(f"{where} should be {getattr(hint, '__name__', hint)}, "
                                f"not {_short(data)}")
        if type(data) is int and not MIN_INT <= data <= MAX_INT:
            raise ManifestError(f"{where} is out of range")
        return data
    if origin is list:
        if type(data) is not list:
            raise ManifestError(f"{where} should be a list")
        return [typed(v, args[0], f"{where}[{i}]") for i, v in enumerate(data)]
    if origin is dict:
        if type(data) is not dict:
            raise ManifestError(f"{where} should be an object")
        return {typed(k, args[0], where): typed(v, args[1], f"{where}[{_short(k)}]")
                for k, v in data.items()}
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        hints = field_types(hint)
        if type(data) is not dict or set(data) != set(hints):
            raise ManifestError(f"{where} should have the fields {sorted(hints)}")
        return hint(**{name: typed(data[name], t, f"{where}.{name}")
                       for name, t in hints.items()})
    raise ManifestError(f"{where}: unexpected type {hint}")  # a new annotation form


def _short(data: object) -> str:
    text = repr(data)
    return text if len(text) <= 40 else text[:37] + "..."
