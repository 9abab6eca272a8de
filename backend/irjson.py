"""The typed IR as plain JSON data, for `kllvm build` artifacts.

Unlike a pickle, reading it cannot run code: it only makes instances of the IR's own
dataclasses and enums (from IR_MODULES), by setting their fields, and it checks every
field against its annotation (exact ints, strings, lists of ops, registers where a
register belongs, ...), so a crafted document gives an IRDecodeError, not odd objects.
Shared objects stay shared (registers are compared by identity), and the encoding is a
pure function of the module, so the same script gives the same bytes.

The document is {"objects": [...], "root": value}. Every list, dict and dataclass
instance is one entry of the flat "objects" table ({"list": [...]}, {"dict": [[key, value],
...]} or {"object": "module.Class", "fields": [[name, value], ...]}) and is written
{"ref": n} wherever it is used, so the JSON is never deeper than a few levels however long
the chains of blocks in the IR are (nesting each object at its first use made `kllvm build`
of a 1,000-line probe of `if` statements a RecursionError). Decoding is iterative for the
same reason. Other values are inline: JSON scalars stand for themselves; {"bytes": base64};
{"tuple": [...]}; {"enum": "module.Class", "value": v}.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import functools
import importlib
import re
import types
import typing
from collections import deque
from typing import Any

IR_MODULES = ("ir.ops", "frontend.types", "frontend.eventdef", "frontend.diagnostics")
# Bases that are never instances themselves: the interpreter has no case for them.
ABSTRACT = frozenset({"ir.ops.Op", "ir.ops.Terminator", "frontend.types.Type"})
MIN_INT = -(1 << 63)
MAX_INT = (1 << 64) - 1
MAX_STR = 1 << 20


class IRDecodeError(Exception):
    """The data is not an IR module written by `encode`."""


def encode(value: object) -> Any:
    return _Encoder().document(value)


def decode(data: Any, expected: object = None) -> Any:
    """The value `data` stands for, which must be of type `expected` (by default an
    `ops.Module`); every field is checked against its class's annotation."""
    return decode_with_instances(data, expected)[0]


def decode_with_instances(data: Any, expected: object = None) -> tuple[Any, list[object]]:
    """`decode`, and every dataclass instance it made (for checks over all of them)."""
    if expected is None:
        from ir import ops

        expected = ops.Module
    if not (type(data) is dict and _keys(data, "objects", "root")
            and type(data["objects"]) is list):
        raise IRDecodeError("not an encoded IR document")
    decoder = _Decoder(data["objects"])
    try:
        return decoder.document(data["root"], expected), decoder.instances
    except RecursionError:  # only inline tuples nest; a crafted one may nest deeply
        raise IRDecodeError("the IR is nested too deeply") from None


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Encoder:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[object] = []  # keeps encoded objects alive, so ids stay unique
        self.objects: list[Any] = []
        self.pending: deque[tuple[int, object]] = deque()

    def document(self, root: object) -> dict[str, Any]:
        encoded_root = self.value(root)
        while self.pending:  # breadth-first, so the order is a function of the module
            ident, value = self.pending.popleft()
            self.objects[ident] = self.entry(value)
        return {"objects": self.objects, "root": encoded_root}

    def value(self, value: object) -> Any:
        if isinstance(value, enum.Enum):  # first: a StrEnum is a str too
            return {"enum": _class_name(type(value)), "value": self.value(value.value)}
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, bytes):
            return {"bytes": base64.b64encode(value).decode()}
        if isinstance(value, tuple):
            return {"tuple": [self.value(v) for v in value]}
        seen = self.ids.get(id(value))
        if seen is not None:
            return {"ref": seen}
        if not (isinstance(value, (list, dict)) or
                (dataclasses.is_dataclass(value) and not isinstance(value, type))):
            raise TypeError(f"cannot encode a {type(value).__name__} in the IR")
        ident = self.ids[id(value)] = len(self.objects)
        self.keep.append(value)
        self.objects.append(None)  # filled when `pending` reaches it
        self.pending.append((ident, value))
        return {"ref": ident}

    def entry(self, value: object) -> dict[str, Any]:
        if isinstance(value, list):
            return {"list": [self.value(v) for v in value]}
        if isinstance(value, dict):
            return {"dict": [[self.value(k), self.value(v)] for k, v in value.items()]}
        return {"object": _class_name(type(value)),
                "fields": [[f.name, self.value(getattr(value, f.name))]
                           for f in dataclasses.fields(value)]}  # type: ignore[arg-type]


