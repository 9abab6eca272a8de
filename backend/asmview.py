"""The BPF assembly of `kllvm dump --emit=asm`, made readable: each program's
instructions under the script lines they come from.

LLVM's assembly says where an instruction comes from only through `.loc FILE LINE COL`
directives, and surrounds the code with directives (CFI, labels for debug ranges) and
data sections (maps, BTF, DWARF) that nobody reading the code needs. This keeps the
program sections, their labels and instructions, and turns each change of line into a
`; LINE | text` comment (`; FILE:LINE | text` for a tapset's line). Line 0 marks code that
belongs to no single line (merged or generated): it leaves the current line as it is.
"""

from __future__ import annotations

import re

from backend.helpers import Helper
from frontend.diagnostics import Source

_SECTION = re.compile(r'^\s*\.section\s+"?([^",]+)"?\s*,\s*"([^"]*)"')
_LOC = re.compile(r"^\s*\.loc\s+(\d+)\s+(\d+)")
# `.file N "path"` or `.file N "directory" "name"`: the file numbers `.loc` refers to.
_FILE = re.compile(r'^\s*\.file\s+(\d+)\s+"([^"]*)"(?:\s+"([^"]*)")?')
_LABEL = re.compile(r"^([A-Za-z_][\w.]*):")
_CALL = re.compile(r"^call (\d+)$")
_HELPER_NAMES = {helper.value.id: f"bpf_{helper.name.lower()}" for helper in Helper}


def annotate(assembly: str, source: Source) -> str:
    out: list[str] = []
    in_code = False
    line_shown: tuple[str, int] = ("", 0)
    files: dict[int, str] = {}
    for text in assembly.splitlines():
        file = _FILE.match(text)
        if file is not None:
            directory, name = file.group(2), file.group(3)
            files[int(file.group(1))] = f"{directory}/{name}" if name is not None else directory
            continue
        section = _SECTION.match(text)
        if section is not None:
            in_code = "x" in section.group(2)
            if in_code:
                out.append(f"\n; section {section.group(1)}")
                line_shown = ("", 0)
            continue
        if not in_code:
            continue
        loc = _LOC.match(text)
        if loc is not None:
            path, line = files.get(int(loc.group(1)), source.name), int(loc.group(2))
            if line and (path, line) != line_shown:
                # A tapset's line is named by its file; the script's by its number alone.
                tapset = source.tapset(path) if path != source.name else None
                where = f"{path.rsplit('/', 1)[-1]}:{line}" if tapset is not None else f"{line}"
                out.append(f"\t; {where} | {(tapset or source).line_text(line).strip()}")
                line_shown = (path, line)
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith((".", "#")):
            continue  # directives and comments
        label = _LABEL.match(stripped)
        if label is not None:
            if not label.group(1).startswith(".L"):  # .Ltmp/.Lfunc: debug ranges only
                out.append(stripped)
            continue
        call = _CALL.match(stripped)
        if call is not None and int(call.group(1)) in _HELPER_NAMES:
            stripped += f"\t\t; {_HELPER_NAMES[int(call.group(1))]}"
        out.append("\t" + stripped)
    return "\n".join(out).lstrip("\n") + "\n"
