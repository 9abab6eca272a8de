"""Run-time values of the reference interpreter and of live tables.

ktap values map onto Python as: nil → None, booleans → bool, numbers → int (int64),
strings → bytes. Tables, functions and stacks are the classes below.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from frontend.diagnostics import Span

INT64_MIN = -(1 << 63)
INT64_MASK = (1 << 64) - 1

DEFAULT_TABLE_CAPACITY = 256 + 2048  # ktap's array part + hash part (Part A §7)


def wrap_int64(value: int) -> int:
    """Two's-complement wrap of an arbitrary Python int to int64."""
    value &= INT64_MASK
    return value - (1 << 64) if value >= 1 << 63 else value


def full_table_message(name: str, capacity: int, dropped: int) -> str:
    """The end-of-run warning for a table that was full (Part A §7)."""
    updates = "1 update was" if dropped == 1 else f"{dropped} updates were"
    return f"table '{name}' is full ({capacity} entries): {updates} dropped"


class KtapRuntimeError(Exception):
    """A ktap run-time error. Fatal ones stop the run and skip trace_end; others abort
    only the current closure invocation (Part B §5.6)."""

    def __init__(self, message: str, span: Span | None = None, fatal: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.fatal = fatal


class ExitRequest(Exception):
    """`exit()`: stops the main chunk or tracing run; trace_end still runs."""


class KtapTable(ABC):
    """What the interpreter needs of a table: `TableValue`, or the live runtime's
    map-backed tables. A plain base class rather than a Protocol so that the
    interpreter's is-this-a-table check stays a cheap isinstance."""

    capacity: int  # entries; updates past it are dropped and counted

    @abstractmethod
    def get(self, key: object) -> object: ...

    @abstractmethod
    def set(self, key: object, value: object) -> None:
        """A nil value deletes the key; past the capacity the update is dropped."""

    @abstractmethod
    def add(self, key: object, delta: int) -> bool:
        """`t[k] += delta`, a missing key counting as 0, wrapping to int64. False (and
        nothing changed) when the existing value is not a number."""

    @abstractmethod
    def clear(self) -> None: ...

    @abstractmethod
    def items(self) -> Iterator[tuple[object, object]]:
        """The live entries (no deleted keys)."""

    @abstractmethod
    def __len__(self) -> int: ...

    @property
    @abstractmethod
    def dropped(self) -> int:
        """Updates dropped because the table was full (Part A §7: reported at the end)."""


@dataclass(eq=False)
class TableValue(KtapTable):
    """A ktap table with a fixed capacity; updates past it are dropped and counted."""

    @property
    def dropped(self) -> int:
        return self.dropped_updates

    capacity: int = DEFAULT_TABLE_CAPACITY
    entries: dict[object, object] = field(default_factory=dict)
    dropped_updates: int = 0

    @staticmethod
    def key_of(key: object) -> object:
        # Python conflates 1 and True as dict keys; ktap does not.
        return (bool, key) if isinstance(key, bool) else key

    @staticmethod
    def key_back(stored: object) -> object:
        return stored[1] if isinstance(stored, tuple) and stored[:1] == (bool,) else stored

    def get(self, key: object) -> object:
        return self.entries.get(self.key_of(key))

    def set(self, key: object, value: object) -> None:
        stored = self.key_of(key)
        if value is None:
            self.entries.pop(stored, None)
            return
        if stored not in self.entries and len(self.entries) >= self.capacity:
            self.dropped_updates += 1
            return
        self.entries[stored] = value

    def add(self, key: object, delta: int) -> bool:
        stored = self.key_of(key)
        old = self.entries.get(stored)
        if old is None:
            if len(self.entries) >= self.capacity:
                self.dropped_updates += 1
                return True
            self.entries[stored] = delta
            return True
        if type(old) is not int:
            return False
        total = old + delta
        if not -(1 << 63) <= total < 1 << 63:
            total = wrap_int64(total)
        self.entries[stored] = total
        return True

    def clear(self) -> None:
        self.entries.clear()

    def items(self) -> Iterator[tuple[object, object]]:
        for stored, value in list(self.entries.items()):
            yield self.key_back(stored), value

    def __len__(self) -> int:
        return len(self.entries)


@dataclass(eq=False)
class BuiltinFunction:
    """A built-in function value (`print`, `ansi.clear_screen`, ...)."""

    name: str
    call: Callable[..., object]


@dataclass(eq=False)
class Closure:
    """A ktap function value: IR function name plus captured cells (by reference)."""

    function_name: str
    cells: tuple[Cell, ...]


@dataclass(eq=False)
class Cell:
    """A variable captured by a closure; shared by reference as Lua upvalues are."""

    value: object = None


@dataclass(frozen=True)
class StackValue:
    """A kernel stack: the frames as already-symbolised lines."""

    frames: tuple[str, ...]


@dataclass(frozen=True)
class KernelIp:
    """An `ipof()` value read back from the kernel: print_hist shows its symbol."""

    address: int


@dataclass(frozen=True)
class ArgstrValue:
    """The formatted event text of `argstr`."""

    text: bytes
