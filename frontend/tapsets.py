"""Tapsets: libraries of ktap functions and constants, linked into a script (Part A §19).

A tapset is a `.kp` file of `function` definitions and constant `var`s. The file `foo.kp`
on the tapset path provides the library table `foo`: a script (or another tapset) calls
`foo.bar(x)` and reads `foo.NAME`, the shape of ktap's built-in `ansi.*` and `net.*`.

Linking works on the AST, before name resolution: a library reference is `lib.member`
where `lib` is a name the script does not declare (found by resolving the script once
without reporting). Each tapset used is parsed with its own path (its nodes' spans name its
file, so errors in it are shown in it), checked to hold only what a tapset may, linked
against the tapsets it uses in turn, and resolved on its own; then its top-level names, and
every use of them, are renamed `lib.name`. A dot cannot appear in a ktap name, so these
cannot clash with the script's. The linked chunk is the tapsets' statements, those used by
others first, then the script's: ordinary top-level functions and variables from there on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from frontend import ast, builtins, trusted
from frontend.diagnostics import Diagnostic, DiagnosticSink, Source, Span
from frontend.parser import parse
from frontend.scope import Resolution, Symbol, resolve
from frontend.tapsetpath import SUFFIX, SearchPath

# A tapset bigger than this is refused before it is read (a script is a few KiB).
MAX_TAPSET_BYTES = 16 << 20


@dataclass(frozen=True)
class Linked:
    """The script's chunk with its tapsets linked in, and the tapsets' sources by path."""

    chunk: ast.Chunk
    tapsets: dict[str, Source]


@dataclass
class _Tapset:
    source: Source
    statements: list[ast.Stmt]
    members: frozenset[str]


def link(chunk: ast.Chunk, source: Source, sink: DiagnosticSink, path: SearchPath) -> Linked:
    """The chunk with the tapsets it uses; errors (in the script or a tapset) go to `sink`."""
    linker = _Linker(path, sink)
    body = linker.link_body(chunk.body.stmts, source, ())
    if not linker.sources:
        return Linked(chunk, {})
    statements = [stmt for tapset in linker.loaded.values() for stmt in tapset.statements]
    linked = ast.Chunk(chunk.span, ast.Block(chunk.body.span, statements + body))
    return Linked(linked, linker.sources)


class _Linker:
    def __init__(self, path: SearchPath, sink: DiagnosticSink) -> None:
        self.path = path
        self.sink = sink
        # In dependency order: a tapset is added after those it uses.
        self.loaded: dict[str, _Tapset] = {}
        self.failed: set[str] = set()
        # Every tapset read, linked or not: its errors are shown with its text.
        self.sources: dict[str, Source] = {}

    def link_body(self, statements: list[ast.Stmt], source: Source,
                  chain: tuple[str, ...]) -> list[ast.Stmt]:
        """`statements` with their library references renamed, loading what they use."""
        block = ast.Block(Span(1, 1, 1, 1), statements)
        references = _library_references(block, source)
        for library, uses in references.items():
            first = min(uses, key=lambda use: (use.span.line, use.span.col))
            tapset = self.load(library, first.obj.span, chain)
            for use in uses:
                member = _member(use)
                if tapset is not None and member not in tapset.members:
                    self.sink.error(use.key.span, f"tapset '{library}' "
                                    f"({tapset.source.name}) has no function or constant "
                                    f"'{member}'")
        renames = {id(use): f"{library}.{_member(use)}"
                   for library, uses in references.items() for use in uses}
        return [_replace_references(stmt, renames) for stmt in statements]

    def load(self, library: str, used_at: Span, chain: tuple[str, ...]) -> _Tapset | None:
        if library in self.loaded:
            return self.loaded[library]
        if library in chain:
            cycle = " -> ".join((*chain[chain.index(library):], library))
            self.sink.error(used_at, f"tapsets use each other in a cycle: {cycle}")
            return None
        if library in self.failed:
            return None
        found = self.path.find(library)
        if found is None:
            self.failed.add(library)
            self.sink.error(used_at, f"undefined variable '{library}': no tapset "
                            f"{library}{SUFFIX} either ({self.path.described()})",
                            hints=("declare it with 'var' first, or give the folder of "
                                   f"{library}{SUFFIX} with -I",))
            return None
        tapset = self._read(library, found, used_at, (*chain, library))
        if tapset is None:
            self.failed.add(library)
            return None
        self.loaded[library] = tapset
        return tapset

    def _read(self, library: str, path: Path, used_at: Span,
              chain: tuple[str, ...]) -> _Tapset | None:
        try:
            text = trusted.read_file(path, MAX_TAPSET_BYTES).decode("utf-8", "surrogateescape")
        except trusted.Untrusted as e:
            # A tapset runs as root: one that another user could have written is not read.
            self.sink.error(used_at, f"tapset '{library}' is not used: {e}")
            return None
        source = Source(str(path), text)
        self.sources[source.name] = source
        own = DiagnosticSink(source)
        chunk = parse(source, own)
        if chunk is not None:
            _mark_file(chunk, str(path))
            _check_contents(chunk, own)
        # The tapset's own errors (the parser's spans do not name the file: they are
        # relabelled), rendered with its text by whoever renders the sink.
        self.sink.diagnostics.extend(_in_file(d, source.name) for d in own.diagnostics)
        if chunk is None or own.has_errors:
            return None
        errors_before = _errors(self.sink)
        statements = self.link_body(chunk.body.stmts, source, chain)
        if _errors(self.sink) > errors_before:
            return None
        return _rename_members(library, source, statements, self.sink)


def _in_file(diagnostic: Diagnostic, path: str) -> Diagnostic:
    return dataclasses.replace(
        diagnostic, span=dataclasses.replace(diagnostic.span, file=path),
        notes=tuple((dataclasses.replace(span, file=path), note)
                    for span, note in diagnostic.notes))


def _errors(sink: DiagnosticSink) -> int:
    return sum(d.severity == "error" for d in sink.diagnostics)


def _library_references(block: ast.Block, source: Source) -> dict[str, list[ast.Index]]:
    """`lib.member` expressions whose `lib` the code does not declare, by library."""
    candidates = [node for node in ast.walk(block)
                  if isinstance(node, ast.Index) and isinstance(node.obj, ast.Name)
                  and node.obj.name not in builtins.GLOBALS
                  and isinstance(node.key, ast.String) and _is_name(node.key.value)]
    if not candidates:
        return {}  # the common case: no second resolution of the script
    names_of = _unbound_names(block, source)
    found: dict[str, list[ast.Index]] = {}
    for node in candidates:
        assert isinstance(node.obj, ast.Name)
        if id(node.obj) in names_of:
            found.setdefault(node.obj.name, []).append(node)
    return found


def _unbound_names(block: ast.Block, source: Source) -> set[int]:
    """The Name nodes that name nothing declared nor built in (resolved without reporting:
    the linked chunk is resolved again, for real)."""
    chunk = ast.Chunk(block.span, block)
    resolution = resolve(chunk, DiagnosticSink(source))
    return {id(node) for node in ast.walk(block)
            if isinstance(node, ast.Name) and node not in resolution.bindings}


def _is_name(key: bytes) -> bool:
    text = key.decode("utf-8", "replace")
    return text.isidentifier() and text.isascii()


def _member(use: ast.Index) -> str:
    assert isinstance(use.key, ast.String)
    return use.key.value.decode()


def _check_contents(chunk: ast.Chunk, sink: DiagnosticSink) -> None:
    """A tapset holds functions and constants: anything run at load is a script's job."""
    for stmt in chunk.body.stmts:
        match stmt:
            case ast.FunctionStmt():
                pass
            case ast.Local(values=values) if len(values) == len(stmt.names) and all(
                    _is_constant(v) for v in values):
                pass
            case ast.Local():
                sink.error(stmt.span, "a tapset's 'var' must give each name a constant "
                           "(a number, a string, true, false or nil)")
            case _:
                sink.error(stmt.span, "a tapset holds only 'function' definitions and "
                           "constant 'var's; probes and other statements belong in a script")


