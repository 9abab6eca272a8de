"""The typed IR as plain JSON data, for `kllvm build` artifacts.

Unlike a pickle, reading it cannot run code: it only makes instances of the IR's own
dataclasses and enums (from IR_MODULES), by setting their fields. Shared objects stay
shared (registers are compared by identity), and the encoding is a pure function of
the module, so the same script gives the same bytes.

The document is {"objects": [...], "root": value}. Every list, dict and dataclass instance
is one entry of the flat "objects" table — {"list": [...]}, {"dict": [[key, value], ...]} or
{"object": "module.Class", "fields": [[name, value], ...]} — and is written {"ref": n}
wherever it is used, so the JSON is never deeper than a few levels however long the chains of
blocks in the IR are (nesting each object at its first use made a 1,000-line probe of `if`
statements a RecursionError). Other values are inline: JSON scalars stand for themselves;
{"bytes": base64}; {"tuple": [...]}; {"enum": "module.Class", "value": v}.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
from collections import deque
from typing import Any

IR_MODULES = ("ir.ops", "frontend.types", "frontend.eventdef", "kllvm.diagnostics")


class IRDecodeError(Exception):
    """The data is not an IR module written by `encode`."""


def encode(value: object) -> Any:
    return _Encoder().document(value)


def decode(data: Any) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise IRDecodeError("not an encoded IR document")
    return _Decoder(data["objects"]).document(data.get("root"))


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
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, bytes):
            return {"bytes": base64.b64encode(value).decode()}
        if isinstance(value, tuple):
            return {"tuple": [self.value(v) for v in value]}
        if isinstance(value, enum.Enum):
            return {"enum": _class_name(type(value)), "value": self.value(value.value)}
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
    """Makes every object of the table empty first, then fills them: references may point
    forwards or back. Dicts are filled last, once the objects used as keys are complete."""

    def __init__(self, entries: list[Any]) -> None:
        self.entries = entries
        self.objects = [self.empty(entry) for entry in entries]

    def document(self, root: Any) -> Any:
        for entry, obj in zip(self.entries, self.objects, strict=True):
            if isinstance(obj, list):
                obj.extend(self.value(v) for v in _list(entry, "list"))
            elif not isinstance(obj, dict):
                self.fill(entry, obj)
        for entry, obj in zip(self.entries, self.objects, strict=True):
            if isinstance(obj, dict):
                for pair in _list(entry, "dict"):
                    if not (isinstance(pair, list) and len(pair) == 2):
                        raise IRDecodeError("a dict entry is not a [key, value] pair")
                    try:
                        obj[self.value(pair[0])] = self.value(pair[1])
                    except TypeError as e:  # an unhashable key
                        raise IRDecodeError(f"bad dict key: {e}") from None
        return self.value(root)

    @staticmethod
    def empty(entry: Any) -> object:
        if not isinstance(entry, dict):
            raise IRDecodeError(f"unexpected {type(entry).__name__} in the object table")
        if "list" in entry:
            return []
        if "dict" in entry:
            return {}
        if "object" in entry:
            cls = _ir_class(entry["object"])
            if not dataclasses.is_dataclass(cls):
                raise IRDecodeError(f"{entry['object']} is not a class of the IR")
            # Fields are set as they were, as unpickling would: no __init__ or
            # __post_init__ runs, and frozen classes are filled the same way.
            return object.__new__(cls)
        raise IRDecodeError(f"unknown form {sorted(entry)!r} in the object table")

    def fill(self, entry: dict[str, Any], instance: object) -> None:
        cls = type(instance)
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
        fields = _list(entry, "fields")
        if [pair[0] if isinstance(pair, list) and pair else None for pair in fields] != names \
                or any(len(pair) != 2 for pair in fields):
            raise IRDecodeError(f"{entry['object']} has fields {names}")
        for name, value in fields:
            object.__setattr__(instance, name, self.value(value))

    def value(self, data: Any) -> Any:
        if data is None or isinstance(data, (bool, int, str)):
            return data
        if not isinstance(data, dict):
            raise IRDecodeError(f"unexpected {type(data).__name__} in the IR")
        if "ref" in data:
            ref = data["ref"]
            if not (isinstance(ref, int) and not isinstance(ref, bool)
                    and 0 <= ref < len(self.objects)):
                raise IRDecodeError(f"dangling reference {ref!r}")
            return self.objects[ref]
        if "bytes" in data:
            return base64.b64decode(data["bytes"])
        if "tuple" in data:
            return tuple(self.value(v) for v in _list(data, "tuple"))
        if "enum" in data:
            cls = _ir_class(data["enum"])
            if not issubclass(cls, enum.Enum):
                raise IRDecodeError(f"{data['enum']} is not an enum of the IR")
            try:
                return cls(self.value(data["value"]))
            except (ValueError, KeyError):
                raise IRDecodeError(f"bad value of {data['enum']}") from None
        raise IRDecodeError(f"unknown form {sorted(data)!r} in the IR")


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise IRDecodeError(f"'{key}' is not a list")
    return value


def _ir_class(qualified: object) -> type:
    if not isinstance(qualified, str) or "." not in qualified:
        raise IRDecodeError(f"bad class name {qualified!r}")
    module_name, _, name = qualified.rpartition(".")
    if module_name not in IR_MODULES:
        raise IRDecodeError(f"{qualified} is not a class of the IR")
    cls = getattr(importlib.import_module(module_name), name, None)
    if not isinstance(cls, type):
        raise IRDecodeError(f"{qualified} is not a class of the IR")
    return cls
