"""Tracepoints as tracefs describes them: the event list, glob expansion, formats.

Everything that reads the machine goes through `Host`, so the expansion and the
format parser are testable with a fake host.
"""

from __future__ import annotations

import ctypes as ct
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

TRACEFS = Path("/sys/kernel/tracing")


class TracefsError(RuntimeError):
    pass


def ensure_tracefs(root: Path = TRACEFS) -> Path:
    """Mount tracefs at `root` unless it is already there (a fresh machine
    has an empty directory); raise `TracefsError` saying how when impossible."""
    if (root / "available_events").exists():
        return root
    libc = ct.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ct.c_char_p, ct.c_char_p, ct.c_char_p, ct.c_ulong, ct.c_void_p]
    libc.mount.restype = ct.c_int
    if libc.mount(b"nodev", str(root).encode(), b"tracefs", 0, None) != 0:
        err = ct.get_errno()
        raise TracefsError(
            f"tracefs is not mounted at {root} and mounting it failed: {os.strerror(err)}; "
            f"as root, run: mount -t tracefs nodev {root}")
    return root


class Host(Protocol):
    def available_events(self) -> list[tuple[str, str]]:
        """(system, event) of every tracepoint."""
        ...

    def read_format(self, system: str, event: str) -> str:
        """The text of `events/<system>/<event>/format`; FileNotFoundError if none."""
        ...

    def dynamic_events(self) -> set[tuple[str, str]]:
        """(system, event) of the events made at run time (kprobe, uprobe, synthetic
        and eprobe events): unlike the kernel's own, they have no raw tracepoint."""
        ...


class TracefsHost:
    """The real machine; mounts tracefs on first use."""

    def __init__(self, root: Path = TRACEFS) -> None:
        self._root = root
        self._mounted = False

    def _path(self, *parts: str) -> Path:
        if not self._mounted:
            ensure_tracefs(self._root)
            self._mounted = True
        return self._root.joinpath(*parts)

    def available_events(self) -> list[tuple[str, str]]:
        text = self._path("available_events").read_text()
        pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
        return [(system, event) for system, event in pairs]

    def read_format(self, system: str, event: str) -> str:
        return self._path("events", system, event, "format").read_text()

    def dynamic_events(self) -> set[tuple[str, str]]:
        try:
            text = self._path("dynamic_events").read_text()
        except FileNotFoundError:  # a kernel without dynamic events
            return set()
        # "p:kprobes/name symbol ...", "u:uprobes/name /path:0x...", "s:synthetic/name ..."
        names = (line.split(None, 1)[0].split(":", 1)[-1] for line in text.splitlines()
                 if line.strip())
        return {(system, event) for system, _, event in (n.partition("/") for n in names)}


# ---------------------------------------------------------------------------
# perf's strglobmatch (tools/perf/util/string.c), which ktap used as well


def _match_charclass(pat: str, i: int, c: str) -> tuple[bool, int] | None:
    """Match `c` against the class starting at pat[i] (just after '[').

    Returns (matched, index after ']'), or None for a malformed class. As in
    perf, the first character is literal (so `[]]` and `[-a]` work) and a
    reversed range is an error.
    """
    complement = False
    if i < len(pat) and pat[i] == "!":
        complement = True
        i += 1
    matched = False
    if i < len(pat):
        first = pat[i]
        i += 1
        matched = first == c
    while not matched and i < len(pat) and pat[i] != "]":
        if pat[i] == "-" and i + 1 < len(pat) and pat[i + 1] != "]":
            low, high = pat[i - 1], pat[i + 1]
            if low <= c <= high:
                matched = True
                break
            if low > high:
                return None
            i += 2
        else:
            matched = pat[i] == c
            i += 1
    close = pat.find("]", i)
    if close < 0:
        return None
    return matched != complement, close + 1


def strglobmatch(string: str, pattern: str) -> bool:
    """`*` any run, `?` one character, `[abc]`, `[a-z]`, `[!x]`, `\\` escapes."""
    s = p = 0
    while s < len(string) and p < len(pattern) and pattern[p] != "*":
        if pattern[p] == "?":
            s += 1
            p += 1
            continue
        if pattern[p] == "[":
            result = _match_charclass(pattern, p + 1, string[s])
            if result is None or not result[0]:
                return False
            s, p = s + 1, result[1]
            continue
        if pattern[p] == "\\":
            p += 1
            if p == len(pattern):
                return False
        if string[s] != pattern[p]:
            return False
        s += 1
        p += 1
    if p < len(pattern) and pattern[p] == "*":
        while p < len(pattern) and pattern[p] == "*":
            p += 1
        if p == len(pattern):
            return True
        return any(strglobmatch(string[k:], pattern[p:]) for k in range(s, len(string)))
    return s == len(string) and p == len(pattern)


