"""The probe-context rules (Part A §2, §6, §10): checks only, the module is not changed.

Probe bodies (`trace`, `profile`) and every function they call will run in the kernel
(`ir.placement` records it once these checks pass). Kernel code must be statically typed and
must not create tables or functions, iterate, print histograms, recurse, call a function
that is not known at compile time, or capture a variable that is not top-level.
"""

from __future__ import annotations

from frontend import builtins
from frontend.builtins import Runs
from frontend.diagnostics import DiagnosticSink, Span
from frontend.types import (
    AnyT,
    ArgstrT,
    FuncT,
    NilT,
    OptT,
    StackT,
    TableT,
    Type,
    is_concrete,
    strip_opt,
)
from ir import ops
from ir.infer import Conflict, Solution
from ir.placement import kernel_functions, static_calls

NO_EVENT_HINT = "tick bodies run in user space and have no event"
TICK_HINTS = {name: "sample stacks with profile-N instead" for name in ("stack", "ustack")}
ARGSTR_HINT = ("the event text is made in user space from the raw record: only "
               "print(argstr) and printf(\"%s\", argstr) can show it",)


# Why some built-ins kllvm has not compiled yet cannot simply be lowered (checked on this
# kernel, 6.18): say so rather than "not available yet".
NOT_YET_WHY = {
    "in_iowait": "it reads the in_iowait bit field of the current task_struct, whose place "
                 "only the kernel's BTF (CO-RE relocation) gives, and kllvm does not read BTF",
    "in_interrupt": "it reads the per-CPU preempt count, whose symbol (__preempt_count) "
                    "this kernel does not export in kallsyms",
}


def _not_in_kernel(name: str) -> tuple[str, tuple[str, ...]] | None:
    """Why the built-in `name` cannot be called in a probe body (message, hints), or None."""
    entry = builtins.BY_NAME[name]
    if builtins.runs_in_kernel(entry):
        return None
    if entry.runs is Runs.NOT_YET:
        why = NOT_YET_WHY.get(name)
        if why is not None:
            return f"'{name}' is not available in a probe body: {why}", ()
        return f"'{name}' is not available in a probe body yet", ()
    # ktap's probe registration functions are not available anywhere: no hint to move them.
    hints = () if entry.registers_probe else ("call it in trace_end or a tick body",)
    return f"'{name}' is not available in a probe body", hints


def _argstr_operands(op: ops.Op) -> list[str]:
    """The fields of `op` that read an argstr value."""
    found = []
    for name, value in vars(op).items():
        if name == "dest":
            continue
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, ops.Register | ops.Const)
               and isinstance(strip_opt(v.type), ArgstrT)
               for v in values):
            found.append(name)
    return found


def _argstr_misuse(op: ops.Op) -> str | None:
    """Why `op` cannot use argstr in a probe body (Part A §14), or None."""
    fields = _argstr_operands(op)
    if not fields or (isinstance(op, ops.CallBuiltin) and op.name in ("print", "printf")):
        return None
    match op:
        case ops.TableGet() | ops.TableSet() | ops.TableAdd() if "key" in fields:
            return "argstr cannot be used as a table key in a probe body"
        case ops.TableSet() | ops.TableAdd():
            return "argstr cannot be stored in a table in a probe body"
        case ops.Compare():
            return "argstr cannot be compared in a probe body"
        case ops.Move() | ops.StoreCell():
            return "argstr cannot be assigned in a probe body"
        case ops.Call():
            return "argstr cannot be passed to a function in a probe body"
    return "argstr can only be printed in a probe body"


