"""User space's view of kernel state: tables backed by live BPF maps, variables backed by
BPF globals. The interpreter sees them as ordinary tables and cells."""

from __future__ import annotations

import errno
from collections.abc import Iterator

from backend import layout as lay
from backend.loader import GlobalSection, Map, possible_cpus
from backend.manifest import GlobalInfo, TableInfo
from backend.slots import CounterSlots
from backend.stacks import Stacks
from ir.values import KtapTable, StackValue, wrap_int64


class MapTable(KtapTable):
    """A kernel table. Per-CPU maps hold one value per CPU: reads sum them, writes put
    the value on CPU 0 and zero elsewhere so the sum is what was written. A table with
    counter slots (backend.slots) adds their counts to the map's values."""

    def __init__(self, bpf_map: Map, info: TableInfo, strlen: int,
                 slots: CounterSlots | None = None, stacks: Stacks | None = None) -> None:
        self.map = bpf_map
        self.info = info
        self.strlen = strlen
        self.slots = slots
        # Stack keys and values are ids in the kernel; user space sees them symbolised
        # (StackValue), as ktap's stacks became strings when stored.
        self.stacks = stacks
        self.stack_keys = lay.base(info.key) in ("stack", "ustack")
        self.dropped_updates = 0
        self.cut_strings = 0  # keys and values cut to fit the kernel's strings

    @property
    def dropped(self) -> int:
        """Updates user space dropped; the kernel counts its own in a global."""
        return self.dropped_updates

    def _key(self, key: object) -> bytes:
        if lay.is_cut(self.info.key, key, self.strlen):
            self.cut_strings += 1
        return lay.encode(self.info.key, key, self.strlen)

    def _stack(self, value: object) -> object:
        if isinstance(value, lay.StackRef) and self.stacks is not None:
            return self.stacks.value(value)
        return value

    def _decode_key(self, raw: bytes) -> object:
        return self._stack(lay.decode(self.info.key, raw, self.strlen))

    def _raw_keys(self, key: object) -> list[bytes]:
        """The kernel's keys of a symbolised stack: several ids may show as one stack
        (their frames differ below the depth shown)."""
        return [raw for raw in self.map.keys() if self._decode_key(raw) == key]

    def _decode(self, raw: bytes) -> object:
        if not self.map.percpu:
            return self._stack(lay.decode(self.info.value, raw, self.strlen))
        stride = self.map.cpu_stride
        total = sum(int.from_bytes(raw[i:i + 8], "little", signed=True)
                    for i in range(0, stride * possible_cpus(), stride))
        return wrap_int64(total)

    def _encode(self, value: object) -> bytes:
        if lay.is_cut(self.info.value, value, self.strlen):
            self.cut_strings += 1
        data = lay.encode(self.info.value, value, self.strlen)
        if not self.map.percpu:
            return data
        return data.ljust(self.map.cpu_stride, b"\0") + bytes(
            self.map.cpu_stride * (possible_cpus() - 1))

    def get(self, key: object) -> object:
        if self.stack_keys:
            return self._merged(key)
        raw = self.map.lookup(self._key(key))
        value = None if raw is None else self._decode(raw)
        if self.slots is None or type(key) is not int:
            return value
        pending = self.slots.count(key)
        if pending is None:
            return value
        return wrap_int64(_as_count(value) + pending)

    def set(self, key: object, value: object) -> None:
        self._set_map(key, value)
        # After the map: a probe that claims a slot meanwhile finds the key there.
        if self.slots is not None and type(key) is int:
            self.slots.release(key)

    def _merged(self, key: object) -> object:
        if not isinstance(key, StackValue):
            return None
        values = [self._decode(raw) for k in self._raw_keys(key)
                  if (raw := self.map.lookup(k)) is not None]
        return _merge(values)

    def _set_map(self, key: object, value: object) -> None:
        if self.stack_keys:
            # Only the kernel makes stack ids: user space can delete them, not add any.
            raws = self._raw_keys(key)
            if value is not None and not raws:
                raise TypeError("a stack key can only be stored by a probe")
            for raw in raws:
                if value is None or raw is not raws[0]:
                    self.map.delete(raw)
                else:
                    self.map.update(raw, self._encode(value))
            return
        if value is None:
            self.map.delete(self._key(key))
            return
        try:
            self.map.update(self._key(key), self._encode(value))
        except OSError as e:
            if e.errno not in (errno.E2BIG, errno.ENOMEM):
                raise
            self.dropped_updates += 1

    def add(self, key: object, delta: int) -> bool:
        old = self.get(key)
        if old is not None and type(old) is not int:
            return False
        self.set(key, wrap_int64((old or 0) + delta))
        return True

    def clear(self) -> None:
        for key in list(self.map.keys()):
            self.map.delete(key)
        if self.slots is not None:
            self.slots.release_all()

    def items(self) -> Iterator[tuple[object, object]]:
        if self.stack_keys:
            merged: dict[object, list[object]] = {}
            for raw_key, raw in self.map.items():
                merged.setdefault(self._decode_key(raw_key), []).append(self._decode(raw))
            for key, values in merged.items():
                yield key, _merge(values)
            return
        pending = {} if self.slots is None else self.slots.counts()
        for raw_key, raw in self.map.items():
            key = lay.decode(self.info.key, raw_key, self.strlen)
            value = self._decode(raw)
            if key in pending:
                value = wrap_int64(_as_count(value) + pending.pop(key))
            yield key, value
        # A key deleted from the map while a probe claimed its slot: still counted.
        yield from pending.items()

    def __len__(self) -> int:
        keys = {self._decode_key(k) for k in self.map.keys()}
        if self.slots is not None:
            keys |= self.slots.counts().keys()
        return len(keys)


def _merge(values: list[object]) -> object:
    """One value for the kernel entries that show as one stack: counts add up; other
    values are those of the first entry (ktap kept the last write to the one string)."""
    if not values:
        return None
    counts = [v for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return wrap_int64(sum(counts)) if len(counts) == len(values) else values[0]


def _as_count(value: object) -> int:
    """A counter table's value in the map: an int, or 0 when the key is only in slots."""
    if value is None:
        return 0
    assert type(value) is int, "counter slots belong to int-valued tables"
    return value


class GlobalCell:
    """A top-level variable that probes use: its value lives in the BPF global."""

    def __init__(self, section: GlobalSection, info: GlobalInfo, strlen: int,
                 stacks: Stacks | None = None) -> None:
        self.section = section
        self.info = info
        self.strlen = strlen
        self.stacks = stacks  # a stack a probe stored here is read back symbolised
        self.cut_strings = 0  # values cut to fit the kernel's strings

    @property
    def value(self) -> object:
        if self.info.present is not None and self.section.read_int(self.info.present) == 0:
            return None
        value = lay.decode(self.info.layout, self.section.read(self.info.symbol), self.strlen)
        if isinstance(value, lay.StackRef) and self.stacks is not None:
            return self.stacks.value(value)
        return value

    @value.setter
    def value(self, value: object) -> None:
        if self.info.present is not None:
            self.section.write_int(self.info.present, int(value is not None))
        if value is None:
            if self.info.present is None:
                raise TypeError(f"{self.info.cell} cannot be nil in the kernel")
            return
        if lay.is_cut(self.info.layout, value, self.strlen):
            self.cut_strings += 1
        self.section.write(self.info.symbol, lay.encode(self.info.layout, value, self.strlen))