class _Decoder:
    """Builds the value `data` stands for and checks it against the type it must have:
    a field's annotation (from `typing.get_type_hints`), down through lists, dicts,
    tuples, unions and enums. An int is never a bool here, nor a bool an int.

    An entry of the object table is made (empty) when the first reference to it is
    decoded, as the type that reference expects, and filled later from a work list:
    decoding never recurses along references. Dicts are filled once every object is
    complete, since objects used as keys are hashed by their fields."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = entries
        # index -> (object, the type it was made as): a later reference must expect it.
        self.objects: dict[int, tuple[object, object]] = {}
        self.instances: list[object] = []  # every dataclass instance made, in order
        self.unfilled: deque[tuple[int, object, object]] = deque()
        self.dicts: list[tuple[int, dict[object, object], object]] = []

    def document(self, root: Any, expected: object) -> Any:
        value = self.decode(root, expected)
        while self.unfilled or self.dicts:
            while self.unfilled:
                self.fill(*self.unfilled.popleft())
            if not self.dicts:
                break
            ident, mapping, hint = self.dicts.pop()
            pairs = self.pairs(ident, hint)
            while self.unfilled:  # objects first met as keys or values of this dict
                self.fill(*self.unfilled.popleft())
            for key, item in pairs:
                try:
                    if key in mapping:
                        raise IRDecodeError(f"duplicate key {_shown(key)}")
                    mapping[key] = item
                except TypeError as e:  # a key that cannot be hashed
                    raise IRDecodeError(f"bad dict key: {e}") from None
        if len(self.objects) != len(self.entries):
            raise IRDecodeError("the object table holds entries nothing refers to")
        return value

    def decode(self, data: Any, hint: object) -> Any:
        alternatives = _alternatives(hint)
        if data is None:
            if type(None) in alternatives:
                return None
        elif type(data) is bool:
            if bool in alternatives:
                return data
        elif type(data) is int:
            if int in alternatives:
                if not MIN_INT <= data <= MAX_INT:
                    raise IRDecodeError(f"integer {data} is out of range")
                return data
        elif type(data) is str:
            if str in alternatives:
                if len(data) > MAX_STR:
                    raise IRDecodeError("a string of the IR is too long")
                return data
        elif type(data) is dict:
            return self.form(data, alternatives)
        raise IRDecodeError(f"expected {_describe(hint)}, found {_json_kind(data)}")

    def form(self, data: dict[str, Any], alternatives: tuple[object, ...]) -> Any:
        if _keys(data, "ref"):
            return self.reference(data["ref"], alternatives)
        if _keys(data, "bytes") and bytes in alternatives:
            text = data["bytes"]
            if type(text) is not str or len(text) > MAX_STR:
                raise IRDecodeError("bad byte string")
            try:
                return base64.b64decode(text, validate=True)
            except ValueError:
                raise IRDecodeError("bad byte string") from None
        if _keys(data, "tuple") and (hint := _generic(alternatives, tuple)) is not None:
            return self.tuple_(data["tuple"], hint)
        if _keys(data, "enum", "value"):
            cls = _ir_class(data["enum"])
            if cls not in alternatives or not issubclass(cls, enum.Enum):
                raise IRDecodeError(f"{data['enum']} is not expected here")
            value = data["value"]
            if type(value) not in (str, int):
                raise IRDecodeError(f"bad value of {data['enum']}")
            try:
                return cls(value)
            except ValueError:
                raise IRDecodeError(f"{_shown(value)} is not a {data['enum']}") from None
        raise IRDecodeError(f"expected {' or '.join(map(_describe, alternatives))}, "
                            f"found the form {sorted(data)!r}")

    def reference(self, ident: object, alternatives: tuple[object, ...]) -> object:
        if type(ident) is not int or not 0 <= ident < len(self.entries):
            raise IRDecodeError(f"dangling reference {_shown(ident)}")
        made = self.objects.get(ident)
        if made is None:
            return self.make(ident, alternatives)
        value, hint = made
        # A list or dict must be expected as exactly what it was made as; an object as
        # one of the classes it is an instance of.
        if hint in alternatives or any(
            dataclasses.is_dataclass(a) and isinstance(value, a)  # type: ignore[arg-type]
            for a in alternatives
        ):
            return value
        raise IRDecodeError(f"reference {ident} is to a {_describe(hint)}, expected "
                            f"{' or '.join(map(_describe, alternatives))}")

    def make(self, ident: int, alternatives: tuple[object, ...]) -> object:
        """The empty object of entry `ident`, as the type its first reference expects."""
        entry = self.entries[ident]
        if type(entry) is not dict:
            raise IRDecodeError(f"unexpected {_json_kind(entry)} in the object table")
        made: object
        if _keys(entry, "list") and (hint := _generic(alternatives, list)) is not None:
            made = []
        elif _keys(entry, "dict") and (hint := _generic(alternatives, dict)) is not None:
            made = {}
            self.dicts.append((ident, made, hint))
        elif _keys(entry, "object", "fields"):
            hint = cls = _ir_class(entry["object"])
            if (not dataclasses.is_dataclass(cls) or entry["object"] in ABSTRACT
                    or not any(isinstance(a, type) and issubclass(cls, a)
                               for a in alternatives)):
                raise IRDecodeError(f"{entry['object']} is not expected here")
            # Fields are set as they were, as unpickling would: no __init__ or
            # __post_init__ runs, and frozen classes are filled the same way.
            made = object.__new__(cls)
            self.instances.append(made)
        else:
            raise IRDecodeError(f"expected {' or '.join(map(_describe, alternatives))}, "
                                f"found the form {sorted(entry)!r}")
        self.objects[ident] = (made, hint)
        if not isinstance(made, dict):
            self.unfilled.append((ident, made, hint))
        return made

    def fill(self, ident: int, made: object, hint: object) -> None:
        entry = self.entries[ident]
        if isinstance(made, list):
            if type(entry["list"]) is not list:
                raise IRDecodeError("bad list")
            (item,) = typing.get_args(hint)
            made.extend(self.decode(v, item) for v in entry["list"])
            return
        # `make` built every other entry as an instance of an IR dataclass.
        assert dataclasses.is_dataclass(made) and not isinstance(made, type)
        hints = _field_types(type(made))
        fields = entry["fields"]
        if (type(fields) is not list
                or not all(type(f) is list and len(f) == 2 for f in fields)
                or [name for name, _ in fields] != list(hints)):
            raise IRDecodeError(f"{entry['object']} has fields {list(hints)}")
        for name, value in fields:
            object.__setattr__(made, name, self.decode(value, hints[name]))

    def pairs(self, ident: int, hint: object) -> list[tuple[object, object]]:
        pairs = self.entries[ident]["dict"]
        if type(pairs) is not list:
            raise IRDecodeError("bad dict")
        key_type, value_type = typing.get_args(hint)
        decoded = []
        for pair in pairs:
            if type(pair) is not list or len(pair) != 2:
                raise IRDecodeError("bad dict entry")
            decoded.append((self.decode(pair[0], key_type), self.decode(pair[1], value_type)))
        return decoded

    def tuple_(self, items: object, hint: object) -> tuple[object, ...]:
        if type(items) is not list:
            raise IRDecodeError("bad tuple")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(self.decode(v, args[0]) for v in items)
        if len(items) != len(args):
            raise IRDecodeError(f"expected a tuple of {len(args)}, found {len(items)}")
        return tuple(self.decode(v, a) for v, a in zip(items, args, strict=True))


def _keys(data: dict[str, Any], *names: str) -> bool:
    return len(data) == len(names) and all(n in data for n in names)


def _alternatives(hint: object) -> tuple[object, ...]:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _generic(alternatives: tuple[object, ...], origin: type) -> object | None:
    return next((a for a in alternatives if typing.get_origin(a) is origin), None)


def _describe(hint: object) -> str:
    if hint is type(None):
        return "null"
    return getattr(hint, "__name__", None) or str(hint)


def _json_kind(data: object) -> str:
    return {type(None): "null", bool: "a boolean", int: "an integer", str: "a string",
            list: "an array", dict: "an object", float: "a number"}.get(
                type(data), type(data).__name__)


@functools.cache
def _field_types(cls: type) -> dict[str, object]:
    """A dataclass's fields and their annotations, resolved, in field order."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _shown(value: object) -> str:
    """Input quoted in an error message: one short line, whatever the artifact holds."""
    if isinstance(value, str) and re.fullmatch(r"[\w.]{1,100}", value, re.ASCII):
        return value
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _ir_class(qualified: object) -> type:
    if not isinstance(qualified, str) or "." not in qualified:
        raise IRDecodeError(f"bad class name {_shown(qualified)}")
    module_name, _, name = qualified.rpartition(".")
    if module_name not in IR_MODULES:
        raise IRDecodeError(f"{_shown(qualified)} is not a class of the IR")
    cls = getattr(importlib.import_module(module_name), name, None)
    # Defined there, not imported: only the IR's own classes.
    if not isinstance(cls, type) or _class_name(cls) != qualified:
        raise IRDecodeError(f"{_shown(qualified)} is not a class of the IR")
    return cls
