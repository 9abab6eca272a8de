"""`kllvm list [PATTERN] [-v]`: the events a pattern matches, one a line, with their
fields as ktap numbers them under `-v` (backend/listing.py finds them)."""

from __future__ import annotations

import json
from dataclasses import asdict
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


def record(event: ListedEvent) -> str:
    """`-f json`: one line, {"type": "event", "name": ..., "fields": [...]} (fields and
    problem only under -v)."""
    fields = asdict(event)
    shown = {k: v for k, v in fields.items() if v is not None}
    return json.dumps({"type": "event", **shown}, ensure_ascii=False) + "\n"


def run(pattern: str | None, verbose: bool, out: TextIO, as_json: bool = False) -> int:
    for event in list_events(pattern, verbose):
        out.write(record(event) if as_json else render(event))
    return 0
