"""Structural types of ktap values, as inferred by unification.

Where a value may be nil the type is `OptT(inner)`. `AnyT` is a dynamically typed value:
allowed in user space, a compile error wherever the kernel needs a concrete type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    """Base of the types of ktap values; `str()` gives the name diagnostics show."""

    def __str__(self) -> str:
        return type(self).__name__.removesuffix("T").lower()


@dataclass(frozen=True)
class IntT(Type):
    """A ktap number: a signed 64-bit integer."""


@dataclass(frozen=True)
class BoolT(Type):
    """`true` or `false`."""


@dataclass(frozen=True)
class NilT(Type):
    """The type of `nil` and of nothing else."""


@dataclass(frozen=True)
class StrT(Type):
    """A byte string (of a fixed capacity in the kernel)."""


@dataclass(frozen=True)
class AnyT(Type):
    """A dynamically typed value: fine in user space, an error where the kernel needs a type."""

    def __str__(self) -> str:
        return "any"


@dataclass(frozen=True)
class StackT(Type):
    """The stack trace that `stack()` (kernel) or `ustack()` (user, of the current
    process) returns: an id in a BPF stack map, symbolised in user space."""

    user: bool = False

    def __str__(self) -> str:
        return "ustack" if self.user else "stack"


@dataclass(frozen=True)
class IpT(Type):
    """What `ipof(addr)` returns: a kernel instruction address, which `print_hist` and
    printf's `%p` show as its symbol; not a number (ktap: print refuses it)."""

    def __str__(self) -> str:
        return "ip"


@dataclass(frozen=True)
class ArgstrT(Type):
    """`argstr`: the event as text, formatted in user space from the raw record."""


@dataclass(frozen=True)
class TableT(Type):
    """A table created at one site (`site` numbers the constructor or `table.new` call)."""

    site: int
    key: Type
    value: Type

    def __str__(self) -> str:
        return f"table#{self.site}[{self.key}]{self.value}"


@dataclass(frozen=True)
class FuncT(Type):
    """A function value known statically: the IR function it denotes."""

    function: str

    def __str__(self) -> str:
        return f"func {self.function}"


@dataclass(frozen=True)
class BuiltinFuncT(Type):
    """A built-in global taken as a value (`var p = print`), known by its name."""

    name: str

    def __str__(self) -> str:
        return f"builtin {self.name}"


@dataclass(frozen=True)
class OptT(Type):
    """A value of type `inner` that may also be nil, such as a table read."""

    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


INT = IntT()
BOOL = BoolT()
NIL = NilT()
STR = StrT()
ANY = AnyT()
STACK = StackT()
USTACK = StackT(user=True)
IP = IpT()
ARGSTR = ArgstrT()


def optional(t: Type) -> Type:
    if isinstance(t, OptT | NilT | AnyT):
        return t
    return OptT(t)


def strip_opt(t: Type) -> Type:
    return t.inner if isinstance(t, OptT) else t


def is_concrete(t: Type) -> bool:
    """True when the kernel can represent a value of this type."""
    t = strip_opt(t)
    if isinstance(t, AnyT):
        return False
    if isinstance(t, TableT):
        return is_concrete(t.key) and is_concrete(t.value)
    return True
