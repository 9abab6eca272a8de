"""The uprobe provider (`probe:/path:symbol`, `probe:/path:0x1234`, `%return`): one
program per probed user function, reading argN and filter fields from registers
(backend.providers.registers); the symbol is resolved to a file offset when attaching."""

from __future__ import annotations

import ctypes as ct
import os
import re

from backend.events import ProbeEvents, ProviderError
from backend.manifest import AttachKind, AttachPoint
from backend.providers import bcclib
from backend.providers.base import (
    Attachable,
    Detach,
    Emitter,
    NameIndex,
    NameTable,
    ProgramSpec,
    single_name,
)
from frontend.eventdef import UprobeSpec


class Uprobes:
    attach_kinds: tuple[AttachKind, ...] = (AttachKind.UPROBE,)

    def target(self, spec: UprobeSpec) -> str:
        """The attach target of a spec (its expansion: registers.expand)."""
        if isinstance(spec.symbol_or_offset, str) \
                and any(c in spec.symbol_or_offset for c in "*?["):
            # Attaching resolves one symbol; without this the glob would be looked
            # up as a name and reported as missing.
            raise ProviderError(spec.span, "symbol globs in user-space probes are not "
                                           "supported yet: name one symbol")
        return spec.path

    def plan(self, probe: ProbeEvents, names: NameTable) -> list[ProgramSpec]:
        specs = []
        for index, (spec, _) in enumerate(probe.others):
            if not isinstance(spec, UprobeSpec):
                continue
            ret = spec.is_return
            target = f"{spec.path}:{spec.symbol_or_offset}"
            cookie = names.index(("ret_" if ret else "") + str(spec.symbol_or_offset))
            specs.append(ProgramSpec(
                f"p{probe.decl.id}_uprobe{index}", "uretprobe" if ret else "uprobe", probe,
                probe.other_groups[index], [AttachPoint(AttachKind.UPROBE, target, cookie, ret)],
                cookie, self))
        return specs

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        return single_name(spec)

    def sections(self, kind: AttachKind) -> tuple[str, ...]:
        return ("uprobe", "uretprobe")

    def target_problem(self, point: AttachPoint) -> str | None:
        path, _, symbol = point.target.rpartition(":")
        if not (path and symbol and symbol.isascii()):
            return f"bad uprobe target {point.target[:60]!r}"
        if (symbol.startswith("0x") or symbol.isdigit()) and \
                re.fullmatch(r"0x[0-9a-fA-F]{1,16}|[0-9]{1,20}", symbol) is None:
            return f"bad uprobe offset {symbol[:30]!r}"
        return None

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        path, symbol = point.target.rsplit(":", 1)
        offset = resolve_uprobe(path, symbol)
        links.append(program.attach_uprobe(path, offset, -1, point.retprobe))


UPROBE = Uprobes()


def resolve_uprobe(path: str, symbol: str) -> int:
    """The file offset of `symbol` in `path`, through bcc's symbol resolution."""
    if not os.path.isfile(path):  # bcc would only say that the symbol is missing
        raise OSError(0, f"no such file: {path}")
    if symbol.startswith("0x") or symbol.isdigit():
        return int(symbol, 0)
    libbcc = bcclib.libbcc()
    sym = libbcc.bcc_symbol()
    if libbcc.lib.bcc_resolve_symname(path.encode(), symbol.encode(), 0, -1, None,
                                       ct.byref(sym)) < 0:
        raise OSError(0, f"cannot find symbol '{symbol}' in {path}")
    offset = int(sym.offset)
    libbcc.lib.bcc_procutils_free(sym.module)
    return offset


def function_symbols(path: str) -> list[str]:
    """The names of the functions a uprobe can name in the ELF file `path` (symbol
    tables and dynamic symbols, through bcc, as attaching resolves them); sorted."""
    if not os.path.isfile(path):
        raise OSError(0, f"no such file: {path}")
    with open(path, "rb") as f:  # bcc finds no symbols in a non-ELF file, silently
        if f.read(4) != b"\x7fELF":
            raise OSError(0, f"{path} is not an ELF file")
    names: set[str] = set()

    def found(name: bytes, address: int) -> int:
        names.add(name.decode("utf-8", errors="replace"))
        return 0

    # The same prototype as bcc.libbcc's argtypes (ctypes caches it by signature).
    callback = ct.CFUNCTYPE(ct.c_int, ct.c_char_p, ct.c_ulonglong)(found)
    if bcclib.libbcc().lib.bcc_foreach_function_symbol(path.encode(), callback) < 0:
        raise OSError(0, f"cannot read the symbols of {path}")
    return sorted(names)
