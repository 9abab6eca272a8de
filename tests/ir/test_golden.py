"""Golden IR: tests/ir/golden/NAME.kp compiles to exactly tests/ir/golden/NAME.ir (the text of
`ir.printer.print_module`). Regenerate with `KLLVM_UPDATE_GOLDEN=1 pytest tests/ir/test_golden.py`
and review the diff.

Also: the IR of every sample and of every .kpt case that compiles passes `verify_module`.
The check runs the compiler's phases itself, without the driver's own verify gate, so that a
verifier problem is reported as such rather than as an InternalError.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_programs import CASES, Case

from frontend.diagnostics import DiagnosticSink, Source
from frontend.parser import parse
from frontend.scope import resolve
from ir import ops
from ir.checks import check_module
from ir.infer import apply, infer
from ir.lower_ast import lower
from ir.placement import place
from ir.printer import print_module
from ir.verify import verify_module
from kllvm.driver import compile_source

GOLDEN = Path(__file__).resolve().parent / "golden"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
UPDATE = os.environ.get("KLLVM_UPDATE_GOLDEN") == "1"

def golden_programs() -> list[Path]:
    return sorted(GOLDEN.glob("*.kp"))


@pytest.mark.parametrize("program", golden_programs(), ids=lambda p: p.stem)
def test_golden_ir(program: Path) -> None:
    compilation = compile_source(Source(program.name, program.read_text()))
    text = print_module(compilation.module)
    expected_file = program.with_suffix(".ir")
    if UPDATE:
        expected_file.write_text(text)
    assert expected_file.exists(), f"{expected_file} missing: run with KLLVM_UPDATE_GOLDEN=1"
    assert text == expected_file.read_text()


def test_golden_ir_is_deterministic() -> None:
    for program in golden_programs():
        source = Source(program.name, program.read_text())
        first = print_module(compile_source(source).module)
        assert print_module(compile_source(source).module) == first


def test_enough_golden_programs() -> None:
    assert len(golden_programs()) >= 6
    assert all(p.with_suffix(".ir").exists() for p in golden_programs())


def lower_unverified(source: Source) -> ops.Module | None:
    """The driver's phases up to placement; None when the program has compile errors."""
    sink = DiagnosticSink(source)
    chunk = parse(source, sink)
    if chunk is None or sink.has_errors:
        return None
    resolution = resolve(chunk, sink)
    if sink.has_errors:
        return None
    module = lower(chunk, resolution, sink)
    if sink.has_errors:
        return None
    solution = infer(module, lambda function, index: None)
    apply(module, solution)
    check_module(module, solution, sink)
    if sink.has_errors:
        return None
    place(module)
    return module


def _verify_param(name: str, text: str) -> object:
    return pytest.param(text, id=name)


def _programs() -> list[object]:
    params = [_verify_param(f"sample {p.name}", p.read_text())
              for p in sorted(SAMPLES.glob("*.kp"))]
    case: Case
    for case in CASES:
        params.append(_verify_param(case.id, case.source))
    return params


@pytest.mark.parametrize("text", _programs())
def test_ir_verifies(text: str) -> None:
    module = lower_unverified(Source("program.kp", text))
    if module is None:
        return  # a compile-error case: nothing to verify
    assert verify_module(module) == []
