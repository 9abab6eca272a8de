"""The typed IR as plain JSON data, for `kllvm build` artifacts.

Unlike a pickle, reading it cannot run code: it only makes instances of the IR's own
dataclasses and enums (from IR_MODULES), by setting their fields. Shared objects stay
shared (registers are compared by identity), and the encoding is a pure function of
the module, so the same script gives the same bytes.

Forms: JSON scalars stand for themselves; {"bytes": base64}; {"tuple": [...]};
{"enum": "module.Class", "value": v}; and, for objects that may be shared,
{"id": n, "list": [...]}, {"id": n, "dict": [[key, value], ...]},
{"id": n, "object": "module.Class", "fields": [[name, value], ...]}, then {"ref": n}
for each later use.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import importlib
from typing import Any

IR_MODULES = ("ir.ops", "frontend.types", "frontend.eventdef", "kllvm.diagnostics")


class IRDecodeError(Exception):
    """The data is not an IR module written by `encode`."""


def encode(value: object) -> Any:
    return _Encoder().encode(value)


def decode(data: Any) -> Any:
    return _Decoder().decode(data)


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class _Encoder:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.keep: list[object] = []  # keeps encoded objects alive, so ids stay unique

    def encode(self, value: object) -> Any:
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, bytes):
            return {"bytes": base64.b64encode(value).decode()}
        if isinstance(value, tuple):
            return {"tuple": [self.encode(v) for v in value]}
        if isinstance(value, enum.Enum):
            return {"enum": _class_name(type(value)), "value": self.encode(value.value)}
        seen = self.ids.get(id(value))
        if seen is not None:
            return {"ref": seen}
        ident = self.ids[id(value)] = len(self.ids)
        self.keep.append(value)
        if isinstance(value, list):
            return {"id": ident, "list": [self.encode(v) for v in value]}
        if isinstance(value, dict):
            return {"id": ident, "dict": [[self.encode(k), self.encode(v)]
                                          for k, v in value.items()]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {"id": ident, "object": _class_name(type(value)),
                    # Pairs, not an object: a reference must come after its
                    # definition, whatever order a JSON writer puts keys in.
                    "fields": [[f.name, self.encode(getattr(value, f.name))]
                               for f in dataclasses.fields(value)]}
        raise TypeError(f"cannot encode a {type(value).__name__} in the IR")


class _Decoder:
    def __init__(self) -> None:
        self.objects: dict[int, object] = {}

    def decode(self, data: Any) -> Any:
        if data is None or isinstance(data, (bool, int, str)):
            return data
        if not isinstance(data, dict):
            raise IRDecodeError(f"unexpected {type(data).__name__} in the IR")
        if "ref" in data:
            try:
                return self.objects[data["ref"]]
            except (KeyError, TypeError):
                raise IRDecodeError(f"dangling reference {data['ref']!r}") from None
        if "bytes" in data:
            return base64.b64decode(data["bytes"])
        if "tuple" in data:
            return tuple(self.decode(v) for v in data["tuple"])
        if "enum" in data:
            cls = _ir_class(data["enum"])
            if not issubclass(cls, enum.Enum):
                raise IRDecodeError(f"{data['enum']} is not an enum of the IR")
            return cls(self.decode(data["value"]))
        ident = data.get("id")
        if "list" in data:
            items: list[object] = []
            self.objects[ident] = items  # registered first: contents may refer back
            items.extend(self.decode(v) for v in data["list"])
            return items
        if "dict" in data:
            mapping: dict[object, object] = {}
            self.objects[ident] = mapping
            for key, value in data["dict"]:
                mapping[self.decode(key)] = self.decode(value)
            return mapping
        if "object" in data:
            return self._object(ident, data)
        raise IRDecodeError(f"unknown form {sorted(data)!r} in the IR")

    def _object(self, ident: int, data: dict[str, Any]) -> object:
        cls = _ir_class(data["object"])
        if not dataclasses.is_dataclass(cls):
            raise IRDecodeError(f"{data['object']} is not a class of the IR")
        # Fields are set as they were, as unpickling would: no __init__ or
        # __post_init__ runs, and frozen classes are filled the same way.
        instance = object.__new__(cls)
        self.objects[ident] = instance
        names = [f.name for f in dataclasses.fields(cls)]
        fields = data["fields"]
        if [name for name, _ in fields] != names:
            raise IRDecodeError(f"{data['object']} has fields {names}")
        for name, value in fields:
            object.__setattr__(instance, name, self.decode(value))
        return instance


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
