"""The print sites and faults of kernel code, numbered before lowering from the IR's types.

Ids are given in the order lowering meets them (each program in plan order, its body's
blocks and ops in order, a called function where it is called, as lowering inlines it),
one per distinct (kind, format, layouts, call site) print and (error site, message, fatality) fault,
so the manifest is the same for the same script. Whether an op can fail follows from the
types alone, as in `backend.lower`: a value must be a number and is nil-able (or nil),
a key may be nil, a divisor may be zero. What lowering refuses (a table printed, a
non-constant printf format) is left to lowering to report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from backend import layout as lay
from backend import manifest as mf
from frontend.types import FuncT, NilT, TableT, Type, strip_opt
from ir import ops, semantics
from ir.analysis import concat_roots

FaultKey = tuple[int, str, bool]  # error site, message, fatal
# kind, format (latin-1), layouts, the call's error site
PrintKey = tuple[str, str, tuple[str, ...], int]
CutKey = tuple[int, str]  # error site, what is cut

# The built-ins that read a NUL-terminated string from memory, and what a cut string
# was read by, for the warning.
MEMORY_STRINGS = {"user_string": "read by user_string()",
                  "kernel_string": "read by kernel_string()"}
CONCAT_CUT = "made by '..'"


def context_cut(name: str) -> str:
    """What a string read from the event's field `name` (argN) is, for the warning."""
    return f"read from {name}"


@dataclass
class Sites:
    """The numbered print sites and faults, as the manifest lists them."""

    prints: dict[PrintKey, int] = field(default_factory=dict)
    faults: dict[FaultKey, int] = field(default_factory=dict)
    cuts: dict[CutKey, int] = field(default_factory=dict)

    def print_sites(self) -> list[mf.PrintSite]:
        return [mf.PrintSite(kind, fmt, list(layouts), site)
                for kind, fmt, layouts, site in self.prints]

    def fault_list(self) -> list[mf.Fault]:
        return [mf.Fault(*key) for key in self.faults]

    def cut_list(self) -> list[mf.Cut]:
        return [mf.Cut(*key) for key in self.cuts]


