"""The uprobe provider (`probe:/path:symbol`, `probe:/path:0x1234`, `%return`): one
program per probed user function, reading argN and filter fields from registers
(backend.providers.registers); the symbol is resolved to a file offset when attaching."""

from __future__ import annotations

import ctypes as ct
import dataclasses
import fnmatch
import os
import re
import shutil

from backend.events import ProbeEvents, ProviderError
from backend.manifest import AttachKind, AttachPoint
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

    def targets(self, spec: UprobeSpec) -> list[tuple[UprobeSpec, str]]:
        """The specs a spec stands for and their attach targets (its expansion:
        registers.expand): a symbol glob, one per function symbol of the binary it
        matches, in name order."""
        glob = spec.symbol_or_offset
        if not (isinstance(glob, str) and any(c in glob for c in "*?[")):
            return [(spec, spec.path)]
        try:
            symbols = function_symbols(spec.path)
        except OSError as e:
            raise ProviderError(spec.span, f"cannot read {spec.path}: {e.strerror}") from None
        matched = sorted(name for name in symbols if fnmatch.fnmatchcase(name, glob))
        if not matched:
            raise ProviderError(spec.span, f"no function symbol of {spec.path} matches "
                                           f"'{glob}'")
        if len(matched) > MAX_GLOB_SYMBOLS:
            raise ProviderError(spec.span, f"'{glob}' matches {len(matched)} functions of "
                                           f"{spec.path}: at most {MAX_GLOB_SYMBOLS} can be "
                                           "probed at once")
        return [(dataclasses.replace(spec, symbol_or_offset=name), spec.path)
                for name in matched]

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


MAX_GLOB_SYMBOLS = 1000  # one program each


def function_symbols(path: str) -> set[str]:
    """The function symbols of the ELF file `path`, through bcc."""
    from bcc.libbcc import _SYM_CB_TYPE
    from bcc.libbcc import lib as bcc
    if not os.path.isfile(path):
        found = existing_alternative(path)
        raise OSError(0, "no such file" + (f" (there is {found})" if found else ""))
    names: set[str] = set()

    def collect(name: bytes, address: int) -> int:
        names.add(name.decode(errors="replace"))
        return 0

    if bcc.bcc_foreach_function_symbol(path.encode(), _SYM_CB_TYPE(collect)) < 0:
        raise OSError(0, "not an ELF file with symbols")
    return names


def existing_alternative(path: str) -> str | None:
    """A file that `path`, which does not exist, probably meant: the library of the same
    name the dynamic linker finds (`/lib/libc.so.6` → `/lib/x86_64-linux-gnu/libc.so.6`),
    or the program of the same name on PATH."""
    from bcc.libbcc import lib as bcc
    base = os.path.basename(path)
    library = re.fullmatch(r"lib(.+?)\.so(\.[0-9.]*)?", base)
    found: str | None = None
    if library is not None:
        result = bcc.bcc_procutils_which_so(library[1].encode(), 0)
        if result:
            text = ct.cast(result, ct.c_char_p).value
            bcc.bcc_procutils_free(result)
            found = text.decode(errors="replace") if text else None
    elif base:
        found = shutil.which(base)
    return found if found and found != path and os.path.isfile(found) else None


def resolve_uprobe(path: str, symbol: str) -> int:
    """The file offset of `symbol` in `path`, through bcc's symbol resolution."""
    from bcc.libbcc import bcc_symbol
    from bcc.libbcc import lib as bcc
    if not os.path.isfile(path):  # bcc would only say that the symbol is missing
        found = existing_alternative(path)
        raise OSError(0, f"no such file: {path}" + (f" (there is {found})" if found else ""))
    if symbol.startswith("0x") or symbol.isdigit():
        return int(symbol, 0)
    sym = bcc_symbol()
    if bcc.bcc_resolve_symname(path.encode(), symbol.encode(), 0, -1, None,
                               ct.byref(sym)) < 0:
        raise OSError(0, f"cannot find symbol '{symbol}' in {path}")
    offset = int(sym.offset)
    bcc.bcc_procutils_free(sym.module)
    return offset
