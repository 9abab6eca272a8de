"""Whole-program tests: every case of tests/programs/*.kpt runs through the real CLI entry
point (`kllvm.cli.main`, in process) and its stdout, stderr and exit status are compared
exactly.

The .kpt format. A file holds several cases; lines before the first case are comments.

    === name of the case
    --- source
    var a = 1
    print(a / 0)
    --- stdout
    --- stderr
    (script):2:7: error: divide 0 arith operation
    print(a / 0)
          ^~~~~
    --- exit
    1

Sections (`--- NAME [escaped]`, each running to the next `---`/`===` line):

* `source` (required): the script, written to a temporary file and run with `kllvm run`;
  its path shows up as `(script)` in the output.
* `mode`: `-e` runs the source as `kllvm -e SOURCE` instead (arg[0] is `(command line)`).
* `args`: script arguments, split like a shell would (`shlex`).
* `stdout`, `stderr`: the exact expected bytes. A missing section means "must be empty".
  Lines are joined with newlines and end with one; trailing blank lines of a section are
  dropped, so write `<blank>` for an empty line that the output must end with. With the
  `escaped` suffix the lines are concatenated without newlines and Python escapes
  (`\\x1b`, `\\n`, `\\t`) are decoded.
* `stdout-re`, `stderr-re`: one regular expression per output line, each matching its
  whole line; the line counts must agree.
* `stderr-has`: each line is a regular expression that must be found somewhere in stderr
  (stderr is otherwise unchecked).
* `exit`: the expected exit status (default 0).
* `xfail`: a known compiler bug; the case is a strict xfail with this reason.
"""

from __future__ import annotations

import codecs
import io
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kllvm import cli

PROGRAMS = Path(__file__).resolve().parent.parent / "programs"
SCRIPT_NAME = "(script)"
SECTIONS = {
    "source", "mode", "args", "stdout", "stderr", "stdout-re", "stderr-re", "stderr-has",
    "exit", "xfail",
}  # fmt: skip


@dataclass
class Case:
    file: str
    name: str
    line: int
    sections: dict[str, str] = field(default_factory=dict)
    escaped: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}: {self.name}"

    @property
    def source(self) -> str:
        return self.sections["source"]

    @property
    def args(self) -> list[str]:
        return shlex.split(self.sections.get("args", ""))

    @property
    def exit(self) -> int:
        return int(self.sections.get("exit", "0").strip() or "0")

    @property
    def xfail(self) -> str | None:
        reason = self.sections.get("xfail")
        return reason.strip() if reason is not None else None

    def expected(self, name: str) -> bytes | None:
        text = self.sections.get(name)
        if text is None:
            return None
        if name in self.escaped:
            return codecs.escape_decode(text.replace("\n", "").encode())[0]
        return text.encode("utf-8", "surrogateescape")


def _section_text(lines: list[str]) -> str:
    while lines and lines[-1].strip() == "":
        lines.pop()
    lines = ["" if line == "<blank>" else line for line in lines]
    return "".join(line + "\n" for line in lines)


def parse_kpt(path: Path) -> list[Case]:
    cases: list[Case] = []
    case: Case | None = None
    current: str | None = None
    body: list[str] = []

    def close_section() -> None:
        if case is not None and current is not None:
            case.sections[current] = _section_text(body)

    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith("=== "):
            close_section()
            case = Case(path.name, line[4:].strip(), number)
            cases.append(case)
            current, body = None, []
        elif line.startswith("--- ") and case is not None:
            close_section()
            words = line[4:].split()
            if not words or words[0] not in SECTIONS or words[1:] not in ([], ["escaped"]):
                raise ValueError(f"{path}:{number}: unknown section {line!r}")
            current, body = words[0], []
            if words[1:] == ["escaped"]:
                case.escaped.add(current)
        elif current is not None:
            body.append(line)
    close_section()
    for c in cases:
        if "source" not in c.sections:
            raise ValueError(f"{path}:{c.line}: case {c.name!r} has no source")
    return cases


def all_cases() -> list[Case]:
    cases = [c for path in sorted(PROGRAMS.glob("*.kpt")) for c in parse_kpt(path)]
    names = [c.id for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"duplicate case names: {sorted(duplicates)}")
    return cases