def _is_constant(value: ast.Expr) -> bool:
    match value:
        case ast.Number() | ast.String() | ast.Bool() | ast.Nil():
            return True
        case ast.UnOp(op="-", operand=ast.Number()):
            return True
        case ast.Paren(expr=inner):
            return _is_constant(inner)
    return False


def _rename_members(library: str, source: Source, statements: list[ast.Stmt],
                    sink: DiagnosticSink) -> _Tapset | None:
    """The tapset's top-level names, and every use of them in it, renamed `library.name`."""
    # The tapsets it uses are declared ahead, so that resolving it alone finds them.
    used = sorted({node.name for node in ast.walk(ast.Block(Span(1, 1, 1, 1), statements))
                   if isinstance(node, ast.Name) and "." in node.name})
    ahead = ast.Local(Span(1, 1, 1, 1), used, [Span(1, 1, 1, 1)] * len(used), [])
    body = ast.Block(Span(1, 1, 1, 1), [ahead, *statements])
    own = DiagnosticSink(source)
    resolution = resolve(ast.Chunk(body.span, body), own)
    sink.diagnostics.extend(own.diagnostics)
    if own.has_errors:
        return None
    toplevel = _toplevel_symbols(statements, resolution)
    members = frozenset(symbol.name for symbol in toplevel)
    for node in ast.walk(body):
        if isinstance(node, ast.Name) and resolution.bindings.get(node) in toplevel:
            node.name = f"{library}.{node.name}"
    for stmt in statements:
        match stmt:
            case ast.FunctionStmt():
                stmt.name = f"{library}.{stmt.name}"
                stmt.func.name = stmt.name
            case ast.Local():
                stmt.names = [f"{library}.{name}" for name in stmt.names]
    return _Tapset(source, statements, members)


def _toplevel_symbols(statements: list[ast.Stmt], resolution: Resolution) -> set[Symbol]:
    return {symbol for stmt in statements for symbol in resolution.declared.get(stmt, [])}


def _mark_file(chunk: ast.Chunk, path: str) -> None:
    """Every span of the tapset's nodes names its file."""
    for node in ast.walk(chunk):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, Span):
                setattr(node, field.name, dataclasses.replace(value, file=path))
            elif isinstance(value, list) and value and isinstance(value[0], Span):
                setattr(node, field.name, [dataclasses.replace(s, file=path) for s in value])


def _replace_references(stmt: ast.Stmt, renames: dict[int, str]) -> ast.Stmt:
    """`stmt` with each renamed `lib.member` (an Index) replaced by the Name `lib.member`."""
    if not renames:
        return stmt
    for node in ast.walk(stmt):
        for field in dataclasses.fields(node):
            value = getattr(node, field.name)
            if isinstance(value, ast.Index) and id(value) in renames:
                setattr(node, field.name, ast.Name(value.span, renames[id(value)]))
            elif isinstance(value, list):
                setattr(node, field.name, _replaced_items(value, renames))
    return stmt


def _replaced_items(items: Sequence[object], renames: dict[int, str]) -> list[object]:
    return [ast.Name(item.span, renames[id(item)])
            if isinstance(item, ast.Index) and id(item) in renames else item
            for item in items]
