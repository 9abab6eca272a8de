"""`kllvm run --interp`: the script is compiled to typed IR only, and a generic program is
compiled for its probes: each sends its probe's id and the event variables the body reads
as one record, and the interpreter runs the body in user space (backend/guest.py).
Imports the compiler: cli.py imports this module only for --interp.
"""

from __future__ import annotations

from backend.guest import GuestScript
from frontend.diagnostics import CompileError, Diagnostic, Source
from frontend.eventdef import TracepointSpec
from frontend.tapsetpath import SearchPath
from ir import ops
from ir.printer import eventdef_text
from kllvm.driver import Build, compile_script, compile_typed

UNSUPPORTED = ("is not supported on the interpreter path yet (--interp runs tracepoint and "
               "syscall probes; run it without --interp)")


def event_names(module: ops.Module, function: str) -> tuple[str, ...]:
    """The event variables a probe body reads: its own and those of every function
    whose closure it makes, transitively (their order is the record's)."""
    names: list[str] = []
    seen: set[str] = set()
    todo = [function]
    while todo:
        name = todo.pop()
        if name in seen or name not in module.functions:
            continue
        seen.add(name)
        for block in module.functions[name].blocks:
            for op in block.ops:
                if isinstance(op, ops.Context) and op.name not in names:
                    names.append(op.name)
                elif isinstance(op, ops.MakeClosure):
                    todo.append(op.function)
    return tuple(names)


def _callable_functions(module: ops.Module) -> list[str]:
    """Functions a body may call by a global name rather than a closure it makes."""
    return [name for name in module.functions if name != module.main]


def generic_source(source: Source, module: ops.Module) -> tuple[Source, dict[int, tuple[str, ...]]]:
    """The generic program's script: one probe per probe of the script, on its events."""
    lines: list[str] = []
    names: dict[int, tuple[str, ...]] = {}
    errors: list[Diagnostic] = []
    every = event_names(module, module.main) + tuple(
        n for f in _callable_functions(module) for n in event_names(module, f))
    for decl in module.probes:
        if decl.kind is ops.ProbeKind.TICK:
            continue
        eventdef = decl.eventdef
        if (decl.kind is not ops.ProbeKind.TRACE or eventdef is None
                or not all(isinstance(s, TracepointSpec) for s in eventdef.specs)):
            errors.append(Diagnostic(decl.span, f"this {decl.kind.value} probe {UNSUPPORTED}"))
            continue
        own = event_names(module, decl.function)
        # A function called through a global may read more: send what any function reads
        # (argN only when the body itself reads it: other events may lack it).
        extra = tuple(n for n in every if n not in own and not n.startswith("arg"))
        names[decl.id] = own + tuple(dict.fromkeys(extra))
        values = ", ".join([str(decl.id), *names[decl.id]])
        lines.append(f"trace {eventdef_text(eventdef)} {{ print({values}) }}")
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
