"""A stable, readable text form of an IR module: the surface of the golden tests.

Layout: the module's tables, globals, probes and error sites, then each function with
its parameters, free cells, placement and blocks. One op per line, e.g.

    %r3 = arith + %r1, 1 :any  [err 2]

A defined register is followed by its type (`:type`); an op that can fail ends with the
id of its error site. Everything comes out in the module's own order, so the text only
changes when the IR does.
"""

from __future__ import annotations

import json

from frontend.diagnostics import Span
from frontend.eventdef import (
    EventDef,
    FetchArg,
    Filter,
    FilterAnd,
    FilterCompare,
    FilterOr,
    FtraceFunctionSpec,
    KprobeSpec,
    ProbeSpec,
    SdtSpec,
    TracepointSpec,
    UprobeSpec,
)
from ir import ops


def _span(span: Span) -> str:
    return f"@{span.line}:{span.col}"


def _typed(register: ops.Register) -> str:
    return f"{register} :{register.type}"


def _args(values: list[ops.Value]) -> str:
    return ", ".join(str(v) for v in values)


# ------------------------------------------------------------------ event definitions


def _fetchargs(args: tuple[FetchArg, ...]) -> str:
    return "".join(f" {a.name}={a.fetch}" if a.name else f" {a.fetch}" for a in args)


def probe_location(spec: KprobeSpec | UprobeSpec) -> str:
    """`probe:SYMBOL[%return]` or `probe:PATH:SYMBOL[%return]`, without the fetch args."""
    ret = "%return" if spec.is_return else ""
    if isinstance(spec, KprobeSpec):
        return f"probe:{spec.symbol_glob}{ret}"
    where = spec.symbol_or_offset
    return f"probe:{spec.path}:{hex(where) if isinstance(where, int) else where}{ret}"


def _spec(spec: ProbeSpec) -> str:
    match spec:
        case TracepointSpec(system_glob=system, event_glob=event):
            return f"{system}:{event}"
        case KprobeSpec() | UprobeSpec():
            return probe_location(spec) + _fetchargs(spec.fetchargs)
        case SdtSpec(path=path, name=name):
            return f"sdt:{path}:{name}"
        case FtraceFunctionSpec():
            return "ftrace:function"
    raise TypeError(f"unknown probe spec {spec!r}")


def _filter(node: Filter) -> str:
    match node:
        case FilterCompare(field=name, op=op, value=value):
            return f"{name} {op} {value if isinstance(value, int) else repr(value)}"
        case FilterAnd(left=left, right=right):
            return f"({_filter(left)} && {_filter(right)})"
        case FilterOr(left=left, right=right):
            return f"({_filter(left)} || {_filter(right)})"
    raise TypeError(f"unknown filter {node!r}")


def eventdef_text(eventdef: EventDef) -> str:
    """An eventdef as ktap source (the interpreter path recompiles it, kllvm/interprun.py)."""
    text = ", ".join(_spec(s) for s in eventdef.specs)
    return text if eventdef.filter is None else f"{text} /{_filter(eventdef.filter)}/"


# ------------------------------------------------------------------ ops


def _size(value: ops.Value | None) -> str:
    return "nil" if value is None else str(value)


