"""Stack traces in user space: the ids probes took (`stack()`, `ustack()`) turned into
symbolised frames, and what was lost on the way.

A probe keeps a stack as an id in a BPF stack map (backend.lower `stack`). Here the id's
addresses are read from the map and named: kernel addresses from /proc/kallsyms, as
`sym+0xoff/0xsize` (the kernel's own `%pS` form, which ktap printed), user addresses
with bcc's symbol cache of the process, as `sym+0xoff`.

User stacks of processes that exit before the table is printed: the probes list each
process whose stack they take in a small map; the runtime polls it while tracing
(`watch`, every poll) and makes the process's bcc symbol cache at once, while the
process lives. bcc reads the process's memory maps then and keeps its files open, so
that its symbols can be read after it has exited. A process seen at its start has not
mapped its libraries yet: during its first `YOUNG_S` seconds after kllvm first saw it,
each poll reads its memory maps again and, when they changed, makes another cache; a
frame is named by the newest cache that knows it. (A cache made as the process exits
knows nothing, hence caches are added, never refreshed in place.) Libraries mapped
later than that, and processes that start and end between two polls (0.1 s apart),
stay unnamed: their frames show as addresses.

Losses are never silent: ids the kernel could not give (a collision in the stack map,
a full map, no stack to take) are counted by the probes in `kllvm_stacklost`, and ids
user space could not read back are counted here; `warnings` words both.
"""

from __future__ import annotations

import bisect
import ctypes as ct
import errno
import os
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from backend import manifest as mf
from backend.layout import StackRef
from backend.loader import GlobalSection, Map
from ir.values import StackValue

KALLSYMS = "/proc/kallsyms"
YOUNG_S = 2.0
_FRAME = ct.c_uint64
_WHY = {
    "collision": "lost: another stack held their bucket of the stack map (a hash collision)",
    "full": "lost: the stack map was full",
}
_NONE = {False: "not taken: there was none (samples taken while the CPU ran user code)",
         True: "not taken: the task had none (kernel threads and the idle task run no "
               "user code)"}


@dataclass(frozen=True)
class KernelSymbols:
    """/proc/kallsyms, sorted: a symbol's size is the distance to the next symbol."""

    addresses: list[int]
    names: list[str]

    @classmethod
    def read(cls, path: str = KALLSYMS) -> KernelSymbols:
        rows: list[tuple[int, str]] = []
        with open(path, encoding="ascii", errors="replace") as kallsyms:
            for line in kallsyms:
                parts = line.split()
                if len(parts) < 3 or parts[1] not in "tTwW":
                    continue
                address = int(parts[0], 16)
                if address:
                    module = f" {parts[3]}" if len(parts) > 3 else ""
                    rows.append((address, parts[2] + module))
        rows.sort()
        return cls([a for a, _ in rows], [n for _, n in rows])

    def name(self, address: int) -> str:
        """`sym+0xoff/0xsize` (then `[module]` for a module's symbol), or the address."""
        i = bisect.bisect_right(self.addresses, address) - 1
        if i < 0 or not self.addresses:
            return f"0x{address:x}"
        start = self.addresses[i]
        following = next((a for a in self.addresses[i + 1:i + 64] if a > start), start)
        size = following - start
        symbol, _, module = self.names[i].partition(" ")
        text = f"{symbol}+0x{address - start:x}/0x{size:x}"
        return f"{text} {module}" if module else text

    def function(self, address: int) -> str:
        """The symbol alone (flame graphs' frames, printf's `%p`), or the address in hex
        when it lies before the kernel's first symbol (a user address)."""
        i = bisect.bisect_right(self.addresses, address) - 1
        return self.names[i].partition(" ")[0] if i >= 0 else f"0x{address:x}"

    def resolve(self, address: int) -> bytes:
        """ktap's `%p`: the kernel's sprint_symbol_no_offset."""
        return self.function(address).encode()


