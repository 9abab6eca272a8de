"""What `kllvm list PATTERN` shows: the tracepoints and dynamic events that a ktap event
definition matches, with their fields as `argN` (`-v`), or the functions of a binary that
a uprobe can name. The pattern is parsed as `trace` parses its event definition and
matched through the providers' catalog, so `list` shows what a probe would attach to."""

from __future__ import annotations

from dataclasses import dataclass

from backend.events import MAX_ARG, ProviderError, ktap_type
from backend.providers.catalog import TracepointCatalog
from backend.providers.uprobe import function_symbols
from backend.tracefs import Field, strglobmatch
from frontend.diagnostics import CompileError, DiagnosticSink, Source, Span
from frontend.eventdef import TracepointSpec, UprobeSpec, parse_eventdef
from frontend.types import INT, STR

EVERY_EVENT = "*:*"
PATTERN_SOURCE = "(pattern)"
KTAP_TYPE_NAMES = {STR: "string", INT: "number"}


@dataclass(frozen=True)
class ListedField:
    """A field of an event's record: its argN number (None past arg8, or for a common
    header field), name, C type and the ktap type argN gives (None: not supported)."""

    arg: int | None
    name: str
    c_type: str
    ktap_type: str | None


@dataclass(frozen=True)
class ListedEvent:
    """A matched event: `system:event`, or `probe:/path:function` for a uprobe target.
    `fields` is None when they were not asked for or have none to show (uprobes);
    `problem` says why an event's format could not be read."""

    name: str
    fields: tuple[ListedField, ...] | None = None
    problem: str | None = None


class ListError(Exception):
    """A pattern that lists nothing or cannot be listed; the message is for the user."""


def listed_fields(fields: tuple[Field, ...]) -> tuple[ListedField, ...]:
    """The record's fields after the common header, numbered as ktap numbers argN."""
    out = []
    for index, f in enumerate(f for f in fields if not f.is_common):
        t = ktap_type(f)
        out.append(ListedField(index if index < MAX_ARG else None, f.name, f.type,
                               None if t is None else KTAP_TYPE_NAMES[t]))
    return tuple(out)


def _source(pattern: str) -> Source:
    return Source(PATTERN_SOURCE, pattern)


def list_events(pattern: str | None, verbose: bool,
                catalog: TracepointCatalog | None = None) -> list[ListedEvent]:
    """The events `pattern` (ktap's event definition: `SYS:EVENT` globs, comma lists,
    `probe:/PATH:GLOB`) matches, in order, each once. A pattern without `:` is an event
    name glob in every system (`sched_*`, as `*:sched_*`)."""
    text = EVERY_EVENT if pattern is None else pattern.strip()
    if ":" not in text:
        text = f"*:{text}"
    source = _source(text)
    sink = DiagnosticSink(source)
    eventdef = parse_eventdef(text, Span(1, 1, 1, len(text) + 1), sink)
    if eventdef is None:
        raise CompileError.of(source, sink.diagnostics)
    if eventdef.filter is not None:
        raise ListError("a filter (/.../) selects records, not events: "
                        "list without it")
    catalog = catalog or TracepointCatalog()
    listed: dict[str, ListedEvent] = {}
    for spec in eventdef.specs:
        if isinstance(spec, TracepointSpec):
            try:
                matched = catalog.expand(spec)
            except ProviderError as e:
                raise e.compile_error(source) from None
            for system, event in matched:
                name = f"{system}:{event}"
                if name not in listed:
                    listed[name] = _tracepoint(catalog, system, event, verbose)
        elif isinstance(spec, UprobeSpec):
            for name in _functions(spec):
                listed.setdefault(name, ListedEvent(name))
        else:
            raise ListError("only tracepoints (SYSTEM:EVENT) and the functions of a "
                            "binary (probe:/PATH:GLOB) can be listed")
    if not listed:
        raise ListError(f"nothing matches '{text}'")
    return list(listed.values())


def _tracepoint(catalog: TracepointCatalog, system: str, event: str,
                verbose: bool) -> ListedEvent:
    name = f"{system}:{event}"
    if not verbose:
        return ListedEvent(name)
    try:
        fmt = catalog.format(system, event)
    except (OSError, ValueError, KeyError) as e:  # gone meanwhile, or a format kllvm
        return ListedEvent(name, problem=f"cannot read its format: {e}")  # cannot parse
    return ListedEvent(name, listed_fields(fmt.fields))


def _functions(spec: UprobeSpec) -> list[str]:
    glob = spec.symbol_or_offset
    if not isinstance(glob, str):
        raise ListError(f"probe:{spec.path}:{glob} is a file offset, not a function glob")
    try:
        names = function_symbols(spec.path)
    except OSError as e:
        raise ListError(e.strerror or str(e)) from None
    suffix = "%return" if spec.is_return else ""
    return [f"probe:{spec.path}:{n}{suffix}" for n in names if strglobmatch(n, glob)]
