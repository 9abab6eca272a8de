"""DWARF metadata for the BPF backend, which LLVM turns into BTF.

LLVM's BPF target builds `.BTF` and `.BTF.ext` only from debug info, and libbpf
needs that BTF for `.maps` definitions and global-data sections; the kernel
uses the function and line records for readable verifier logs. This module
emits the same metadata shapes clang emits for libbpf-style C.

Line text in the verifier log: LLVM's BTFDebug fills each line record's text
from the DIFile's embedded `source:` when present (otherwise from reading the
file from disk at compile time), so passing the script text makes the kernel
print `; <script line> @ <file>:<line>` without touching the filesystem.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from llvmlite import ir

from backend import bpftarget


class DIValue(Protocol):
    """What this module uses of llvmlite's `ir.DIValue` (llvmlite ships no types): a DWARF
    node's named operands, which `DebugInfo.finalized` extends for printing."""

    operands: tuple[tuple[str, object], ...]


class MDValue(Protocol):
    """llvmlite's `ir.MDValue`, an unnamed metadata tuple such as a list of struct members."""

    operands: tuple[object, ...]


# The column field of a BTF line record (`line_col & 0x3ff`).
_MAX_BTF_COLUMN = 2**10 - 1


def _utf8_text(text: str) -> str:
    """`text` as LLVM metadata can hold it (UTF-8): the bytes of a script or path that are not
    UTF-8, which kllvm reads with surrogateescape, become U+FFFD each."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass(frozen=True)
class MapField:
    """One member of a BTF map definition struct.

    `value` is an int for `__uint(name, N)` and a DI type for `__type(name, T)`.
    """

    name: str
    value: int | DIValue


class DebugInfo:
    """Debug-info builder bound to one llvmlite module and one source file."""

    def __init__(
        self,
        module: ir.Module,
        filename: str,
        directory: str = "",
        source: str | None = None,
        producer: str = "kllvm",
    ) -> None:
        self._module = module
        file_ops: dict[str, object] = {
            "filename": _utf8_text(filename), "directory": _utf8_text(directory)}
        if source is not None:
            file_ops["source"] = _utf8_text(source)
        self.file = self._node("DIFile", file_ops)
        self.unit = self._node(
            "DICompileUnit",
            {
                "language": ir.DIToken("DW_LANG_C99"),
                "file": self.file,
                "producer": producer,
                "isOptimized": True,
                "runtimeVersion": 0,
                "emissionKind": ir.DIToken("FullDebug"),
            },
            distinct=True,
        )
        module.add_named_metadata("llvm.dbg.cu", self.unit)
        # Embedded source text is a DWARF 5 feature.
        module.add_named_metadata("llvm.module.flags", [ir.Constant(ir.IntType(32), 7),
                                                        "Dwarf Version",
                                                        ir.Constant(ir.IntType(32), 5)])
        module.add_named_metadata("llvm.module.flags", [ir.Constant(ir.IntType(32), 2),
                                                        "Debug Info Version",
                                                        ir.Constant(ir.IntType(32), 3)])
        self._globals: list[DIValue] = []
        self._tapset_scopes: dict[str, DIValue] = {}
        self._retained: list[tuple[DIValue, MDValue]] = []
        self.void_ptr = self.pointer(None)

    def _node(self, kind: str, operands: dict[str, object], distinct: bool = False) -> DIValue:
        """`add_debug_info`, typed: llvmlite returns an `ir.DIValue`."""
        node: DIValue = self._module.add_debug_info(kind, operands, is_distinct=distinct)
        return node

    def _tuple(self, values: Sequence[object]) -> MDValue:
        """`add_metadata`, typed: llvmlite returns an `ir.MDValue`."""
        node: MDValue = self._module.add_metadata(list(values))
        return node

    # -- types ---------------------------------------------------------------

    def basic_type(self, name: str, bits: int, signed: bool) -> DIValue:
        if name == "char":
            encoding = "DW_ATE_signed_char"
        else:
            encoding = "DW_ATE_signed" if signed else "DW_ATE_unsigned"
        return self._node(
            "DIBasicType", {"name": name, "size": bits, "encoding": ir.DIToken(encoding)}
        )

    def int_type(self, bits: int, signed: bool = False) -> DIValue:
        return self.basic_type(f"{'s' if signed else 'u'}{bits}", bits, signed)

    def pointer(self, target: DIValue | None) -> DIValue:
        return self._node(
            "DIDerivedType",
            {"tag": ir.DIToken("DW_TAG_pointer_type"), "baseType": target, "size": 64},
        )

    def array(self, element: DIValue, element_bits: int, count: int) -> DIValue:
        subrange = self._node("DISubrange", {"count": count})
        return self._node(
            "DICompositeType",
            {
                "tag": ir.DIToken("DW_TAG_array_type"),
                "baseType": element,
                "size": element_bits * count,
                "elements": self._tuple([subrange]),
            },
        )

    def struct(self, name: str, members: Sequence[tuple[str, DIValue, int, int]],
               size_bits: int) -> DIValue:
        """`members` are (name, type, size in bits, offset in bits)."""
        nodes = [
            self._node(
                "DIDerivedType",
                {
                    "tag": ir.DIToken("DW_TAG_member"),
                    "name": mname,
                    "file": self.file,
                    "baseType": mtype,
                    "size": msize,
                    "offset": moffset,
                },
            )
            for mname, mtype, msize, moffset in members
        ]
        ops: dict[str, object] = {
            "tag": ir.DIToken("DW_TAG_structure_type"),
            "file": self.file,
            "size": size_bits,
            "elements": self._tuple(nodes),
        }
        if name:
            ops["name"] = name
        return self._node("DICompositeType", ops)

    def size_bits(self, ty: ir.Type) -> int:
        return bpftarget.abi_size(ty) * 8

    def type_for(self, ty: ir.Type, signed: bool = False) -> DIValue:
        """DI type mirroring an llvmlite type; struct members are named f0, f1, ..."""
        if isinstance(ty, ir.IntType):
            return self.int_type(ty.width, signed)
        if isinstance(ty, ir.PointerType):
            return self.void_ptr
        if isinstance(ty, ir.ArrayType):
            if ty.element == ir.IntType(8):
                element = self.basic_type("char", 8, True)
            else:
                element = self.type_for(ty.element, signed)
            return self.array(element, self.size_bits(ty.element), ty.count)
        if isinstance(ty, ir.BaseStructType):
            name = ty.name if isinstance(ty, ir.IdentifiedStructType) else ""
            members = [
                (f"f{i}", self.type_for(e, signed), self.size_bits(e),
                 bpftarget.element_offset(ty, i) * 8)
                for i, e in enumerate(ty.elements)
            ]
            return self.struct(name, members, self.size_bits(ty))
        raise TypeError(f"no debug type for {ty}")

    # -- maps and globals ----------------------------------------------------

    def map_definition(self, fields: Sequence[MapField]) -> DIValue:
        """The anonymous struct of a libbpf BTF map definition.

        `__uint(name, N)` is `int (*name)[N]` and `__type(name, T)` is `T *name`,
        exactly as in libbpf's bpf_helpers.h.
        """
        int_ty = self.basic_type("int", 32, True)
        members = []
        for i, f in enumerate(fields):
            if isinstance(f.value, int):
                target = self.array(int_ty, 32, f.value)
            else:
                target = f.value
            members.append((f.name, self.pointer(target), 64, 64 * i))
        return self.struct("", members, 64 * len(fields))

    def global_variable(self, gv: ir.GlobalVariable, ditype: DIValue, line: int = 0) -> None:
        var = self._node(
            "DIGlobalVariable",
            {
                "name": gv.name,
                "scope": self.unit,
                "file": self.file,
                "line": line,
                "type": ditype,
                "isLocal": False,
                "isDefinition": True,
            },
            distinct=True,
        )
        expr = self._node(
            "DIGlobalVariableExpression",
            {"var": var, "expr": self._node("DIExpression", {})},
        )
        gv.set_metadata("dbg", expr)
        self._globals.append(expr)

    # -- functions and locations --------------------------------------------

    def subprogram(self, fn: ir.Function, line: int, ret: DIValue,
                   args: Sequence[tuple[str, DIValue]], static: bool = False) -> DIValue:
        """A DISubprogram with named arguments.

        The kernel rejects a FUNC_PROTO with unnamed parameters (and libbpf then
        drops all BTF). BTFDebug takes the names from `retainedNodes`, a cycle
        (SP → variable → SP) that add_debug_info cannot express: it hashes
        operands deeply. The link is therefore added only while printing, see
        `finalized`.
        """
        sp = self._node(
            "DISubprogram",
            {
                "name": fn.name,
                "scope": self.file,
                "file": self.file,
                "line": line,
                "type": self._signature(ret, args),
                "scopeLine": line,
                "flags": ir.DIToken("DIFlagPrototyped"),
                # A static function's BTF says so; the verifier then checks its
                # arguments at each call like the caller's own code, not by their types.
                "spFlags": ir.DIToken(("DISPFlagLocalToUnit | " if static else "")
                                     + "DISPFlagDefinition | DISPFlagOptimized"),
                "unit": self.unit,
            },
            distinct=True,
        )
        self._name_arguments(fn, sp, args, {"line": line})
        return sp

    def declaration(self, fn: ir.Function, ret: DIValue | None,
                    args: Sequence[tuple[str, DIValue]]) -> None:
        """A DISubprogram that declares an external function (a kfunc): BTFDebug
        makes it an extern BTF FUNC in the `.ksyms` DATASEC, which libbpf resolves
        against the kernel's BTF. Arguments are named, as for `subprogram`."""
        sp = self._node(
            "DISubprogram",
            {
                "name": fn.name,
                "scope": self.file,
                "file": self.file,
                "type": self._signature(ret, args),
                "flags": ir.DIToken("DIFlagPrototyped"),
                "spFlags": ir.DIToken("DISPFlagOptimized"),
            },
        )
        self._name_arguments(fn, sp, args, {})

    def _signature(self, ret: DIValue | None, args: Sequence[tuple[str, DIValue]]) -> DIValue:
        return self._node("DISubroutineType",
                          {"types": self._tuple([ret, *(t for _, t in args)])})

    def _name_arguments(self, fn: ir.Function, sp: DIValue,
                        args: Sequence[tuple[str, DIValue]], extra: dict[str, object]) -> None:
        """The arguments' DILocalVariables, kept as `sp`'s retained nodes (see
        `finalized`), and `sp` attached to `fn`."""
        variables = [
            self._node(
                "DILocalVariable",
                {"name": name, "arg": i + 1, "scope": sp, "file": self.file, **extra,
                 "type": ty},
            )
            for i, (name, ty) in enumerate(args)
        ]
        self._retained.append((sp, self._tuple(variables)))
        fn.set_metadata("dbg", sp)

    def tapset_scope(self, path: str, source: str | None) -> DIValue:
        """The scope of lines in the tapset `path`: a subprogram of that file, which code
        from the tapset is located in as inlined (`location(..., inlined_at=...)`): BTF
        line records take their file from the subprogram of a line's scope, and this
        DIFile embeds the tapset's text as the script's does, so they quote its lines."""
        if path not in self._tapset_scopes:
            file_ops: dict[str, object] = {"filename": _utf8_text(path), "directory": ""}
            if source is not None:
                file_ops["source"] = _utf8_text(source)
            file = self._node("DIFile", file_ops)
            self._tapset_scopes[path] = self._node(
                "DISubprogram",
                {
                    "name": _utf8_text(path.rsplit("/", 1)[-1]),
                    "scope": file,
                    "file": file,
                    "line": 0,
                    "type": self._node("DISubroutineType", {"types": self._tuple([])}),
                    "scopeLine": 0,
                    "spFlags": ir.DIToken("DISPFlagLocalToUnit | DISPFlagDefinition | "
                                          "DISPFlagOptimized"),
                    "unit": self.unit,
                },
                distinct=True,
            )
        return self._tapset_scopes[path]

    def location(self, scope: DIValue, line: int, column: int = 0,
                 inlined_at: DIValue | None = None) -> DIValue:
        # BTF line info keeps 10 bits of column (LLVM masks the rest, and refuses a DILocation
        # column above 65535 outright): a wider column is recorded as 0, "unknown".
        if column > _MAX_BTF_COLUMN:
            column = 0
        operands: dict[str, object] = {"line": line, "column": column, "scope": scope}
        if inlined_at is not None:
            operands["inlinedAt"] = inlined_at
        return self._node("DILocation", operands)

    @contextmanager
    def finalized(self) -> Iterator[None]:
        """Complete the metadata graph for printing, then restore it.

        Adds each subprogram's `retainedNodes` and the compile unit's `globals`
        (as clang does). Both change operands that llvmlite hashes when later
        metadata refers to them, so they are undone afterwards and the module
        stays buildable.
        """
        saved = [(node, node.operands) for node, _ in self._retained]
        saved.append((self.unit, self.unit.operands))
        globals_list = self._tuple(self._globals) if self._globals else None
        try:
            for sp, nodes in self._retained:
                sp.operands = (*sp.operands, ("retainedNodes", nodes))
            if globals_list is not None:
                self.unit.operands = (*self.unit.operands, ("globals", globals_list))
            yield
        finally:
            for node, operands in saved:
                node.operands = operands
