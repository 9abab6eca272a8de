"""Builds IR by hand for the interpreter, printer and verifier tests (and the benchmark).

Each failing op gets its own error site on its own line (the `line` counter), so a test
can tell which op an error came from by its span.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from frontend.diagnostics import Span
from frontend.types import ANY, INT, Type
from ir import ops
from ir.builder import FunctionBuilder
from ir.interp import Interpreter, RuntimeEnv
from ir.values import Closure


def const(value: int | bool | bytes | str | None) -> ops.Const:
    if isinstance(value, str):
        value = value.encode()
    return ops.Const(value, INT if type(value) is int else ANY)


Operand = ops.Value | int | bool | bytes | str | None


def value(v: Operand) -> ops.Value:
    return v if isinstance(v, ops.Register | ops.Const) else const(v)


@dataclass
class Fn:
    """A FunctionBuilder with one method per op; operands may be plain Python values."""

    prog: Prog
    function: ops.Function
    b: FunctionBuilder = field(init=False)

    def __post_init__(self) -> None:
        self.b = FunctionBuilder(self.function)

    @property
    def params(self) -> list[ops.Register]:
        return self.function.params

    @property
    def cells(self) -> list[ops.Register]:
        return self.function.free_cells

    def reg(self, type_: Type = ANY) -> ops.Register:
        return self.b.register(type_)

    def err(self, message: str = "error") -> int:
        return self.prog.error(message)

    def emit(self, op: ops.Op) -> None:
        self.b.emit(op)

    def span(self) -> Span:
        return Span(1, 1, 1, 2)

    # -- ops returning a register

    def move(self, src: Operand, dest: ops.Register | None = None) -> ops.Register:
        dest = dest or self.reg()
        self.emit(ops.Move(self.span(), dest, value(src)))
        return dest

    def arith(
        self, op: str, a: Operand, b: Operand, dest: ops.Register | None = None
    ) -> ops.Register:
        dest = dest or self.reg()
        self.emit(ops.Arith(self.span(), dest, op, value(a), value(b), self.err(op)))
        return dest

    def compare(self, op: str, a: Operand, b: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.Compare(self.span(), dest, op, value(a), value(b), self.err(op)))
        return dest

    def not_(self, a: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.Not(self.span(), dest, value(a)))
        return dest

    def negate(self, a: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.Negate(self.span(), dest, value(a), self.err("negate")))
        return dest

    def concat(self, a: Operand, b: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.Concat(self.span(), dest, value(a), value(b), self.err("concat")))
        return dest

    def make_cell(self, initial: Operand, global_name: str | None = None) -> ops.Register:
        dest = self.reg(ops.CellT(ANY))
        self.emit(ops.MakeCell(self.span(), dest, value(initial), global_name))
        return dest

    def load_cell(self, cell: ops.Register) -> ops.Register:
        dest = self.reg()
        self.emit(ops.LoadCell(self.span(), dest, cell))
        return dest

    def new_table(
        self, narr: Operand = None, nrec: Operand = None, name: str = "t"
    ) -> ops.Register:
        site = len(self.prog.module.tables)
        self.prog.module.tables.append(ops.TableDecl(site, self.span(), name, ANY, ANY, False))
        dest = self.reg()
        sizes = [None if v is None else value(v) for v in (narr, nrec)]
        self.emit(ops.NewTable(self.span(), dest, site, *sizes, self.err("table.new")))
        return dest

    def get(self, table: Operand, key: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.TableGet(self.span(), dest, value(table), value(key), self.err("get")))
        return dest

    def pairs_iter(self, table: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(ops.PairsIter(self.span(), dest, value(table), self.err("pairs")))
        return dest

    def pairs_next(self, iterator: ops.Register) -> tuple[ops.Register, ops.Register]:
        key, val = self.reg(), self.reg()
        self.emit(ops.PairsNext(self.span(), key, val, iterator))
        return key, val

    def call(self, callee: Operand, *args: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(
            ops.Call(self.span(), dest, value(callee), [value(a) for a in args], self.err("call"))
        )
        return dest

    def builtin(self, name: str, *args: Operand) -> ops.Register:
        dest = self.reg()
        self.emit(
            ops.CallBuiltin(self.span(), dest, name, [value(a) for a in args], self.err(name))
        )
        return dest

    def load_builtin(self, name: str) -> ops.Register:
        dest = self.reg()
        self.emit(ops.LoadBuiltin(self.span(), dest, name))
        return dest

    def context(self, name: str) -> ops.Register:
        dest = self.reg()
        self.emit(ops.Context(self.span(), dest, name, self.err("invalid event context")))
        return dest

    def closure(self, name: str, *cells: ops.Register) -> ops.Register:
        dest = self.reg()
        self.emit(ops.MakeClosure(self.span(), dest, name, list(cells)))
        return dest

    # -- ops without a result

    def store_cell(self, cell: ops.Register, v: Operand) -> None:
        self.emit(ops.StoreCell(self.span(), cell, value(v)))

    def add_cell(self, cell: ops.Register, delta: Operand) -> None:
        self.emit(ops.AddCell(self.span(), cell, value(delta), self.err("+=")))

    def set(self, table: Operand, key: Operand, v: Operand) -> None:
        self.emit(ops.TableSet(self.span(), value(table), value(key), value(v), self.err("set")))

    def add(self, table: Operand, key: Operand, delta: Operand) -> None:
        self.emit(ops.TableAdd(self.span(), value(table), value(key), value(delta), self.err("+=")))

    def check_number(self, v: Operand) -> None:
        self.emit(ops.CheckNumber(self.span(), value(v), self.err("for")))

    def loop_tick(self) -> None:
        self.emit(ops.LoopTick(self.span(), self.err("loop")))

    # -- control flow

    def block(self, hint: str = "bb") -> ops.BasicBlock:
        return self.b.new_block(hint)

    def at(self, block: ops.BasicBlock) -> None:
        self.b.position_at(block)

    def jump(self, target: ops.BasicBlock) -> None:
        self.b.terminate(ops.Jump(self.span(), target))

    def branch(self, cond: Operand, if_true: ops.BasicBlock, if_false: ops.BasicBlock) -> None:
        self.b.terminate(ops.Branch(self.span(), value(cond), if_true, if_false))

    def ret(self, v: Operand = None, *, bare: bool = False) -> None:
        self.b.terminate(ops.Return(self.span(), None if bare else value(v)))

    def fail(self, message: str) -> None:
        self.b.terminate(ops.Fail(self.span(), self.err(message)))

    def if_(self, cond: Operand) -> tuple[ops.BasicBlock, ops.BasicBlock]:
        """Branches on cond; positions at the true block; returns (true, false) blocks."""
        then, other = self.block("then"), self.block("else")
        self.branch(cond, then, other)
        self.at(then)
        return then, other


@dataclass
class Prog:
    """A module under construction. Error site N is on line N + 1 of the script."""

    module: ops.Module = field(default_factory=lambda: ops.Module(main="main"))

    def error(self, message: str) -> int:
        line = len(self.module.errors) + 1
        return self.module.error_site(Span(line, 3, line, 9), message)

    @property
    def last_site(self) -> ops.ErrorSite:
        """The error site of the op emitted last."""
        return self.module.errors[-1]

    def fn(self, name: str, params: int = 0, cells: int = 0, vararg: bool = False) -> Fn:
        function = ops.Function(
            name,
            Span(1, 1, 1, 2),
            [ops.Register(f"p{i}", ANY) for i in range(params)],
            [ops.Register(f"c{i}", ops.CellT(ANY)) for i in range(cells)],
            is_vararg=vararg,
        )
        self.module.functions[name] = function
        return Fn(self, function)

    def interpreter(self, env: RuntimeEnv | None = None) -> Interpreter:
        if self.module.main not in self.module.functions:
            self.fn(self.module.main).ret(bare=True)
        return Interpreter(self.module, env if env is not None else make_env())

    def run(self, name: str, *args: object, env: RuntimeEnv | None = None) -> object:
        """Calls function `name` (without cells) as a fresh invocation."""
        return self.interpreter(env).call(Closure(name, ()), list(args))


def make_env(**kwargs: object) -> RuntimeEnv:
    return RuntimeEnv(out=io.BytesIO(), **kwargs)  # type: ignore[arg-type]


def output(env: RuntimeEnv) -> bytes:
    assert isinstance(env.out, io.BytesIO)
    return env.out.getvalue()


def every_op_module() -> ops.Module:
    """A small, sound module that uses every op and terminator, a probe, a global and a
    table: the printer's golden text and the verifier's clean case."""
    from frontend.eventdef import EventDef, FilterCompare, TracepointSpec

    prog = Prog()
    span = Span(2, 5, 2, 9)
    module = prog.module
    module.globals.append(ops.GlobalDecl("count", span, INT, written_by_kernel=True))
    module.probes.append(
        ops.ProbeDecl(
            0,
            ops.ProbeKind.TRACE,
            span,
            "probe",
            EventDef(
                (TracepointSpec("syscalls", "sys_enter_*", span),),
                FilterCompare("pid", "==", 42, span),
                span,
            ),
            None,
        )
    )
    module.probes.append(ops.ProbeDecl(1, ops.ProbeKind.TICK, span, "probe", None, 1_000_000_000))

    probe = prog.fn("probe", cells=2)
    probe.function.placement = ops.Placement.KERNEL
    counts, count = probe.cells
    name = probe.context("probename")
    probe.add(probe.load_cell(counts), name, 1)
    probe.add_cell(count, 1)
    probe.ret(bare=True)

    helper = prog.fn("helper", params=2, vararg=True)
    helper.check_number(helper.params[0])
    helper.ret(helper.concat(helper.params[1], "!"))

    main = prog.fn("main")
    table = main.new_table(0, 100, name="counts")
    counts_cell = main.make_cell(table)
    count_cell = main.make_cell(0, "count")
    closure = main.closure("probe", counts_cell, count_cell)
    main.emit(ops.RegisterProbe(span, 0, closure))
    main.emit(ops.RegisterProbe(span, 1, closure))
    main.emit(ops.RegisterTraceEnd(span, main.closure("helper")))
    total = main.arith("*", main.negate(main.load_cell(count_cell)), 2)
    main.store_cell(count_cell, total)
    main.set(table, "k", main.not_(main.compare("==", total, None)))
    words = main.call(main.closure("helper"), 1, "hi")
    main.builtin("print", main.move(words), main.get(table, "k"))
    main.call(main.load_builtin("print"), "done")
    iterator = main.pairs_iter(table)
    head, body, done = main.block("head"), main.block("body"), main.block("done")
    main.jump(head)
    main.at(head)
    main.loop_tick()
    key, _ = main.pairs_next(iterator)
    main.branch(key, body, done)
    main.at(body)
    main.jump(head)
    main.at(done)
    main.fail("'for' init/limit/step value must be a number")
    return module