class Stacks:
    """The stack maps of a loaded object, symbolised on demand."""

    def __init__(self, maps: dict[bool, Map], pids: Map | None,
                 bss: GlobalSection | None) -> None:
        self.maps = maps
        self.pids = pids
        self.bss = bss
        self._kernel: KernelSymbols | None = None
        self._caches: dict[int, list[Any]] = {}  # pid -> bcc.SymbolCaches, newest first
        self._seen: dict[int, float] = {}  # pid -> when kllvm first saw it
        self._maps: dict[int, bytes] = {}  # pid -> its memory maps when last cached
        self._gone: set[int] = set()  # processes whose maps could not be read: exited
        self._frames: dict[tuple[bool, int], tuple[int, ...] | None] = {}
        self._values: dict[StackRef, StackValue] = {}
        self.unreadable = 0  # ids whose frames were gone from the map when read

    @classmethod
    def of(cls, infos: list[mf.StackMapInfo], map_of: dict[str, Map],
           bss: GlobalSection) -> Stacks | None:
        if not infos:
            return None
        pids = next((map_of[i.pids] for i in infos if i.pids is not None), None)
        if pids is not None:
            # bcc keeps each cached process's files open: allow what the hard limit does.
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft != hard:
                resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return cls({i.user: map_of[i.map] for i in infos}, pids, bss)

    # -- while tracing

    def watch(self) -> None:
        """Opens the symbols of each process the probes took a user stack of, while it
        lives (see the module's doc)."""
        if self.pids is None:
            return
        now = time.monotonic()
        for key in self.pids.keys():
            pid = int.from_bytes(key[:4], "little")
            seen = self._seen.setdefault(pid, now)
            if pid not in self._gone and (now - seen < YOUNG_S or pid not in self._caches):
                self._cache_if_changed(pid)

    def _cache_if_changed(self, pid: int) -> None:
        try:
            with open(f"/proc/{pid}/maps", "rb") as maps:
                text = maps.read()
        except OSError:
            self._gone.add(pid)  # the caches it has are all it gets
            return
        if text and text != self._maps.get(pid):
            self._maps[pid] = text
            import bcc  # only scripts that take user stacks pay for importing it
            self._caches.setdefault(pid, []).insert(0, bcc.SymbolCache(pid))

    # -- reading stacks

    def frames(self, ref: StackRef) -> tuple[int, ...] | None:
        """The addresses of a stack, innermost first; None if the map no longer has it."""
        key = (ref.user, ref.id)
        if key not in self._frames:
            raw = self.maps[ref.user].lookup(ref.id.to_bytes(4, "little"))
            if raw is None:
                self.unreadable += 1
                self._frames[key] = None
            else:
                words = (_FRAME * (len(raw) // 8)).from_buffer_copy(raw)
                self._frames[key] = tuple(w for w in words if w)  # ends at the first 0
        return self._frames[key]

    def value(self, ref: StackRef) -> StackValue:
        """The stack as `print` and table keys show it (ktap's frames, `depth` of them)."""
        found = self._values.get(ref)
        if found is None:
            found = self._values[ref] = self._value(ref)
        return found

    def _value(self, ref: StackRef) -> StackValue:
        if ref.id < 0:
            return StackValue((_no_stack(ref),))
        addresses = self.frames(ref)
        if addresses is None:
            return StackValue(("[lost: no longer in the stack map]",))
        shown = addresses[:ref.depth]
        if ref.user:
            return StackValue(tuple(self._user_name(ref.pid, a, True) for a in shown))
        kernel = self.kernel()
        return StackValue(tuple(kernel.name(a) for a in shown))

    def functions(self, ref: StackRef) -> list[str]:
        """Function names, outermost first (a flame graph's frames)."""
        if ref.id < 0:
            return [_no_stack(ref)]
        addresses = self.frames(ref)
        if addresses is None:
            return ["[lost]"]
        shown = addresses[:ref.depth]
        if ref.user:
            names = [self._user_name(ref.pid, a, False) for a in shown]
        else:
            kernel = self.kernel()
            names = [kernel.function(a) for a in shown]
        return names[::-1]

    def kernel(self) -> KernelSymbols:
        if self._kernel is None:
            self._kernel = KernelSymbols.read()
        return self._kernel

    def _user_name(self, pid: int, address: int, offset: bool) -> str:
        if pid not in self._caches:  # a print record's stack, or missed by `watch`
            self._cache_if_changed(pid)
        name, off, module = None, address, None
        for cache in self._caches.get(pid, []):
            name, off, module = cache.resolve(address, True)
            if name is not None:
                break
        if name is None:
            where = module.decode(errors="replace").rsplit("/", 1)[-1] if module else None
            return f"[{where}]+0x{off:x}" if where else f"0x{address:x}"
        text = name.decode(errors="replace")
        return f"{text}+0x{off:x}" if offset else text

    # -- the end

    def losses(self) -> Iterator[tuple[str, str, int]]:
        """(kind of stack, why, count) of each kind of loss that happened."""
        if self.bss is not None and mf.STACK_LOST in self.bss.variables:
            raw = self.bss.read(mf.STACK_LOST)
            for user in (False, True):
                for index, why in enumerate(mf.STACK_LOSSES):
                    at = 8 * (index + (len(mf.STACK_LOSSES) if user else 0))
                    count = int.from_bytes(raw[at:at + 8], "little")
                    if count:
                        text = _NONE[user] if why == "none" else _WHY[why]
                        yield ("user" if user else "kernel"), text, count
        if self.unreadable:
            yield "", "lost: their ids were no longer in the stack map when read", self.unreadable

    def warnings(self) -> list[str]:
        """The losses as warning messages, one each."""
        messages = []
        for kind, why, count in self.losses():
            noun = f"{kind} stack" if kind else "stack"
            messages.append(f"{count} {noun}{'s' * (count != 1)} {why}")
        return messages


def _no_stack(ref: StackRef) -> str:
    """The frame shown for a stack the kernel did not take (counted in its probes)."""
    code = -ref.id
    if code == errno.EEXIST:
        return "[lost: collision in the stack map]"
    if code == errno.ENOMEM:
        return "[lost: stack map full]"
    if code == errno.EFAULT:
        return "[no user stack]" if ref.user else "[no kernel stack]"
    return f"[no stack: {os.strerror(code) if code > 0 else 'unknown'}]"
