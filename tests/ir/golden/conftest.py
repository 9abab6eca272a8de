"""Golden IR, collected next to its data: each tests/ir/golden/NAME.kp gives two items,
`NAME.kp::NAME.ir` (the program compiles to exactly the text of NAME.ir, as printed by
`ir.printer.print_module`) and `NAME.kp::deterministic` (compiling it twice prints the same).

Regenerate the .ir files with `KLLVM_UPDATE_GOLDEN=1 pytest tests/ir/golden` and review the diff.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from frontend.diagnostics import Source
from ir.printer import print_module
from kllvm.driver import compile_source

if TYPE_CHECKING:  # pytest exports neither name
    from _pytest._code.code import TerminalRepr, TracebackStyle

UPDATE = os.environ.get("KLLVM_UPDATE_GOLDEN") == "1"


class GoldenMismatch(AssertionError):
    """The compiled IR is not the expected text (the message holds the diff)."""


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> GoldenProgram | None:
    if file_path.suffix == ".kp":
        return GoldenProgram.from_parent(parent, path=file_path)
    return None


def compiled_ir(program: Path) -> str:
    return print_module(compile_source(Source(program.name, program.read_text())).module)


def _diff(expected: str, actual: str, expected_name: str) -> str:
    return "".join(difflib.unified_diff(expected.splitlines(keepends=True),
                                        actual.splitlines(keepends=True),
                                        expected_name, "compiled"))


class GoldenProgram(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        yield MatchesGolden.from_parent(self, name=self.path.with_suffix(".ir").name)
        yield Deterministic.from_parent(self, name="deterministic")


class GoldenItem(pytest.Item):
    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.name}: {self.name}"

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, GoldenMismatch):
            return f"{self.location[0]}: {excinfo.value}"
        return super().repr_failure(excinfo, style=style)


class MatchesGolden(GoldenItem):
    def runtest(self) -> None:
        text = compiled_ir(self.path)
        expected_file = self.path.with_suffix(".ir")
        if UPDATE:
            expected_file.write_text(text)
        if not expected_file.exists():
            raise GoldenMismatch(f"{expected_file.name} missing: run with KLLVM_UPDATE_GOLDEN=1")
        expected = expected_file.read_text()
        if text != expected:
            raise GoldenMismatch(f"the IR differs from {expected_file.name} "
                                 f"(KLLVM_UPDATE_GOLDEN=1 regenerates it):\n"
                                 + _diff(expected, text, expected_file.name))


class Deterministic(GoldenItem):
    def runtest(self) -> None:
        first, second = compiled_ir(self.path), compiled_ir(self.path)
        if first != second:
            raise GoldenMismatch("two compilations print different IR:\n"
                                 + _diff(first, second, "first compilation"))