CASES = all_cases()


def run_cli(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Runs `kllvm ARGV` in this process; returns (exit status, stdout, stderr)."""
    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape",
                                write_through=True)
    err_text = io.TextIOWrapper(err, encoding="utf-8", errors="surrogateescape",
                                write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out_text, err_text
    try:
        try:
            status = cli.main(argv)
        except SystemExit as e:  # argparse usage errors, unreadable files
            if isinstance(e.code, str):
                err_text.write(e.code + "\n")
                status = 1
            else:
                status = 0 if e.code is None else e.code
        out_text.flush()
        err_text.flush()
    finally:
        sys.stdout, sys.stderr = saved
    return status, out.getvalue(), err.getvalue()


def run_case(case: Case, tmp_path: Path) -> tuple[int, bytes, bytes]:
    if case.sections.get("mode", "").strip() == "-e":
        return run_cli(["-e", case.source.removesuffix("\n"), *case.args])
    script = tmp_path / "script.kp"
    script.write_text(case.source, encoding="utf-8")
    status, out, err = run_cli(["run", str(script), *case.args])
    path = str(script).encode()
    return status, out.replace(path, SCRIPT_NAME.encode()), err.replace(path,
                                                                         SCRIPT_NAME.encode())


def _match_lines(patterns: bytes, actual: bytes, what: str) -> None:
    expected_lines = patterns.decode().splitlines()
    actual_lines = actual.decode("utf-8", "replace").splitlines()
    assert len(actual_lines) == len(expected_lines), (
        f"{what}: {len(actual_lines)} lines, expected {len(expected_lines)}:\n"
        + actual.decode("utf-8", "replace"))
    for pattern, line in zip(expected_lines, actual_lines, strict=True):
        assert re.fullmatch(pattern, line), f"{what}: {line!r} does not match {pattern!r}"


def check_output(case: Case, actual: bytes, stream: str) -> None:
    if (patterns := case.expected(f"{stream}-re")) is not None:
        _match_lines(patterns, actual, stream)
    elif stream == "stderr" and (needles := case.expected("stderr-has")) is not None:
        for needle in needles.decode().splitlines():
            assert re.search(needle, actual.decode("utf-8", "replace"), re.MULTILINE), (
                f"stderr lacks {needle!r}:\n{actual.decode('utf-8', 'replace')}")
    else:
        expected = case.expected(stream) or b""
        assert actual == expected, f"{stream} differs"


def _param(case: Case) -> object:
    marks = []
    if case.xfail is not None:
        marks.append(pytest.mark.xfail(strict=True, reason=case.xfail))
    return pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_program(case: Case, tmp_path: Path) -> None:
    status, out, err = run_case(case, tmp_path)
    assert b"Traceback" not in err
    check_output(case, out, "stdout")
    check_output(case, err, "stderr")
    assert status == case.exit, f"exit status {status}, expected {case.exit}"


def test_enough_cases() -> None:
    assert len(CASES) >= 60


def test_format_rejects_unknown_sections(tmp_path: Path) -> None:
    bad = tmp_path / "bad.kpt"
    bad.write_text("=== x\n--- source\nprint(1)\n--- stdot\n1\n")
    with pytest.raises(ValueError, match="unknown section"):
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


def test_environment_builtins_match_the_os() -> None:
    import os

    status, out, err = run_cli(["-e", "print(num_cpus(), arch(), kernel_v())"])
    assert (status, err) == (0, b"")
    cpus, machine, release = out.decode().rstrip("\n").split("\t")
    assert int(cpus) == os.sysconf("SC_NPROCESSORS_ONLN")
    assert machine == os.uname().machine
    assert release == os.uname().release


def test_gettimeofday_digit_counts_match_the_clock() -> None:
    import time

    before = time.time_ns()
    status, out, err = run_cli(
        ["-e", "print(gettimeofday_s(), gettimeofday_ms(), gettimeofday_us(), gettimeofday_ns())"])
    after = time.time_ns()
    assert (status, err) == (0, b"")
    values = [int(v) for v in out.split(b"\t")]
    for value, unit in zip(values, (10**9, 10**6, 10**3, 1), strict=True):
        assert len(str(value)) == len(str(before // unit))
        assert before // unit <= value <= after // unit
