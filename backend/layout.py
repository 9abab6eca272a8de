"""How ktap values live in the kernel, and how user space encodes and decodes them.

A *layout* is a short string, so that the manifest can carry it as JSON:

* `int`, `bool`: 8 bytes, little-endian (bool is 0 or 1);
* `str`: `strlen` bytes, NUL-padded (`strlen` is the module's string capacity);
* `nil`: no bytes;
* `ip`: 8 bytes, a kernel address (`ipof()`), decoded as `KernelIp`;
* `stack`, `ustack`: 8 bytes, a `StackRef` packed by `pack_stack` (the stack map's id, or
  the helper's negative errno, the depth to show and, for user stacks, the process);
* `opt:<inner>`: an 8-byte present flag, then the inner layout;
* `argstr:<N>` (print records only): the event's index in the probe-name table (8 bytes),
  then N bytes of the raw tracepoint record after its common header (`backend.argstr`).
  A register holding `argstr` has the layout `argstr`: it holds nothing, since the
  record is copied from the program's context when printed.

Every layout is a multiple of 8 bytes, so records and map values stay 8-aligned and the
BPF code can copy strings one u64 word at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from frontend.types import ArgstrT, BoolT, IntT, IpT, NilT, OptT, StackT, StrT, Type
from ir.values import KernelIp

DEFAULT_STRLEN = 128
MAX_STRLEN = 1024
MIN_STRLEN = 16  # a task's comm (execname) is 16 bytes with its NUL


class LayoutError(Exception):
    """A type the kernel cannot hold; the message says which."""


@dataclass(frozen=True)
class RawEvent:
    """A decoded `argstr:<N>` field: the event's probe-name index and its record bytes."""

    index: int
    data: bytes


@dataclass(frozen=True)
class StackRef:
    """A decoded `stack`/`ustack` value: what the kernel kept of a stack trace. `id` is
    the stack map's key, or bpf_get_stackid's negative errno when it kept none; `depth`
    the frames to show; `pid` the process whose user stack it is (0 for kernel stacks)."""

    user: bool
    id: int
    depth: int
    pid: int


# The packing of a stack value in 64 bits: id (as s32) | depth << 32 | pid << 40. A pid
# takes at most 22 bits (PID_MAX_LIMIT is 4M), so it fits the 24 left.
STACK_DEPTH_SHIFT = 32
STACK_PID_SHIFT = 40


def unpack_stack(layout: str, word: int) -> StackRef:
    low = word & 0xFFFFFFFF
    stack_id = low - (1 << 32) if low >= 1 << 31 else low
    return StackRef(layout == "ustack", stack_id, (word >> STACK_DEPTH_SHIFT) & 0xFF,
                    word >> STACK_PID_SHIFT)


def argstr_layout(size: int) -> str:
    return f"argstr:{size}"


def argstr_size(layout: str) -> int | None:
    """N of an `argstr:<N>` layout, else None."""
    return int(layout[7:]) if layout.startswith("argstr:") else None


def layout_of(t: Type) -> str:
    match t:
        case OptT(inner=inner):
            inner_layout = layout_of(inner)
            return inner_layout if inner_layout == "nil" else f"opt:{inner_layout}"
        case IntT():
            return "int"
        case BoolT():
            return "bool"
        case StrT():
            return "str"
        case NilT():
            return "nil"
        case ArgstrT():
            return "argstr"
        case StackT(user=user):
            return "ustack" if user else "stack"
        case IpT():
            return "ip"
    raise LayoutError(f"a value of type {t} cannot be kept in the kernel")


def base(layout: str) -> str:
    return layout.removeprefix("opt:")


def is_opt(layout: str) -> bool:
    return layout.startswith("opt:")


def size_of(layout: str, strlen: int) -> int:
    if is_opt(layout):
        return 8 + size_of(base(layout), strlen)
    if (raw := argstr_size(layout)) is not None:
        return 8 + raw
    return {"int": 8, "bool": 8, "str": strlen, "nil": 0, "stack": 8, "ustack": 8, "ip": 8}[layout]


def encode(layout: str, value: object, strlen: int) -> bytes:
    """A user-space value in the kernel's bytes; strings are cut to fit with their NUL."""
    if is_opt(layout):
        if value is None:
            return bytes(size_of(layout, strlen))
        return (1).to_bytes(8, "little") + encode(base(layout), value, strlen)
    match layout:
        case "int":
            if type(value) is not int:
                raise TypeError(f"expected a number, got {value!r}")
            return value.to_bytes(8, "little", signed=True)
        case "bool":
            if type(value) is not bool:
                raise TypeError(f"expected a boolean, got {value!r}")
            return int(value).to_bytes(8, "little")
        case "str":
            if not isinstance(value, bytes):
                raise TypeError(f"expected a string, got {value!r}")
            return value[: strlen - 1].ljust(strlen, b"\0")
        case "nil":
            return b""
        case "ip":
            if not isinstance(value, KernelIp):
                raise TypeError(f"expected a kernel address, got {value!r}")
            return (value.address & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
        case "stack" | "ustack":
            if not isinstance(value, StackRef):
                raise TypeError(f"expected a stack, got {value!r}")
            word = ((value.id & 0xFFFFFFFF) | (value.depth & 0xFF) << STACK_DEPTH_SHIFT
                    | value.pid << STACK_PID_SHIFT)
            return word.to_bytes(8, "little")
    raise ValueError(f"unknown layout {layout!r}")


def is_cut(layout: str, value: object, strlen: int) -> bool:
    """Whether `encode` cuts `value`: a string longer than the kernel's string capacity."""
    return base(layout) == "str" and isinstance(value, bytes) and len(value) >= strlen


def decode(layout: str, data: bytes, strlen: int) -> object:
    if is_opt(layout):
        if int.from_bytes(data[:8], "little") == 0:
            return None
        return decode(base(layout), data[8:], strlen)
    if (raw := argstr_size(layout)) is not None:
        return RawEvent(int.from_bytes(data[:8], "little"), data[8:8 + raw])
    match layout:
        case "int":
            return int.from_bytes(data[:8], "little", signed=True)
        case "bool":
            return int.from_bytes(data[:8], "little") != 0
        case "str":
            return data[:strlen].split(b"\0", 1)[0]
        case "nil":
            return None
        case "stack" | "ustack":
            return unpack_stack(layout, int.from_bytes(data[:8], "little"))
        case "ip":
            return KernelIp(int.from_bytes(data[:8], "little"))
    raise ValueError(f"unknown layout {layout!r}")


def decode_many(layouts: list[str], data: bytes, strlen: int) -> list[object]:
    """The values a record's body holds; LayoutError if it is too short for them."""
    if len(data) < sum(size_of(layout, strlen) for layout in layouts):
        raise LayoutError(f"a record of {len(data)} bytes is too short for {layouts}")
    values = []
    offset = 0
    for layout in layouts:
        size = size_of(layout, strlen)
        values.append(decode(layout, data[offset:offset + size], strlen))
        offset += size
    return values
