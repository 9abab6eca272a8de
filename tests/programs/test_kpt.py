"""The .kpt format (tests/programs/kpt.py) and its collector (tests/programs/conftest.py):
every case written in a .kpt file becomes exactly one test item."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.programs.kpt import CASE_MARK, PROGRAMS, all_cases, kpt_files, parse_kpt

ROOT = PROGRAMS.parents[1]


def test_enough_cases() -> None:
    assert len(all_cases()) >= 60


def test_every_case_is_collected() -> None:
    # Counted from the raw text, not through the parser, so that a case the parser or the
    # collector drops shows up here.
    written = {path.name: sum(line.startswith(CASE_MARK) for line in path.read_text().split("\n"))
               for path in kpt_files()}
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         str(PROGRAMS.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    collected: dict[str, int] = {}
    for node in re.findall(r"^tests/programs/([^/:]+\.kpt)::", listing, re.MULTILINE):
        collected[node] = collected.get(node, 0) + 1
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
