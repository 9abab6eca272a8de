"""`kllvm run --interp`: the script is compiled to typed IR only, and a generic program is
compiled for its probes: each sends its probe's id and the event variables the body reads
as one record, and the interpreter runs the body in user space (backend/guest.py).
Imports the compiler: cli.py imports this module only for --interp.
"""

from __future__ import annotations

from backend.guest import TIME, GuestScript
from frontend import builtins
from frontend.builtins import Runs
from frontend.diagnostics import CompileError, Diagnostic, Source
from frontend.eventdef import TracepointSpec
from frontend.tapsetpath import SearchPath
from ir import ops
from ir.printer import eventdef_text
from kllvm.driver import Build, compile_script, compile_typed

UNSUPPORTED = ("is not supported on the interpreter path yet (--interp runs tracepoint and "
               "syscall probes; run it without --interp)")


TIME_BUILTINS = frozenset({"gettimeofday_ns", "gettimeofday_us", "gettimeofday_ms",
                           "gettimeofday_s"})


def reachable(module: ops.Module, function: str) -> list[str]:
    """A function and every function whose closure it makes, transitively (a probe
    body makes none: this is for the functions it calls)."""
    found: list[str] = []
    todo = [function]
    while todo:
        name = todo.pop()
        if name in found or name not in module.functions:
            continue
        found.append(name)
        todo.extend(op.function for block in module.functions[name].blocks
                    for op in block.ops if isinstance(op, ops.MakeClosure))
    return found


def _ops(module: ops.Module, functions: list[str]) -> list[ops.Op]:
    return [op for name in functions for block in module.functions[name].blocks
            for op in block.ops]


def event_names(module: ops.Module, functions: list[str]) -> tuple[str, ...]:
    """The event variables these functions read, in the record's order; TIME when they
    read the clock, which must be the event's, not the time user space handles it."""
    names: list[str] = []
    for op in _ops(module, functions):
        if isinstance(op, ops.Context):
            names.append(op.name)
        elif isinstance(op, ops.CallBuiltin | ops.LoadBuiltin) and op.name in TIME_BUILTINS:
            names.append(TIME)
    return tuple(dict.fromkeys(names))


def _kernel_only(module: ops.Module, functions: list[str]) -> list[Diagnostic]:
    """Calls of built-ins only a BPF program has (stack(), kernel_string(), ...)."""
    return [Diagnostic(module.errors[op.error].span,
                       f"'{op.name}' needs the event's kernel context: it is not "
                       "supported on the interpreter path yet (run it without --interp)")
            for op in _ops(module, functions)
            if isinstance(op, ops.CallBuiltin) and op.name in builtins.BY_NAME
            and builtins.BY_NAME[op.name].runs in (Runs.KERNEL, Runs.NOT_YET)]


def generic_source(source: Source, module: ops.Module,
                   ) -> tuple[Source, dict[int, tuple[str, ...]]]:
    """The generic program's script: one probe per probe of the script, on its events."""
    lines: list[str] = []
    names: dict[int, tuple[str, ...]] = {}
    errors: list[Diagnostic] = []
    # A body calls the script's functions through globals: what any of them reads
    # is sent too (the other probes' bodies aside).
    bodies = {decl.function for decl in module.probes}
    others = [f for f in module.functions if f != module.main and f not in bodies]
    for decl in module.probes:
        if decl.kind is ops.ProbeKind.TICK:
            continue
        eventdef = decl.eventdef
        if (decl.kind is not ops.ProbeKind.TRACE or eventdef is None
                or not all(isinstance(s, TracepointSpec) for s in eventdef.specs)):
            errors.append(Diagnostic(decl.span, f"this {decl.kind.value} probe {UNSUPPORTED}"))
            continue
        body = reachable(module, decl.function)
        errors.extend(_kernel_only(module, body))
        own = event_names(module, body)
        # argN only from the body: another event may not have it.
        extra = tuple(n for n in event_names(module, others)
                      if n not in own and not n.startswith("arg"))
        names[decl.id] = own + extra
        values = [str(decl.id), *("gettimeofday_ns()" if n == TIME else n
                                  for n in names[decl.id])]
        lines.append(f"trace {eventdef_text(eventdef)} {{ print({', '.join(values)}) }}")
    if errors:
        raise CompileError.of(source, errors)
    return Source(f"{source.name} (generic program)", "\n".join(lines) + "\n"), names


def compile_interp(source: Source, strlen: int,
                   tapset_path: SearchPath | None) -> tuple[GuestScript, Build]:
    """The script's IR and the generic program that feeds it. Raises CompileError."""
    compilation, _events = compile_typed(source, tapset_path=tapset_path)
    generic, names = generic_source(compilation.source, compilation.module)
    build = compile_script(generic, strlen, tapset_path=tapset_path)
    return GuestScript(compilation.source, compilation.module, names), build
