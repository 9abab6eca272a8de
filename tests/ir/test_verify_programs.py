"""The IR of every sample and of every .kpt case that compiles passes `verify_module`.
The check runs the compiler's phases itself, without the driver's own verify gate, so that a
verifier problem is reported as such rather than as an InternalError.

(The golden IR texts are checked by tests/ir/golden/conftest.py, next to their files.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from frontend.diagnostics import DiagnosticSink, Source
from frontend.parser import parse
from frontend.scope import resolve
from ir import ops
from ir.checks import check_module
from ir.infer import apply, infer
from ir.lower_ast import lower
from ir.placement import place
from ir.verify import verify_module
from tests.programs.kpt import Case, all_cases

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


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
    for case in all_cases():
        params.append(_verify_param(case.id, case.source))
    return params


@pytest.mark.parametrize("text", _programs())
def test_ir_verifies(text: str) -> None:
    module = lower_unverified(Source("program.kp", text))
    if module is None:
        return  # a compile-error case: nothing to verify
    assert verify_module(module) == []