def _op_text(op: ops.Op) -> str:
    """The op without its error suffix."""
    match op:
        case ops.Move(dest=d, src=s):
            return f"{d} = move {s} :{d.type}"
        case ops.Arith(dest=d, op=o, left=a, right=b):
            return f"{d} = arith {o} {a}, {b} :{d.type}"
        case ops.Compare(dest=d, op=o, left=a, right=b):
            return f"{d} = compare {o} {a}, {b} :{d.type}"
        case ops.Not(dest=d, operand=a):
            return f"{d} = not {a} :{d.type}"
        case ops.Negate(dest=d, operand=a):
            return f"{d} = negate {a} :{d.type}"
        case ops.Concat(dest=d, left=a, right=b):
            return f"{d} = concat {a}, {b} :{d.type}"
        case ops.MakeCell(dest=d, initial=v, global_name=g):
            where = f" global {g}" if g is not None else ""
            return f"{d} = make_cell {v}{where} :{d.type}"
        case ops.LoadCell(dest=d, cell=c):
            return f"{d} = load_cell {c} :{d.type}"
        case ops.StoreCell(cell=c, value=v):
            return f"store_cell {c}, {v}"
        case ops.AddCell(cell=c, delta=v):
            return f"add_cell {c}, {v}"
        case ops.NewTable(dest=d, site=site, narr=narr, nrec=nrec):
            sizes = "" if narr is None and nrec is None else f" ({_size(narr)}, {_size(nrec)})"
            return f"{d} = new_table #{site}{sizes} :{d.type}"
        case ops.TableGet(dest=d, table=t, key=k):
            return f"{d} = table_get {t}[{k}] :{d.type}"
        case ops.TableSet(table=t, key=k, value=v):
            return f"table_set {t}[{k}] = {v}"
        case ops.TableAdd(table=t, key=k, delta=v):
            return f"table_add {t}[{k}] += {v}"
        case ops.PairsIter(dest=d, table=t):
            return f"{d} = pairs_iter {t} :{d.type}"
        case ops.PairsNext(key=k, value=v, iterator=i):
            return f"{k}, {v} = pairs_next {i} :{k.type}, {v.type}"
        case ops.CheckNumber(value=v):
            return f"check_number {v}"
        case ops.Call(dest=d, callee=f, args=args):
            return f"{d} = call {f}({_args(args)}) :{d.type}"
        case ops.CallBuiltin(dest=d, name=name, args=args):
            return f"{d} = call_builtin {name}({_args(args)}) :{d.type}"
        case ops.LoadBuiltin(dest=d, name=name):
            return f"{d} = load_builtin {name} :{d.type}"
        case ops.Context(dest=d, name=name):
            return f"{d} = context {name} :{d.type}"
        case ops.MakeClosure(dest=d, function=f, cells=cells):
            return f"{d} = make_closure {f} [{_args(list(cells))}] :{d.type}"
        case ops.LoopTick():
            return "loop_tick"
        case ops.RegisterProbe(probe=p, closure=c):
            return f"register_probe #{p}, {c}"
        case ops.RegisterTraceEnd(closure=c):
            return f"register_trace_end {c}"
        case ops.Jump(target=t):
            return f"jump {t.label}"
        case ops.Branch(cond=c, if_true=t, if_false=f):
            return f"branch {c}, {t.label}, {f.label}"
        case ops.Return(value=v):
            return "return" if v is None else f"return {v}"
        case ops.Fail():
            return "fail"
    raise TypeError(f"unknown op {type(op).__name__}")


def format_op(op: ops.Op) -> str:
    error = getattr(op, "error", None)
    text = _op_text(op)
    return text if error is None else f"{text}  [err {error}]"


# ------------------------------------------------------------------ structure


def format_function(function: ops.Function) -> str:
    params = ", ".join(_typed(p) for p in function.params)
    if function.is_vararg:
        params = f"{params}, ..." if params else "..."
    lines = [
        f"function {function.name}({params}) {function.placement.value} {_span(function.span)}"
    ]
    if function.free_cells:
        lines.append("  free " + ", ".join(_typed(c) for c in function.free_cells))
    for block in function.blocks:
        lines.append(f"  {block.label}:")
        lines.extend(f"    {format_op(op)}" for op in block.ops)
    return "\n".join(lines) + "\n"


def _table(decl: ops.TableDecl) -> str:
    flags = "".join(
        f" {flag}" for flag, on in (("kernel", decl.kernel), ("only_added", decl.only_added)) if on
    )
    return f"  table #{decl.site} {decl.name} [{decl.key}]{decl.value}{flags} {_span(decl.span)}"


def _global(decl: ops.GlobalDecl) -> str:
    written = " written_by_kernel" if decl.written_by_kernel else ""
    return f"  global {decl.name} :{decl.type}{written} {_span(decl.span)}"


def _probe(decl: ops.ProbeDecl) -> str:
    what = str(decl.kind)
    if decl.eventdef is not None:
        what += f" {eventdef_text(decl.eventdef)}"
    if decl.interval_ns is not None:
        what += f" every {decl.interval_ns}ns"
    return f"  probe #{decl.id} {what} -> {decl.function} {_span(decl.span)}"


def _error(site: ops.ErrorSite) -> str:
    return f"  err {site.id} {_span(site.span)} {json.dumps(site.message)}"


def print_module(module: ops.Module) -> str:
    sections = [f"module main={module.main}\n"]
    for title, lines in (
        ("tables", [_table(t) for t in module.tables]),
        ("globals", [_global(g) for g in module.globals]),
        ("probes", [_probe(p) for p in module.probes]),
        ("errors", [_error(e) for e in module.errors]),
    ):
        if lines:
            sections.append(f"{title}:\n" + "\n".join(lines) + "\n")
    sections.extend(format_function(f) for f in module.functions.values())
    return "\n".join(sections)
