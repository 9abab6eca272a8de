"""The .kpt format (tests/programs/kpt.py) and its collector (tests/programs/conftest.py):
every case written in a .kpt file becomes exactly one test item."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.collection import collected_ids
from tests.programs.kpt import CASE_MARK, PROGRAMS, all_cases, kpt_files, parse_kpt


def test_enough_cases() -> None:
    assert len(all_cases()) >= 60


def test_every_case_is_collected() -> None:
    # Counted from the raw text, not through the parser, so that a case the parser or the
    # collector drops shows up here.
    written = {path.name: sum(line.startswith(CASE_MARK) for line in path.read_text().split("\n"))
               for path in kpt_files()}
    collected = Counter(Path(node.split("::")[0]).name for node in collected_ids(PROGRAMS)
                        if node.split("::")[0].endswith(".kpt"))
    assert collected == written
    assert sum(written.values()) == len(all_cases())


def test_format_rejects_unknown_sections(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kpt"
    bad.write_text("=== x\n--- source\nprint(1)\n--- stdot\n1\n")
    with pytest.raises(ValueError, match=r"bad\.kpt:4: unknown section"):
        parse_kpt(bad)


def test_format_rejects_a_case_without_source(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kpt"
    bad.write_text("=== x\n--- stdout\n1\n")
    with pytest.raises(ValueError, match=r"bad\.kpt:1: case 'x' has no source"):
        parse_kpt(bad)


def test_format_rejects_duplicate_names(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kpt"
    bad.write_text("=== x\n--- source\n1\n=== x\n--- source\n2\n")
    with pytest.raises(ValueError, match=r"bad\.kpt:4: case 'x' already defined at line 1"):
        parse_kpt(bad)


def test_format_sections(tmp_path: Path) -> None:
    kpt = tmp_path / "f.kpt"
    kpt.write_text("header\n=== a\n--- source\nprint()\n--- stdout\nx\n<blank>\n\n"
                   "--- stderr escaped\n\\x1b[\n0m\n=== b\n--- source\n1\n--- exit\n2\n")
    a, b = parse_kpt(kpt)
    assert a.expected("stdout") == b"x\n\n"
    assert a.expected("stderr") == b"\x1b[0m"
    assert a.expected("stdout-re") is None
    assert (a.exit, b.exit, b.source) == (0, 2, "1\n")
    assert (a.line, b.line) == (2, 12)
