"""Counter slots: the fast path of `t[k] += d` on an integer-keyed table.

A per-CPU hash lookup costs ~50 ns per event on this kind of machine, several times the
rest of a counting probe. So a table that probes only add to, keyed by integers (counts
by pid, tid, uid, cpu, ...), also gets an array of counter slots, `SLOTS_PER_CPU` per
CPU: slot `cpu * SLOTS_PER_CPU + slot_of(k)` may be claimed by one key and then holds
that CPU's count of it. An array lookup is inlined by the verifier, so a hit costs a
multiply, a compare and an add.

Invariants that keep the table exact:
- a slot is claimed only after the key is in the hash map (inserted with 0 if new), so a
  full table refuses keys exactly as before and the key set is the hash map's;
- a claimed slot is never given to another key by the kernel; colliding keys take the
  hash map path;
- the table's value of `k` is its hash map value plus its claimed slots' counts;
  user space writes or deletes `k` in the hash map first, then releases `k`'s slots.

The array is memory-mapped (BPF_F_MMAPABLE) so user space reads every slot in one copy.
It is sized for one CPU in the object and resized to the possible CPUs at load: an
object loaded without the resize still counts right, through the hash map.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

from backend.loader import MappedArray, possible_cpus

SLOT_BITS = 8
SLOTS_PER_CPU = 1 << SLOT_BITS
# Fibonacci hashing: the top bits of k * 2^64/phi spread consecutive keys apart.
HASH_MULTIPLIER = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1

# used (0 or 1), key, count, padding to a power of two
SLOT = struct.Struct("<QqqQ")
SLOT_FIELDS = 4
USED, KEY, COUNT = 0, 1, 2


def slot_of(key: int) -> int:
    """The slot of `key` within a CPU's slots (the kernel computes the same)."""
    return ((key * HASH_MULTIPLIER) & MASK64) >> (64 - SLOT_BITS)


class CounterSlots:
    """User space's side of one table's counter slots."""

    def __init__(self, array: MappedArray) -> None:
        self.array = array
        self.cpus = min(possible_cpus(), array.map.max_entries // SLOTS_PER_CPU)

    def _claimed(self) -> Iterator[tuple[int, int, int]]:
        """(index, key, count) of every claimed slot."""
        data = self.array.read_all()
        for index, (used, key, count, _) in enumerate(SLOT.iter_unpack(
                data[:self.cpus * SLOTS_PER_CPU * SLOT.size])):
            if used:
                yield index, key, count

    def counts(self) -> dict[int, int]:
        """Each key's count summed over the CPUs that hold it in a slot."""
        result: dict[int, int] = {}
        for _, key, count in self._claimed():
            result[key] = result.get(key, 0) + count
        return result

    def _held(self, key: int) -> Iterator[tuple[int, int]]:
        """(index, count) of each CPU's slot that `key` holds."""
        slot = slot_of(key)
        for cpu in range(self.cpus):
            index = cpu * SLOTS_PER_CPU + slot
            used, held, count, _ = SLOT.unpack(self.array.read(index))
            if used and held == key:
                yield index, count

    def count(self, key: int) -> int | None:
        """`key`'s count over the slots that hold it, None if none does."""
        found = [count for _, count in self._held(key)]
        return sum(found) if found else None

    def release(self, key: int) -> None:
        for index, _ in list(self._held(key)):
            self.array.write(index, SLOT.pack(0, 0, 0, 0))

    def release_all(self) -> None:
        for index, _, _ in list(self._claimed()):
            self.array.write(index, SLOT.pack(0, 0, 0, 0))
