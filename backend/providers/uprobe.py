"""The uprobe provider (`probe:/path:symbol`, `probe:/path:0x1234`, `%return`): one
program per probed user function, reading argN and filter fields from registers
(backend.providers.registers); the symbol is resolved to a file offset when attaching."""

from __future__ import annotations

import ctypes as ct
import dataclasses
import os
import re
import shutil

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
)
from backend.tracefs import strglobmatch
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
        # ktap's glob, as `kllvm list` matches it (backend/listing.py).
        matched = [name for name in symbols if strglobmatch(name, glob)]
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
        """One program per written spec: the symbols a glob matched (`targets`, which
        keeps the written spec's span and fetch args) share it, each attached with its
        probename index as the cookie."""
        programs: dict[tuple[object, ...], ProgramSpec] = {}
        for index, (spec, _) in enumerate(probe.others):
            if not isinstance(spec, UprobeSpec):
                continue
            ret = spec.is_return
            target = f"{spec.path}:{spec.symbol_or_offset}"
            cookie = names.index(("ret_" if ret else "") + str(spec.symbol_or_offset))
            point = AttachPoint(AttachKind.UPROBE, target, cookie, ret)
            written = (spec.span, spec.path, ret, spec.fetchargs)
            if written in programs:
                program = programs[written]
                program.attach.append(point)
                program.name_index = None  # several probenames: by the attach cookie
                continue
            programs[written] = ProgramSpec(
                f"p{probe.decl.id}_uprobe{index}", "uretprobe" if ret else "uprobe", probe,
                probe.other_groups[index], [point], cookie, self)
        return list(programs.values())

    def prologue(self, spec: ProgramSpec, emit: Emitter) -> NameIndex:
        return spec.name_index if spec.name_index is not None else emit.attach_cookie

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

    def multi(self, points: list[AttachPoint]) -> bool:
        return len(points) > 1  # a symbol glob's matches

    def prepare(self, program: Attachable) -> None:
        program.set_uprobe_multi()

    def attach_multi(self, program: Attachable, points: list[AttachPoint],
                     links: list[Detach], pid: int) -> list[str]:
        """One link for all of `points`; when the kernel refuses some offsets (an
        instruction a uprobe cannot replace: ENOTSUPP), the points are split in halves
        until the refused ones are found, and those are returned as failures. With a
        `pid`, the kernel puts the breakpoints in that process only."""
        path = points[0].target.rsplit(":", 1)[0]
        offsets = resolve_uprobes(path, [p.target.rsplit(":", 1)[1] for p in points])
        failures: list[str] = []
        pending = [(points, offsets)]
        while pending:
            some, where = pending.pop()
            try:
                links.append(program.attach_uprobe_multi(path, where, [p.cookie for p in some],
                                                         some[0].retprobe, pid))
            except OSError as e:
                if len(some) == 1:
                    why = (f"{NOT_PROBED} (error {ENOTSUPP})" if e.errno == ENOTSUPP
                           else e.strerror or str(e))
                    failures.append(f"cannot attach to {some[0].target}: {why}")
                    continue
                half = len(some) // 2
                pending += [(some[half:], where[half:]), (some[:half], where[:half])]
        if len(failures) == len(points):
            raise OSError(0, failures[0].split(": ", 1)[1])
        return failures

    def attach(self, program: Attachable, point: AttachPoint, links: list[Detach]) -> None:
        path, symbol = point.target.rsplit(":", 1)
        offset = resolve_uprobe(path, symbol)
        links.append(program.attach_uprobe(path, offset, -1, point.retprobe, point.cookie))


UPROBE = Uprobes()


MAX_GLOB_SYMBOLS = 10000  # attachments of one program
ENOTSUPP = 524  # the kernel's own errno, which has no name in user space
NOT_PROBED = "the kernel cannot put a uprobe on its first instruction"


def existing_alternative(path: str) -> str | None:
    """A file that `path`, which does not exist, probably meant: the library of the same
    name the dynamic linker finds (`/lib/libc.so.6` → `/lib/x86_64-linux-gnu/libc.so.6`),
    or the program of the same name on PATH."""
    bcc = bcclib.libbcc().lib
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


def resolve_uprobes(path: str, symbols: list[str]) -> list[int]:
    """The file offsets of `symbols` in `path` (`resolve_uprobe`), all or an OSError."""
    return [resolve_uprobe(path, symbol) for symbol in symbols]


def resolve_uprobe(path: str, symbol: str) -> int:
    """The file offset of `symbol` in `path`, through bcc's symbol resolution."""
    if not os.path.isfile(path):  # bcc would only say that the symbol is missing
        found = existing_alternative(path)
        raise OSError(0, f"no such file: {path}" + (f" (there is {found})" if found else ""))
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
        meant = existing_alternative(path)
        raise OSError(0, f"no such file: {path}" + (f" (there is {meant})" if meant else ""))
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
