"""Collects every case of every tests/programs/*.kpt file as a test item named after the
file and the case: `pytest tests/programs/basics.kpt` runs that file's cases, and
`pytest "tests/programs/basics.kpt::&& binds tighter than ||"` one of them. A failure
names the case and its file:line. The format is described in tests/programs/kpt.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.programs.kpt import Case, parse_kpt
from tests.programs.runner import CaseFailure, check_case

if TYPE_CHECKING:  # pytest exports neither name
    from _pytest._code.code import TerminalRepr, TracebackStyle


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> KptFile | None:
    if file_path.suffix == ".kpt":
        return KptFile.from_parent(parent, path=file_path)
    return None


class KptFile(pytest.File):
    def collect(self) -> Iterator[KptCase]:
        try:
            cases = parse_kpt(self.path)
        except ValueError as e:
            raise self.CollectError(str(e)) from e
        for case in cases:
            item = KptCase.from_parent(self, name=case.name, case=case)
            if case.xfail is not None:
                item.add_marker(pytest.mark.xfail(strict=True, reason=case.xfail))
            yield item


class KptCase(pytest.Item):
    def __init__(self, *, case: Case, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        check_case(self.case)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.case.line - 1, self.case.id

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, CaseFailure):
            return f"{self.location[0]}:{self.case.line}: case {self.case.name!r}\n{excinfo.value}"
        return super().repr_failure(excinfo, style=style)
