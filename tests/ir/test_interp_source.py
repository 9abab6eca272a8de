"""The interpreter's generated Python holds no text from the IR: names, labels, messages
and byte strings reach it through the constants table, so IR that an artifact crafted
cannot become code even if it got past the artifact checks."""

from __future__ import annotations

from pathlib import Path

import pytest
from ir_testkit import Prog

from ir import ops
from ir.interp import Interpreter, RuntimeEnv
from ir.values import KtapRuntimeError


def payload(marker: Path) -> str:
    """Text that runs `touch marker` wherever it is pasted into Python source: after a
    newline it is a statement of its own, and the quotes close any string literal."""
    return f"x'\"\n__import__('os').system('touch {marker}')\n#"


def sources(interpreter: Interpreter) -> str:
    return "\n".join(interpreter.sources.values())


def test_labels_names_and_messages_stay_out_of_the_source(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    evil = payload(marker)
    prog = Prog()
    helper = prog.fn("helper")
    helper.ret(helper.context("pid"))
    main = prog.fn("main")
    cell = main.make_cell(1, global_name=evil)
    main.builtin("print", main.load_cell(cell), evil)
    main.call(main.closure("helper"))
    then, after = main.if_(main.compare("==", main.move(evil), evil))
    main.at(then)
    main.fail(evil)
    main.at(after)
    main.ret(bare=True)
    module = prog.module
    for function in module.functions.values():
        for block in function.blocks:
            block.label = evil
    # Rename `helper` everywhere the IR names it, as a crafted artifact could.
    module.functions[evil] = module.functions.pop("helper")
    module.functions[evil].name = evil
    for block in module.functions["main"].blocks:
        for op in block.ops:
            if isinstance(op, ops.MakeClosure):
                op.function = evil
    out = Path(tmp_path / "out")
    with out.open("wb") as stream:
        interpreter = Interpreter(module, RuntimeEnv(out=stream))
        assert "touch" not in sources(interpreter)
        with pytest.raises(KtapRuntimeError) as failure:
            interpreter.run_main()
    assert failure.value.message == evil  # the text is data, used as it was
    assert evil.encode() in out.read_bytes()
    assert not marker.exists()


def negate_module() -> tuple[Prog, ops.Negate]:
    prog = Prog()
    main = prog.fn("main")
    main.negate(1)
    main.ret(bare=True)
    op = main.function.entry.ops[0]
    assert isinstance(op, ops.Negate)
    return prog, op


@pytest.mark.parametrize("bad", [True, "0]; x = (1", 1.5, 1 << 70, -1, 1])
def test_error_indices_are_checked_ints(bad: object) -> None:
    prog, op = negate_module()
    op.error = bad  # type: ignore[assignment]
    with pytest.raises(ValueError, match="bad integer"):
        Interpreter(prog.module)


@pytest.mark.parametrize("bad", ["1); x = (1", 1.5, 1 << 70, -(1 << 63) - 1, [1]])
def test_constants_are_checked(bad: object) -> None:
    prog, op = negate_module()
    op.operand = ops.Const(bad, op.operand.type)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="bad (integer|constant)"):
        Interpreter(prog.module)
