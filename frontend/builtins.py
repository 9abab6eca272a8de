"""The one registry of ktap's built-ins: which exist, what they return, where they may run.

Every stage reads its facts from here: scope (which globals exist), IR lowering (which calls
are built-in), the verifier, type inference (result types), the placement checks (what a
probe body may call), the interpreter and the BPF lowering. The two implementations, the
interpreter's Python functions and the BPF lowering's emitters, stay in their own modules,
keyed by the names registered here; tests/frontend/test_builtins.py checks that each
implementation exists wherever an entry says the built-in runs.

How to add a built-in: add an entry below; then an implementation in `ir/interp.py` for
USER or BOTH (`@_builtin(name)`, or `USER_CONTEXT` for an event variable) and one in
`backend/lower.py` for KERNEL or BOTH (`BUILTIN_EMITTERS` or `CONTEXT_EMITTERS`); run
tests/frontend/test_builtins.py, which fails until both agree with the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from frontend.types import ANY, ARGSTR, INT, IP, NIL, STACK, STR, USTACK, Type


class Kind(Enum):
    FUNCTION = "function"  # called: `print(x)`, `ansi.new_line()`
    CONTEXT = "context"  # an event variable, a keyword: `pid`, `arg1`, `probename`
    VALUE = "value"  # a built-in global that is a plain value: `arg`, the script arguments


class Runs(Enum):
    """Where kllvm runs a built-in."""

    USER = "user"  # the interpreter only; in a probe body it is an error with a hint
    KERNEL = "kernel"  # probe bodies only; the interpreter forwards it to its env
    BOTH = "both"
    # A kernel built-in of ktap that kllvm does not compile yet: refused in probe bodies;
    # the interpreter forwards it to its env (which the oracle's tests can fake).
    NOT_YET = "not yet"


class EventArg(Enum):
    """The result type of `argN`: supplied by the event the probe is attached to."""

    FROM_EVENT = "from the event"


@dataclass(frozen=True)
class Builtin:
    """One built-in. `result` is ANY where the result is dynamically typed (user space only)."""

    name: str  # the full name: `print`, `ansi.set_color`, `pid`
    kind: Kind
    runs: Runs
    result: Type | EventArg
    library: str | None = None
    event_only: bool = False  # needs an event: refused in tick bodies, which have none
    # ktap's function-style probe registration: as a statement it is the probe statement it
    # stands for (frontend.registration); as a value it is refused when called.
    registers_probe: bool = False

    @property
    def member(self) -> str:
        """The name within its library (the whole name for a global)."""
        return self.name.removeprefix(f"{self.library}.") if self.library else self.name


def _fn(name: str, runs: Runs, result: Type, **flags: bool) -> Builtin:
    library, dot, _ = name.partition(".")
    return Builtin(name, Kind.FUNCTION, runs, result, library if dot else None, **flags)


def _ctx(name: str, runs: Runs, result: Type | EventArg, event_only: bool = False) -> Builtin:
    return Builtin(name, Kind.CONTEXT, runs, result, event_only=event_only)


_U, _K, _B, _N = Runs.USER, Runs.KERNEL, Runs.BOTH, Runs.NOT_YET

REGISTRY: tuple[Builtin, ...] = (
    # output and control
    _fn("print", _B, NIL), _fn("printf", _B, NIL), _fn("exit", _B, NIL),
    _fn("print_hist", _U, NIL), _fn("print_trace_clock", _U, NIL),
    # tables
    _fn("pairs", _U, ANY), _fn("len", _U, INT), _fn("delete", _U, NIL),
    _fn("table.new", _U, ANY),
    # the machine and the clock
    _fn("num_cpus", _U, INT), _fn("arch", _U, STR), _fn("kernel_v", _U, STR),
    _fn("gettimeofday_ns", _B, INT), _fn("gettimeofday_us", _B, INT),
    _fn("gettimeofday_ms", _B, INT), _fn("gettimeofday_s", _B, INT),
    # stacks: ids in BPF stack maps, symbolised in user space (backend.stacks)
    _fn("stack", _K, STACK, event_only=True), _fn("ustack", _K, USTACK, event_only=True),
    # strings from memory: a NUL-terminated string at an address, cut to --strlen
    _fn("kernel_string", _K, STR, event_only=True), _fn("user_string", _K, STR, event_only=True),
    _fn("ipof", _K, IP),  # a kernel address that print_hist and %p name
    # kernel context that kllvm does not compile yet
    _fn("stringof", _N, STR), _fn("curr_taskinfo", _N, INT),
    _fn("in_iowait", _N, INT), _fn("in_interrupt", _N, INT),
    _fn("net.ip_sock_saddr", _N, ANY), _fn("net.ip_sock_daddr", _N, ANY),
    _fn("net.format_ip_addr", _U, ANY),
    # terminal escapes
    _fn("ansi.clear_screen", _U, ANY), _fn("ansi.set_color", _U, ANY),
    _fn("ansi.set_color2", _U, ANY), _fn("ansi.set_color3", _U, ANY),
    _fn("ansi.reset_color", _U, ANY), _fn("ansi.new_line", _U, ANY),
    # ktap's function-style probe registration (frontend.registration)
    _fn("kdebug.kprobe", _U, ANY, registers_probe=True),
    _fn("kdebug.kretprobe", _U, ANY, registers_probe=True),
    _fn("kdebug.trace_by_id", _U, ANY, registers_probe=True),
    _fn("kdebug.trace_end", _U, ANY, registers_probe=True),
    _fn("kdebug.tracepoint", _U, ANY, registers_probe=True),
    _fn("timer.tick", _U, ANY, registers_probe=True),
    _fn("timer.profile", _U, ANY, registers_probe=True),
    # event variables
    _ctx("argstr", _K, ARGSTR, event_only=True), _ctx("probename", _K, STR, event_only=True),
    _ctx("pid", _B, INT), _ctx("tid", _B, INT), _ctx("uid", _B, INT), _ctx("cpu", _B, INT),
    _ctx("execname", _B, STR),
    *(_ctx(f"arg{i}", _K, EventArg.FROM_EVENT, event_only=True) for i in range(10)),
    # the script's arguments
    Builtin("arg", Kind.VALUE, _U, ANY),
)  # fmt: skip

BY_NAME: dict[str, Builtin] = {b.name: b for b in REGISTRY}
FUNCTIONS = frozenset(b.name for b in REGISTRY if b.kind is Kind.FUNCTION)
CONTEXT_NAMES = tuple(b.name for b in REGISTRY if b.kind is Kind.CONTEXT)
LIBRARIES: dict[str, frozenset[str]] = {
    library: frozenset(b.member for b in REGISTRY if b.library == library)
    for library in dict.fromkeys(b.library for b in REGISTRY if b.library)
}
# Names a script can refer to as globals: functions outside libraries, libraries, `arg`.
GLOBALS = frozenset(
    b.name for b in REGISTRY if b.kind is not Kind.CONTEXT and b.library is None
) | frozenset(LIBRARIES)


def runs_in_kernel(b: Builtin) -> bool:
    return b.runs in (Runs.KERNEL, Runs.BOTH)


def runs_in_user(b: Builtin) -> bool:
    return b.runs in (Runs.USER, Runs.BOTH)
