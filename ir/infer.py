"""Type inference by unification over the whole IR module.

`infer` reads the module and returns a `Solution`; `apply` is the one place that writes
the solved types into the IR (register types, table key and value types).

Every register gets a type variable; ops constrain them. Two different concrete types meeting
make the variable dynamic (`ANY`) and the meeting place is remembered: that is fine in user
space, and `ir.checks` reports it when the value reaches kernel code. Inference runs on the IR
rather than the AST because the IR has a dozen op forms where the AST has forty, and cells,
tables and calls are already explicit there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from frontend import builtins
from frontend.diagnostics import Span
from frontend.types import (
    ANY,
    BOOL,
    INT,
    NIL,
    STR,
    AnyT,
    BuiltinFuncT,
    FuncT,
    NilT,
    OptT,
    TableT,
    Type,
)
from ir import ops

# The type of `argN` in one function, supplied by the event provider (None: unknown).
ArgTypes = Callable[[str, int], Type | None]


@dataclass(frozen=True)
class Conflict:
    """Two different concrete types that met in one type variable, each with where it
    came from: reported if the value reaches kernel code."""

    first: tuple[Span, Type]
    second: tuple[Span, Type]


@dataclass(eq=False)
class TVar:
    """A union-find node. `shape` is a concrete type whose table parts are TVars."""

    parent: TVar | None = None
    shape: Type | None = None
    shape_span: Span | None = None
    table: tuple[int | None, TVar, TVar] | None = None  # site, key, value
    conflict: Conflict | None = None

    def find(self) -> TVar:
        root = self
        while root.parent is not None:
            root = root.parent
        # Every node on the path now points at the root: `unify` always makes the newer
        # variable the root, so without this a long script builds chains as long as itself
        # and every find walks one (quadratic time).
        node = self
        while node is not root:
            node.parent, node = root, node.parent
        return root


@dataclass(frozen=True)
class Solution:
    """What inference found, not yet written into the IR: the type of every register it
    saw (a cell's as `CellT`), the key and value types of every table site, and the
    conflicts behind every dynamic type."""

    registers: Mapping[ops.Register, Type]
    tables: Mapping[int, tuple[Type, Type]]
    var_of: Mapping[ops.Register, TVar]

    def conflict_of(self, reg: ops.Register) -> Conflict | None:
        var = self.var_of.get(reg)
        return None if var is None else _find_conflict(var.find(), set())


def apply(module: ops.Module, solution: Solution) -> None:
    """Writes `solution` into `module`: the only place inference's results reach the IR.

    Applying the solution of a later inference of the same module replaces every type an
    earlier one wrote: each inference sees every register of every op, and the parameters
    of every function whose calls it could bind (event types only make more calls known)."""
    for reg, t in solution.registers.items():
        reg.type = t
    for decl in module.tables:
        decl.key, decl.value = solution.tables.get(decl.site, (NIL, NIL))


def _find_conflict(var: TVar, seen: set[int]) -> Conflict | None:
    if id(var) in seen:
        return None
    seen.add(id(var))
    if var.conflict is not None:
        return var.conflict
    if var.table is not None:
        for part in var.table[1:]:
            found = _find_conflict(part.find(), seen)
            if found is not None:
                return found
    return None


class Inference:
    def __init__(self, module: ops.Module, arg_types: ArgTypes) -> None:
        self.module = module
        self.arg_types = arg_types
        self.vars: dict[ops.Register, TVar] = {}
        self.table_sites: dict[int, tuple[TVar, TVar]] = {}
        self.returns = {n: ops.Register(f"{n}.return", ANY) for n in module.functions}
        self.iterators: dict[ops.Register, TVar] = {}
        self.bound: set[ops.Call] = set()
        self.joins: dict[ops.Register, list[tuple[ops.Value, Span]]] = {}
        # Nil-ness belongs to values, not to type classes: `t[k]` may be nil while the
        # table's value type is a plain int. Sources are nil-able registers; flows copy it.
        self.nilable: set[ops.Register] = set()
        self.flows: list[tuple[ops.Value, ops.Register]] = []

    # -- union-find

    def var(self, reg: ops.Register) -> TVar:
        found = self.vars.get(reg)
        if found is None:
            found = self.vars[reg] = TVar()
        return found

    def of(self, value: ops.Value) -> TVar:
        if isinstance(value, ops.Register):
            return self.var(value)
        return TVar() if isinstance(value.type, NilT) else TVar(shape=value.type)

    def constrain(self, var: TVar, shape: Type, span: Span) -> None:
        self.unify(var, self.shaped(shape), span)

    def shaped(self, shape: Type) -> TVar:
        if isinstance(shape, NilT):
            return TVar()
        return TVar(shape=shape.inner if isinstance(shape, OptT) else shape)

    def flow(self, src: ops.Value, dest: ops.Register) -> None:
        self.flows.append((src, dest))

    def table_var(self, site: int | None) -> TVar:
        if site is None:
            return TVar(shape=TableT(-1, ANY, ANY), table=(None, TVar(), TVar()))
        key, value = self.table_sites.setdefault(site, (TVar(), TVar()))
        return TVar(shape=TableT(site, ANY, ANY), table=(site, key, value))

    def unify(self, a: TVar, b: TVar, span: Span) -> None:
        a, b = a.find(), b.find()
        if a is b:
            return
        b.parent = a
        a.conflict = a.conflict or b.conflict
        if b.shape is None:
            return
        if a.shape is None:
            a.shape, a.shape_span, a.table = b.shape, b.shape_span or span, b.table
            return
        if isinstance(a.shape, AnyT) or isinstance(b.shape, AnyT):
            a.shape = ANY
            return
        if a.table is not None and b.table is not None:
            site_a, key_a, value_a = a.table
            site_b, key_b, value_b = b.table
            if site_a is not None and site_b is not None and site_a != site_b:
                self.clash(a, b, span)
                return
            a.table = (site_a if site_a is not None else site_b, key_a, value_a)
            self.unify(key_a, key_b, span)
            self.unify(value_a, value_b, span)
            return
        if type(a.shape) is not type(b.shape) or a.shape != b.shape:
            self.clash(a, b, span)

    def resolve_joins(self) -> None:
        """The result of `a || b` takes the operands' type when they agree; otherwise only
        the result is dynamic, and the operands keep their own types."""
        for result, operands in self.joins.items():
            roots = [self.of(v).find() for v, _ in operands]
            shaped = [r for r in roots if r.shape is not None]
            if all(self.compatible(shaped[0], r) for r in shaped[1:]) if shaped else True:
                for (value, span) in operands:
                    self.unify(self.var(result), self.of(value), span)
                continue
            first, second = shaped[0], next(r for r in shaped if not self.compatible(shaped[0], r))
            target = self.var(result).find()
            if target.conflict is None:
                target.conflict = Conflict(
                    (first.shape_span or operands[0][1], self.shape_of(first)),
                    (second.shape_span or operands[-1][1], self.shape_of(second)))
            target.shape, target.table = ANY, None

    @staticmethod
    def compatible(a: TVar, b: TVar) -> bool:
        if a.table is not None or b.table is not None:
            return a.table is not None and b.table is not None and a.table[0] == b.table[0]
        return a.shape == b.shape

    def clash(self, a: TVar, b: TVar, span: Span) -> None:
        if a.conflict is None:
            a.conflict = Conflict((a.shape_span or span, self.shape_of(a)),
                                  (b.shape_span or span, self.shape_of(b)))
        a.shape, a.table = ANY, None

    def shape_of(self, var: TVar) -> Type:
        """The type a class had on its own (`var` may already be linked to another root)."""
        if var.table is not None:
            site, key, value = var.table
            return TableT(-1 if site is None else site, self.resolve(key, set()),
                          self.resolve(value, set()))
        return var.shape if var.shape is not None else NIL

    # -- constraints from ops

    def run(self) -> Solution:
        for function in self.module.functions.values():
            for block in function.blocks:
                for op in block.ops:
                    self.op(function, op)
        # Calls bind arguments to parameters once the callee's type is known.
        self.bind_all_calls()
        self.resolve_joins()
        self.bind_all_calls()
        self.propagate_nil()
        return self.solution()

    def op(self, function: ops.Function, op: ops.Op) -> None:
        span = op.span
        match op:
            case ops.Move(dest=d, src=s, join=True):
                self.joins.setdefault(d, []).append((s, span))
                self.flow(s, d)
            case ops.Move(dest=d, src=s):
                self.unify(self.var(d), self.of(s), span)
                self.flow(s, d)
            case ops.Arith(dest=d, left=left, right=right):
                for v in (d, left, right):
                    self.constrain(self.of(v), INT, span)
            case ops.Compare(dest=d, op=o, left=left, right=right):
                self.constrain(self.var(d), BOOL, span)
                if o not in ("==", "!="):
                    self.constrain(self.of(left), INT, span)
                    self.constrain(self.of(right), INT, span)
            case ops.Not(dest=d):
                self.constrain(self.var(d), BOOL, span)
            case ops.Negate(dest=d, operand=v):
                self.constrain(self.var(d), INT, span)
                self.constrain(self.of(v), INT, span)
            case ops.Concat(dest=d, left=left, right=right):
                for v in (d, left, right):
                    self.constrain(self.of(v), STR, span)
            case ops.MakeCell(dest=d, initial=v):
                self.unify(self.var(d), self.of(v), span)
                self.flow(v, d)
            case ops.LoadCell(dest=d, cell=c):
                self.unify(self.var(d), self.var(c), span)
                self.flow(c, d)
            case ops.StoreCell(cell=c, value=v):
                self.unify(self.var(c), self.of(v), span)
                self.flow(v, c)
            case ops.AddCell(cell=c, delta=v):
                self.constrain(self.var(c), INT, span)
                self.constrain(self.of(v), INT, span)
            case ops.NewTable(dest=d, site=site):
                self.unify(self.var(d), self.table_var(site), span)
            case ops.TableGet(dest=d, table=t, key=k):
                _, key, value = self.table_parts(t, span)
                self.unify(key, self.of(k), span)
                self.unify(value, self.var(d), span)
                self.nilable.add(d)
            case ops.TableSet(table=t, key=k, value=v):
                _, key, value = self.table_parts(t, span)
                self.unify(key, self.of(k), span)
                if not (isinstance(v, ops.Const) and v.value is None):
                    self.unify(value, self.of(v), span)
            case ops.TableAdd(table=t, key=k, delta=v):
                _, key, value = self.table_parts(t, span)
                self.unify(key, self.of(k), span)
                self.constrain(value, INT, span)
                self.constrain(self.of(v), INT, span)
            case ops.PairsIter(dest=d, table=t):
                self.iterators[d] = self.of(t)
            case ops.PairsNext(key=k, value=v, iterator=it):
                table = self.iterators.get(it)
                if table is not None:
                    _, key, value = self.table_parts_of(table, span)
                    self.unify(key, self.var(k), span)
                    self.unify(value, self.var(v), span)
                self.nilable.update((k, v))
            case ops.CheckNumber(value=v):
                self.constrain(self.of(v), INT, span)
            case ops.CallBuiltin(dest=d, name=name):
                result = self.builtin_result(name)
                self.constrain(self.var(d), result, span)
                if isinstance(result, NilT | AnyT):
                    self.nilable.add(d)
            case ops.Call(dest=d):
                self.nilable.add(d)  # until the callee is known
            case ops.LoadBuiltin(dest=d, name=name):
                self.constrain(self.var(d), BuiltinFuncT(name), span)
            case ops.Context(dest=d, name=name):
                self.constrain(self.var(d), self.context_type(function, name), span)
            case ops.MakeClosure(dest=d, function=name, cells=cells):
                self.constrain(self.var(d), FuncT(name), span)
                callee = self.module.functions[name]
                for outer, inner in zip(cells, callee.free_cells, strict=True):
                    self.unify(self.var(outer), self.var(inner), span)
                    self.flow(outer, inner)
                    self.flow(inner, outer)
            case ops.Return(value=v) if v is not None:
                self.unify(self.var(self.returns[function.name]), self.of(v), span)
                self.flow(v, self.returns[function.name])
            case ops.Return(value=None):
                self.nilable.add(self.returns[function.name])
            case _:
                pass

    @staticmethod
    def builtin_result(name: str) -> Type:
        entry = builtins.BY_NAME.get(name)
        return entry.result if entry is not None and isinstance(entry.result, Type) else ANY

    def context_type(self, function: ops.Function, name: str) -> Type:
        entry = builtins.BY_NAME[name]
        if isinstance(entry.result, Type):
            return entry.result
        found = self.arg_types(function.name, int(name[3:]))  # argN: the event's field N
        return found if found is not None else ANY

    def table_parts(self, value: ops.Value, span: Span) -> tuple[int | None, TVar, TVar]:
        return self.table_parts_of(self.of(value), span)

    def table_parts_of(self, var: TVar, span: Span) -> tuple[int | None, TVar, TVar]:
        root = var.find()
        if root.table is None and root.shape is None:
            self.unify(root, self.table_var(None), span)
            root = root.find()
        if root.table is None:
            return None, TVar(shape=ANY), TVar(shape=ANY)  # not a table: dynamic use
        return root.table

    def bind_all_calls(self) -> None:
        while self.bind_calls():
            pass

    def bind_calls(self) -> bool:
        changed = False
        for function in self.module.functions.values():
            for block in function.blocks:
                for op in block.ops:
                    if isinstance(op, ops.Call) and op not in self.bound:
                        changed |= self.bind_call(op)
        return changed

    def bind_call(self, op: ops.Call) -> bool:
        shape = self.of(op.callee).find().shape
        if not isinstance(shape, FuncT):
            return False
        self.bound.add(op)
        callee = self.module.functions[shape.function]
        for i, param in enumerate(callee.params):
            arg = op.args[i] if i < len(op.args) else ops.Const(None, NIL)
            self.unify(self.var(param), self.of(arg), op.span)
            self.flow(arg, param)
        returned = self.returns[callee.name]
        self.unify(self.var(op.dest), self.var(returned), op.span)
        self.nilable.discard(op.dest)
        self.flow(returned, op.dest)
        return True

    def propagate_nil(self) -> None:
        changed = True
        while changed:
            changed = False
            for src, dest in self.flows:
                if dest in self.nilable:
                    continue
                if (src in self.nilable if isinstance(src, ops.Register)
                        else src.value is None):
                    self.nilable.add(dest)
                    changed = True

    # -- results

    def resolve(self, var: TVar, seen: set[int]) -> Type:
        """The type of a class; a class with no shape at all only ever held nil."""
        root = var.find()
        if id(root) in seen or root.shape is None:
            return NIL
        seen = seen | {id(root)}
        if root.table is None:
            return root.shape
        site, key, value = root.table
        return TableT(-1 if site is None else site, self.resolve(key, seen),
                      self.resolve(value, seen))

    def register_type(self, reg: ops.Register) -> Type:
        resolved = self.resolve(self.var(reg), set())
        if reg in self.nilable and not isinstance(resolved, AnyT | NilT):
            return OptT(resolved)
        return resolved

    def solution(self) -> Solution:
        registers: dict[ops.Register, Type] = {}
        returns = set(self.returns.values())  # inference's own: not in the module
        for reg in self.vars:
            if reg in returns:
                continue
            resolved = self.register_type(reg)
            # Lowering makes a captured variable's register a cell: it stays one.
            registers[reg] = ops.CellT(resolved) if isinstance(reg.type, ops.CellT) else resolved
        tables = {site: (self.resolve(key, set()), self.resolve(value, set()))
                  for site, (key, value) in self.table_sites.items()}
        return Solution(registers, tables, dict(self.vars))


def infer(module: ops.Module, arg_types: ArgTypes) -> Solution:
    """The types of `module`'s registers and tables; `module` is not changed."""
    return Inference(module, arg_types).run()