@dataclass
class SiteWalk:
    """Numbers the sites of one program after another (`program`)."""

    module: ops.Module
    sites: Sites = field(default_factory=Sites)
    roots: dict[str, dict[ops.Concat, ops.Concat]] = field(default_factory=dict)

    def program(self, function: str, argstr: str | None) -> None:
        """`argstr`: the layout of the program's argstr record, None if it has none."""
        self._function(function, argstr, ())

    def _function(self, name: str, argstr: str | None, stack: tuple[str, ...]) -> None:
        if name in stack or name not in self.module.functions:
            return  # lowering refuses what it cannot inline
        for block in self.module.functions[name].blocks:
            for op in block.ops:
                self._op(op, argstr, (*stack, name))
                if isinstance(op, ops.Terminator):
                    break

    def _fault(self, error: int, message: str, fatal: bool) -> None:
        self.sites.faults.setdefault((error, message, fatal), len(self.sites.faults))

    def _cut(self, error: int, what: str) -> None:
        self.sites.cuts.setdefault((error, what), len(self.sites.cuts))

    def _number(self, value: ops.Value, error: int, message: str, fatal: bool) -> None:
        if _nilable(value) is True:
            self._fault(error, message, fatal)

    def _key(self, key: ops.Value, error: int) -> None:
        if _nilable(key) is not False:  # nil-able, or a table or function
            self._fault(error, semantics.TABLE_NIL_INDEX, True)

    def _op(self, op: ops.Op, argstr: str | None, stack: tuple[str, ...]) -> None:
        match op:
            case ops.Arith():
                self._number(op.left, op.error, semantics.ARITH_NON_NUMBER, False)
                self._number(op.right, op.error, semantics.ARITH_NON_NUMBER, False)
                if op.op in ("/", "%"):
                    message = semantics.DIVIDE_BY_ZERO if op.op == "/" else semantics.MOD_BY_ZERO
                    self._fault(op.error, message, True)
            case ops.Compare() if op.op not in ("==", "!="):
                self._number(op.left, op.error, semantics.COMPARE_NON_NUMBER, True)
                self._number(op.right, op.error, semantics.COMPARE_NON_NUMBER, True)
            case ops.Concat():
                for operand in (op.left, op.right):
                    if _nilable(operand) is not False:
                        self._fault(op.error, semantics.CONCAT_NON_STRING, True)
                if self._concat_root(stack[-1], op) is op:
                    self._cut(op.error, CONCAT_CUT)
            case ops.Negate():
                self._number(op.operand, op.error, semantics.NEGATE_NON_NUMBER, True)
            case ops.AddCell():
                self._number(op.delta, op.error, semantics.ADD_NON_NUMBER, True)
                if self._global_nilable(op.cell):
                    self._fault(op.error, semantics.ADD_NON_NUMBER, True)
            case ops.TableGet() | ops.TableSet():
                self._key(op.key, op.error)
            case ops.TableAdd():
                self._key(op.key, op.error)
                self._number(op.delta, op.error, semantics.ADD_NON_NUMBER, True)
            case ops.Call():
                callee = strip_opt(op.callee.type)
                if isinstance(callee, FuncT):
                    self._function(callee.function, argstr, stack)
            case ops.CallBuiltin() if op.name in ("print", "printf"):
                self._print(op, argstr)
            case ops.CallBuiltin() if op.name in MEMORY_STRINGS:
                if op.args:
                    self._number(op.args[0], op.error, semantics.bad_argument(1), True)
                self._cut(op.error, MEMORY_STRINGS[op.name])
            case ops.Context() if op.name.startswith("arg") and _kind(op.dest) == ("str", False):
                self._cut(op.error, context_cut(op.name))
            case ops.LoopTick():
                self._fault(op.error, semantics.LOOP_OVER_BUDGET, True)
            case ops.CheckNumber():
                self._number(op.value, op.error, semantics.FOR_NON_NUMBER, True)
            case ops.Fail():
                self._fault(op.error, self.module.errors[op.error].message, True)

    def _concat_root(self, function: str, op: ops.Concat) -> ops.Concat:
        roots = self.roots.get(function)
        if roots is None:
            roots = self.roots[function] = concat_roots(self.module.functions[function])
        return roots[op]

    def _global_nilable(self, cell: ops.Register) -> bool:
        for decl in self.module.globals:
            if decl.name == cell.name:
                layout = _layout(decl.type)
                return layout is not None and (lay.is_opt(layout) or layout == "nil")
        return False

    def _print(self, op: ops.CallBuiltin, argstr: str | None) -> None:
        template, args = b"", list(op.args)
        if op.name == "printf":
            first = args[0] if args else None
            if not (isinstance(first, ops.Const) and isinstance(first.value, bytes)):
                return
            template, args = first.value, args[1:]
        layouts = []
        for arg in args:
            layout = _printed(arg, argstr)
            if layout is None:
                return
            layouts.append(layout)
        key = (op.name, template.decode("latin-1"), tuple(layouts), op.error)
        self.sites.prints.setdefault(key, len(self.sites.prints))


def _layout(t: Type) -> str | None:
    try:
        return lay.layout_of(t)
    except lay.LayoutError:
        return None


def _kind(value: ops.Value) -> tuple[str, bool] | None:
    """(base layout, nil-able) of a value as lowering reads it; None for a table, a
    function or a type without a layout."""
    if isinstance(value, ops.Const):
        v = value.value
        if v is None:
            return ("nil", False)
        return ("bool" if isinstance(v, bool) else "int" if isinstance(v, int) else "str",
                False)
    t = value.type
    if isinstance(t, ops.CellT):
        t = t.inner
    if isinstance(strip_opt(t), TableT | FuncT):
        return None
    if isinstance(t, NilT):
        return ("nil", False)
    layout = _layout(t)
    return None if layout is None else (lay.base(layout), lay.is_opt(layout))


def _nilable(value: ops.Value) -> bool | None:
    """Whether a value may be nil (always, for nil); None for a table or function."""
    kind = _kind(value)
    if kind is None:
        return None
    return kind[0] == "nil" or kind[1]


def _printed(value: ops.Value, argstr: str | None) -> str | None:
    """The record layout of a printed value; None where lowering refuses to print it."""
    kind = _kind(value)
    if kind is None:
        return None
    base, optional = kind
    if base == "argstr":
        return argstr
    return f"opt:{base}" if optional and base != "nil" else base
