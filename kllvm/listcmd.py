"""`kllvm list [PATTERN] [-v]`: the events a pattern matches, one a line, with their
fields as ktap numbers them under `-v` (backend/listing.py finds them)."""

from __future__ import annotations

from typing import TextIO

from backend.listing import ListedEvent, ListedField, list_events

UNSUPPORTED = "unsupported"  # a field kllvm cannot read as argN yet
NO_ARG = "-"  # a field past arg8: ktap sets up only arg0..arg8


def _field_line(f: ListedField) -> str:
    arg = NO_ARG if f.arg is None else f"arg{f.arg}"
    return f"    {arg:<5} {f.ktap_type or UNSUPPORTED:<11} {f.c_type} {f.name}\n"


def render(event: ListedEvent) -> str:
    text = event.name + "\n"
    if event.problem is not None:
        text += f"    ({event.problem})\n"
    for f in event.fields or ():
        text += _field_line(f)
    return text


def run(pattern: str | None, verbose: bool, out: TextIO) -> int:
    for event in list_events(pattern, verbose):
        out.write(render(event))
    return 0