def split_event(pattern: str) -> tuple[str, str]:
    system, sep, event = pattern.partition(":")
    if not sep or not system or not event:
        raise ValueError(f"tracepoint {pattern!r} is not of the form system:event")
    return system, event


def available_events(host: Host | None = None) -> list[tuple[str, str]]:
    return (host or TracefsHost()).available_events()


def expand(pattern: str, host: Host | None = None) -> list[tuple[str, str]]:
    """Tracepoints matching `system:event`, each half a glob matched on its
    own (as perf does); sorted, possibly empty."""
    sys_glob, ev_glob = split_event(pattern)
    return sorted((system, event) for system, event in available_events(host)
                  if strglobmatch(system, sys_glob) and strglobmatch(event, ev_glob))


# ---------------------------------------------------------------------------
# event formats


@dataclass(frozen=True)
class Field:
    """One field of a tracepoint record, as the event's `format` file describes it."""

    name: str
    type: str  # the C type without the name: "int", "const char *", "char[16]"
    offset: int
    size: int
    signed: bool
    array_len: int | None  # N in `type name[N]` when N is a number
    is_array: bool
    data_loc: bool  # `__data_loc T[] name`: a u32 (size << 16 | offset) to the data

    @property
    def is_char_array(self) -> bool:
        base = self.type.split("[", 1)[0].replace("const ", "").strip()
        return self.is_array and not self.data_loc and base == "char"

    @property
    def is_data_loc_string(self) -> bool:
        """`__data_loc char[] name`: a string kept after the record's fixed fields."""
        base = self.type.removeprefix("__data_loc").split("[", 1)[0]
        return self.data_loc and base.replace("const ", "").strip() == "char"

    @property
    def is_common(self) -> bool:
        return self.name.startswith("common_")


@dataclass(frozen=True)
class EventFormat:
    """A tracepoint's `format` file: its id, its record's fields and its print format."""

    system: str
    event: str
    id: int
    fields: tuple[Field, ...]
    print_fmt: str

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.system}:{self.event} has no field {name!r}")

    @property
    def event_fields(self) -> tuple[Field, ...]:
        """The fields after the common header, in record order."""
        return tuple(f for f in self.fields if not f.is_common)


_DECL = re.compile(r"^(?P<type>.*?)\s*(?P<name>[A-Za-z_]\w*)\s*(?:\[(?P<len>[^\]]*)\])?$")


def _parse_field(line: str) -> Field:
    attrs = {}
    for part in line.strip().split(";"):
        key, sep, value = part.strip().partition(":")
        if sep:
            attrs[key] = value.strip()
    m = _DECL.match(attrs["field"])
    if not m:
        raise ValueError(f"cannot parse field declaration {attrs['field']!r}")
    ctype, length = m["type"].strip(), m["len"]
    is_array = length is not None
    if is_array:
        ctype = f"{ctype}[{length}]"
    return Field(
        name=m["name"],
        type=ctype,
        offset=int(attrs["offset"]),
        size=int(attrs["size"]),
        signed=attrs.get("signed") == "1",
        array_len=int(length) if is_array and length.isdigit() else None,
        is_array=is_array,
        data_loc=ctype.startswith("__data_loc"),
    )


def parse_format(system: str, event: str, text: str) -> EventFormat:
    event_id = None
    fields = []
    print_fmt = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("ID:"):
            event_id = int(stripped[3:])
        elif stripped.startswith("field:"):
            fields.append(_parse_field(stripped))
        elif stripped.startswith("print fmt:"):
            print_fmt = stripped[len("print fmt:"):].strip()
    if event_id is None:
        raise ValueError(f"format of {system}:{event} has no ID")
    return EventFormat(system, event, event_id, tuple(fields), print_fmt)


def event_format(system: str, event: str, host: Host | None = None) -> EventFormat:
    return parse_format(system, event, (host or TracefsHost()).read_format(system, event))
