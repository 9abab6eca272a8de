"""Reads ktap's test files (Perl Test::Base format, test/lib/Test/ktap.pm in ktap's repository).

A file holds blocks `=== TEST n: name`, each with sections `--- name [filters]` whose value is
the following lines, or the rest of the line after `--- name: value`. ktap's runner (ktap.pm)
runs `./ktap OPTS SRCFILE ARGS` and compares stdout, stderr and the exit code; the conformance
test does the same with kllvm. Written by hand: Test::Base is Perl and has no Python port.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

_BLOCK = re.compile(r"^=== (TEST \d+: .*)$", re.M)
_SECTION = re.compile(r"^--- (\w+)((?:[ \t]+\w+)*)(?::[ \t]*(.*))?$", re.M)


@dataclass(frozen=True)
class Section:
    value: str
    filters: tuple[str, ...]


@dataclass(frozen=True)
class Block:
    file: str
    name: str
    sections: dict[str, Section]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.name.split(':')[0].removeprefix('TEST ')}"

    def get(self, key: str) -> str | None:
        section = self.sections.get(key)
        return None if section is None else section.value

    def argv(self, ktap: list[str], src: Path | None) -> list[str]:
        """ktap.pm's command line, split as its parse_cmd does (quotes group, no escapes)."""
        cmd = []
        for part in (self.get("opts"), None if src is None else "SRC", self.get("args")):
            if part:
                cmd.extend(shlex.split(part.strip()))
        out: list[str] = []
        for word in cmd:
            if word == "SRC" and src is not None:
                out.append(str(src))
            elif word == "./ktap":
                out.extend(ktap)
            else:
                out.append(word)
        return ktap + out


def _value(text: str, filters: tuple[str, ...]) -> str:
    # Test::Base's default `trim` drops the blank lines that begin and end a section value
    # and keeps one final newline; `chop` then removes the last character.
    text = text.strip("\n")
    text = text + "\n" if text else ""
    if "chop" in filters:
        text = text[:-1]
    return text


def parse(path: Path) -> list[Block]:
    data = path.read_text().split("\n__DATA__\n", 1)[1]
    starts = list(_BLOCK.finditer(data))
    blocks = []
    for i, start in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(data)
        body = data[start.end() + 1:end]
        sections: dict[str, Section] = {}
        heads = list(_SECTION.finditer(body))
        for j, head in enumerate(heads):
            filters = tuple(head.group(2).split())
            if head.group(3) is not None:
                sections[head.group(1)] = Section(head.group(3), filters)
                continue
            stop = heads[j + 1].start() if j + 1 < len(heads) else len(body)
            sections[head.group(1)] = Section(_value(body[head.end() + 1:stop], filters), filters)
        blocks.append(Block(path.name, start.group(1), sections))
    return blocks