class _KernelChecker:
    def __init__(self, module: ops.Module, solution: Solution, sink: DiagnosticSink) -> None:
        self.module = module
        self.solution = solution
        self.sink = sink
        self.reported: set[int] = set()

    def error(self, span: Span, message: str, hints: tuple[str, ...] = ()) -> None:
        self.sink.error(span, message, hints=hints)

    def check_structure(self, function: ops.Function) -> None:
        for block in function.blocks:
            for op in block.ops:
                self.check_op(op)

    def check_types(self, function: ops.Function) -> None:
        for block in function.blocks:
            for op in block.ops:
                for reg in self.registers_of(op):
                    self.check_type(reg, op.span)

    def check_op(self, op: ops.Op) -> None:
        match op:
            case ops.NewTable():
                self.error(op.span, "cannot create a table in a probe body",
                           ("create it at the top level: 'var t = {}'",))
            case ops.MakeClosure():
                self.error(op.span, "cannot create a function in a probe body",
                           ("define the function at the top level",))
            case ops.PairsIter():
                self.error(op.span, "'pairs' is not available in a probe body",
                           ("iterate in trace_end or a tick body",))
            case ops.RegisterProbe() | ops.RegisterTraceEnd():
                self.error(op.span, "probes cannot be registered from a probe body")
            case ops.CallBuiltin(name=name) if (why := _not_in_kernel(name)) is not None:
                self.error(op.span, *why)
            case ops.LoadBuiltin(name=name):
                self.error(op.span, f"'{name}' cannot be used as a value in a probe body")
            case ops.Call(callee=callee) if not isinstance(strip_opt(callee.type), FuncT):
                self.error(op.span, "a probe body can only call functions known at compile time",
                           ("call a function defined with 'function name() {}'",))
                return
        if (misuse := _argstr_misuse(op)) is not None:
            self.error(op.span, misuse, ARGSTR_HINT)

    @staticmethod
    def registers_of(op: ops.Op) -> list[ops.Register]:
        return [v for v in vars(op).values() if isinstance(v, ops.Register)]

    def check_type(self, reg: ops.Register, span: Span) -> None:
        t = reg.type.inner if isinstance(reg.type, ops.CellT) else reg.type
        if is_concrete(t) and not self.bad_table(t):
            return
        conflict = self.solution.conflict_of(reg)
        key = id(conflict) if conflict is not None else id(reg)
        if key in self.reported:
            return
        self.reported.add(key)
        # Variables' registers are named `name.N`; the rest are temporaries.
        name = f"'{reg.name.split('.')[0]}'" if "." in reg.name else "this value"
        if conflict is not None:
            self.report_conflict(name, span, conflict)
        else:
            self.error(span, f"{name} has no single type that a probe can use",
                       ("a value used in a probe body needs one type",))

    @staticmethod
    def bad_table(t: Type) -> bool:
        t = strip_opt(t)
        return isinstance(t, TableT) and (
            t.site < 0 or isinstance(strip_opt(t.key), NilT | AnyT)
            or isinstance(strip_opt(t.value), NilT | AnyT)
        )

    def report_conflict(self, name: str, span: Span, conflict: Conflict) -> None:
        (first_span, first_type), (second_span, second_type) = conflict.first, conflict.second
        self.sink.error(
            second_span,
            f"type conflict: {name} is used in a probe body, where it needs one type, "
            f"but it is {_describe(first_type)} here and {_describe(second_type)} there",
            notes=((first_span, f"it is {_describe(first_type)} here"),
                   (span, "used in the probe here")),
        )


def _describe(t: Type) -> str:
    t = strip_opt(t)
    match t:
        case TableT():
            return "a table"
        case FuncT():
            return "a function"
        case StackT(user=user):
            return "a user stack" if user else "a kernel stack"
        case OptT():
            return _describe(t.inner)
    return {"int": "a number", "str": "a string", "bool": "a boolean", "nil": "nil"}.get(
        str(t), str(t))


def _recursion(module: ops.Module, kernel: list[str], sink: DiagnosticSink) -> None:
    calls: dict[str, list[tuple[str, Span]]] = {name: [] for name in kernel}
    for name in kernel:
        calls[name] = [(callee, op.span) for callee, op in static_calls(module.functions[name])]

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for callee, _ in calls.get(start, []):
            if callee == target:
                return True
            if callee not in seen and reaches(callee, target, seen | {callee}):
                return True
        return False

    for name in kernel:
        for callee, span in calls[name]:
            if callee == name or reaches(callee, name, {callee}):
                sink.error(span, "recursion is not possible in a probe body",
                           hints=("BPF programs cannot recurse; write a loop",))
                return


def _tick_context(module: ops.Module, sink: DiagnosticSink) -> None:
    for probe in module.probes:
        if probe.kind.runs_in_kernel:
            continue
        for block in module.functions[probe.function].blocks:
            for op in block.ops:
                if isinstance(op, ops.Context) and builtins.BY_NAME[op.name].event_only:
                    sink.error(op.span, f"'{op.name}' is not available in a tick body",
                               hints=(NO_EVENT_HINT,))
                if isinstance(op, ops.CallBuiltin) and builtins.BY_NAME[op.name].event_only:
                    sink.error(op.span, f"'{op.name}()' is not available in a tick body",
                               hints=(TICK_HINTS.get(op.name, NO_EVENT_HINT),))


def _top_level_cells(module: ops.Module, kernel: list[str], sink: DiagnosticSink) -> None:
    """Kernel code may only capture top-level variables: those become BPF globals."""
    main_cells = {op.dest.name for block in module.functions[module.main].blocks
                  for op in block.ops if isinstance(op, ops.MakeCell)}
    for name in kernel:
        function = module.functions[name]
        for cell in function.free_cells:
            if cell.name not in main_cells:
                sink.error(function.span, "a probe body can only use top-level variables",
                           hints=(f"'{cell.name.split('.')[0]}' is local to a function",))


def check_module(module: ops.Module, solution: Solution, sink: DiagnosticSink) -> None:
    kernel = kernel_functions(module)
    checker = _KernelChecker(module, solution, sink)
    for name in kernel:
        checker.check_structure(module.functions[name])
    if sink.has_errors:
        return  # type errors would only repeat the structural ones
    for name in kernel:
        checker.check_types(module.functions[name])
    _recursion(module, kernel, sink)
    _tick_context(module, sink)
    _top_level_cells(module, kernel, sink)
