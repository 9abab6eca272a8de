"""The .kpt format of the whole-program cases in tests/programs/.

A file holds several cases; lines before the first case are comments.

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

tests/programs/conftest.py collects each case as a test item; other test modules that want
every program (IR verification, artifacts) take them from `all_cases()`.
"""

from __future__ import annotations

import codecs
import shlex
from dataclasses import dataclass, field
from pathlib import Path

PROGRAMS = Path(__file__).resolve().parent
CASE_MARK = "=== "
SECTION_MARK = "--- "
SECTIONS = {
    "source", "mode", "args", "stdout", "stderr", "stdout-re", "stderr-re", "stderr-has",
    "exit", "xfail",
}  # fmt: skip


@dataclass(frozen=True)
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
    """The cases of one .kpt file, in order; ValueError (with file:line) on a malformed one."""
    cases: list[Case] = []
    case: Case | None = None
    current: str | None = None
    body: list[str] = []

    def close_section() -> None:
        if case is not None and current is not None:
            case.sections[current] = _section_text(body)

    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if line.startswith(CASE_MARK):
            close_section()
            case = Case(path.name, line[len(CASE_MARK):].strip(), number)
            cases.append(case)
            current, body = None, []
        elif line.startswith(SECTION_MARK) and case is not None:
            close_section()
            words = line[len(SECTION_MARK):].split()
            if not words or words[0] not in SECTIONS or words[1:] not in ([], ["escaped"]):
                raise ValueError(f"{path}:{number}: unknown section {line!r}")
            current, body = words[0], []
            if words[1:] == ["escaped"]:
                case.escaped.add(current)
        elif current is not None:
            body.append(line)
    close_section()
    seen: dict[str, int] = {}
    for c in cases:
        if "source" not in c.sections:
            raise ValueError(f"{path}:{c.line}: case {c.name!r} has no source")
        if c.name in seen:
            raise ValueError(
                f"{path}:{c.line}: case {c.name!r} already defined at line {seen[c.name]}")
        seen[c.name] = c.line
    return cases


def kpt_files() -> list[Path]:
    return sorted(PROGRAMS.glob("*.kpt"))


def all_cases() -> list[Case]:
    """Every case of every tests/programs/*.kpt file (names are unique within a file, and
    file stems are unique, so `Case.id` is unique)."""
    return [c for path in kpt_files() for c in parse_kpt(path)]
