"""`argstr` in probe bodies: the raw tracepoint record, rendered as text in user space.

The kernel has no formatter a BPF program could call, so `print(argstr)` and
`printf("%s", argstr)` copy the event's record (the ctx of the tracepoint program, from
the end of the 8-byte common header) into the ring-buffer record, together with the
event's index in the probe-name table (the layout `argstr:<N>`); user space renders it
from the event's format (`events/<system>/<event>/format`), which the compiler stores
in the manifest.

Rendering is the kernel's own, what tracefs' `trace` file shows after the timestamp:
* syscall events as the kernel's print_syscall_enter/exit write them (not their print fmt):
  `sys_close(fd: 3)` (a value under 10 in decimal, others as 0x-hex), `sys_close -> 0x0`;
* other events as `EVENT: ` and the event's print fmt applied to the record
  (backend.printfmt): `sched_process_exec: filename=/bin/ls pid=42 old_pid=42`;
* where the print fmt uses a construct printfmt does not evaluate, `EVENT: ` and
  `name=value` for each field after the common header (numbers in decimal, strings as text,
  other arrays as `{a, b}`, anything else as hex bytes).

A record whose copy failed renders as zeros. Events with `__data_loc` fields also copy
up to `DYNAMIC_BYTES` bytes after the fixed part, where the kernel keeps the data.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

from backend import printfmt
from backend.layout import RawEvent
from backend.tracefs import EventFormat, Field
from ir.values import ArgstrValue

HEADER = 8  # the common header (type, flags, preempt count, pid): never copied
DYNAMIC_BYTES = 256
MAX_RECORD = 4096


@dataclass
class EventDesc:
    """What rendering needs of an event's format; JSON-able through `to_json`."""

    system: str
    event: str
    fields: list[Field]
    print_fmt: str = ""

    def to_json(self) -> list[object]:
        return [self.system, self.event, [list(astuple(f)) for f in self.fields],
                self.print_fmt]

    @classmethod
    def from_json(cls, data: list) -> EventDesc:  # type: ignore[type-arg]
        system, event, fields, print_fmt = data
        return cls(system, event, [Field(*f) for f in fields], print_fmt)

    @classmethod
    def of(cls, fmt: EventFormat) -> EventDesc:
        return cls(fmt.system, fmt.event, list(fmt.event_fields), fmt.print_fmt)

    @property
    def fixed_size(self) -> int:
        """Bytes after the common header up to the end of the last field, 8-aligned."""
        end = max((f.offset + f.size for f in self.fields), default=HEADER)
        return (max(end - HEADER, 0) + 7) // 8 * 8

    @property
    def dynamic(self) -> bool:
        return any(f.data_loc for f in self.fields)


def copy_sizes(events: list[EventDesc]) -> tuple[int, int]:
    """(fixed, dynamic) bytes a program serving `events` copies per record: the largest
    of each, so that one program (and one record layout) serves them all."""
    fixed = max((e.fixed_size for e in events), default=0)
    dynamic = DYNAMIC_BYTES if any(e.dynamic for e in events) else 0
    fixed = min(fixed, MAX_RECORD)
    return fixed, min(dynamic, MAX_RECORD - fixed)


def _number(raw: bytes, signed: bool) -> bytes:
    return b"%d" % int.from_bytes(raw, "little", signed=signed)


def _text(raw: bytes) -> bytes:
    return raw.split(b"\0", 1)[0]


def render_field(f: Field, data: bytes) -> bytes:
    """One field's value; `data` is the record from the end of the common header."""
    start = f.offset - HEADER
    raw = data[start:start + f.size].ljust(f.size, b"\0")
    if f.data_loc:
        loc = int.from_bytes(raw[:4], "little")
        offset, length = (loc & 0xFFFF) - HEADER, loc >> 16
        payload = data[max(offset, 0):max(offset, 0) + length]
        if f.type.replace("__data_loc", "").replace("const", "").strip().startswith("char"):
            return _text(payload)
        return payload.hex().encode()
    if f.is_char_array:
        return _text(raw)
    if f.is_array and f.array_len:
        step = f.size // f.array_len
        if step in (1, 2, 4, 8):
            items = (_number(raw[i:i + step], f.signed) for i in range(0, f.size, step))
            return b"{" + b", ".join(items) + b"}"
    if not f.is_array and f.size in (1, 2, 4, 8):
        return _number(raw, f.signed)
    return raw.hex().encode()


def _value(f: Field, data: bytes) -> int:
    start = f.offset - HEADER
    return int.from_bytes(data[start:start + f.size].ljust(f.size, b"\0"), "little",
                          signed=f.signed)


def _syscall(desc: EventDesc, data: bytes) -> bytes:
    """The kernel's print_syscall_enter / print_syscall_exit (kernel/trace/trace_syscalls.c)."""
    name = b"sys_" + desc.event.split("_", 2)[2].encode()
    args = [f for f in desc.fields if f.name != "__syscall_nr"]
    if desc.event.startswith("sys_exit_"):
        ret = _value(args[0], data) & (1 << 64) - 1 if args else 0
        return name + b" -> 0x%x" % ret
    shown = []
    for f in args:
        value = _value(f, data) & (1 << 64) - 1
        shown.append(f.name.encode() + (b": %d" % value if value < 10 else b": 0x%x" % value))
    return name + b"(" + b", ".join(shown) + b")"


def render(desc: EventDesc, data: bytes) -> bytes:
    if desc.system == "syscalls" and desc.event.startswith(("sys_enter_", "sys_exit_")):
        return _syscall(desc, data)
    fields = {f.name: f for f in desc.fields}

    def lookup(name: str, text: bool) -> int | bytes:
        f = fields.get(name)
        if f is None:
            raise printfmt.Unsupported(name)
        if text or f.data_loc or f.is_char_array or f.is_array:
            return render_field(f, data)
        return _value(f, data)

    try:
        body = printfmt.render(desc.print_fmt, lookup)
    except printfmt.Unsupported:
        shown = [f for f in desc.fields if not f.name.startswith("__")]
        body = b" ".join(f.name.encode() + b"=" + render_field(f, data) for f in shown)
    return desc.event.encode() + b": " + body


def resolve(values: list[object], names: list[str],
            descs: dict[str, EventDesc]) -> list[object]:
    """Decoded record values with each `RawEvent` rendered as an `ArgstrValue`; `names`
    is the probe-name table, `descs` the printed events' formats by name."""
    if not any(isinstance(v, RawEvent) for v in values):
        return values
    out: list[object] = []
    for value in values:
        if isinstance(value, RawEvent):
            name = names[value.index] if value.index < len(names) else ""
            desc = descs.get(name)
            text = render(desc, value.data) if desc is not None else name.encode() + b"()"
            value = ArgstrValue(text)
        out.append(value)
    return out
