"""backend.irjson: the artifact's IR form round-trips every program, shares what the IR
shares, and refuses anything that is not the IR's own classes."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from backend import irjson, tracefs
from frontend.diagnostics import CompileError, Source
from frontend.eventdef import FilterAnd
from ir import ops
from ir.printer import print_module
from kllvm import driver
from tests.programs.kpt import all_cases
from tests.sample_tapsets import SAMPLE_TAPSETS

ROOT = Path(__file__).resolve().parents[2]

SOURCES = [(f"samples/{p.name}", p.read_text()) for p in sorted((ROOT / "samples").glob("*.kp"))]
# The cases that compile (a run-time failure still exits 1; a compile error has no IR).
SOURCES += [(case.id, case.source) for case in all_cases()
            if case.exit == 0 or b"error" not in (case.expected("stderr") or b"")]


def compiled(name: str, text: str) -> ops.Module | None:
    """The IR `kllvm build` would store: argN typed from the live tracepoint formats."""
    if os.geteuid() == 0:
        tracefs.ensure_tracefs()
    try:
        return driver.compile_typed(Source(name, text), tapset_path=SAMPLE_TAPSETS)[0].module
    except CompileError:
        return None


def round_trip(module: ops.Module) -> ops.Module:
    # Through JSON text with sorted keys, as the artifact writes it.
    text = json.dumps(irjson.encode(module), sort_keys=True)
    return irjson.decode(json.loads(text))


@pytest.mark.parametrize(("name", "text"), SOURCES, ids=[n for n, _ in SOURCES])
def test_round_trip_prints_the_same_ir(name: str, text: str) -> None:
    module = compiled(name, text)
    assert module is not None
    again = round_trip(module)
    assert print_module(again) == print_module(module)
    assert irjson.encode(again) == irjson.encode(module)


def test_enough_programs_compile() -> None:
    assert sum(compiled(n, t) is not None for n, t in SOURCES) >= 80


def register_uses(module: ops.Module) -> dict[str, tuple[int, int]]:
    """Register name -> (uses in the main function's ops, distinct objects)."""
    uses: dict[str, list[int]] = {}
    for block in module.functions[module.main].blocks:
        for op in block.ops:
            for value in vars(op).values():
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, ops.Register):
                        uses.setdefault(v.name, []).append(id(v))
    return {name: (len(ids), len(set(ids))) for name, ids in uses.items()}


def test_shared_registers_stay_shared() -> None:
    module = compiled("t.kp", "var a = 1\nvar b = a + 2\nprint(b, b)\n")
    assert module is not None
    before, after = register_uses(module), register_uses(round_trip(module))
    assert after == before
    assert any(count > 1 and objects == 1 for count, objects in after.values())


def test_long_block_chains_stay_flat() -> None:
    # 1,500 `if` statements in a row: a chain of blocks each reached from the one before.
    module = compiled("t.kp", "var n = 0\n" + "if (n) { n = 1 }\n" * 1500 + "print(n)\n")
    assert module is not None
    encoded = irjson.encode(module)
    assert max_depth(encoded) < 20
    again = irjson.decode(json.loads(json.dumps(encoded)))
    assert print_module(again) == print_module(module)


def max_depth(data: object) -> int:
    depth, level = 0, [data]
    while level:
        depth += 1
        level = [v for item in level if isinstance(item, (list, dict))
                 for v in (item.values() if isinstance(item, dict) else item)]
    return depth


def document(*objects: object, root: object = None) -> dict[str, object]:
    return {"objects": list(objects), "root": {"ref": 0} if root is None else root}


@pytest.mark.parametrize("bad", [
    document({"object": "os.system", "fields": []}),
    document({"object": "subprocess.Popen", "fields": []}),
    document(root={"enum": "ir.ops.Module", "value": 1}),
    document(root={"enum": "ir.ops.Placement", "value": "nowhere"}),
    document({"object": "ir.ops.Register", "fields": [["name", "x"]]}),
    document({"list": []}, root={"ref": 3}),
    document({"list": [{"ref": -1}]}),
    document({"list": [{"ref": True}]}),
    document({"dict": [[{"ref": 1}, 1]]}, {"list": []}),  # a list as a key
    document({"dict": [[1]]}),
    document({"pickle": "gASV"}),
    document([1, 2]),
    {"objects": {}, "root": None},
    {"pickle": "gASV"},
    [1, 2],
])
def test_refuses_what_is_not_the_ir(bad: object) -> None:
    with pytest.raises(irjson.IRDecodeError):
        irjson.decode(bad)


def mutated(change: Callable[[dict[str, Any]], None]) -> Any:
    """A small real module's JSON form, changed."""
    module = compiled("t.kp", "var a = 1\nvar b = a + 2\nprint(b, b)\n")
    assert module is not None
    data = json.loads(json.dumps(irjson.encode(module)))
    change(data)
    return data


def first(node: Any, cls: str) -> dict[str, Any]:
    """The first IR object of class `cls` in a JSON form, depth first."""
    if isinstance(node, dict):
        if node.get("object") == cls:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for value in node:
            found = first(value, cls)
            if found:
                return found
    return {}


# Where entries that `setter` adds to the object table start: {"ref": NEW} is the first.
NEW = 10_000


def setter(cls: str, name: str, value: object,
           *entries: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        if entries:
            objects = data["objects"]
            assert len(objects) <= NEW
            # Unreferenced padding is itself refused, so the test names the check it means.
            objects += [objects[-1]] * (NEW - len(objects)) + list(entries)
        for pair in first(data, cls)["fields"]:
            if pair[0] == name:
                pair[1] = value

    return change


@pytest.mark.parametrize(("change", "message"), [
    (setter("ir.ops.Arith", "error", True), "expected int, found a boolean"),
    (setter("ir.ops.Arith", "error", "0]; import os"), "expected int, found a string"),
    (setter("ir.ops.Arith", "error", 1 << 64), "out of range"),
    (setter("ir.ops.Const", "value", 1.5), "found a number"),
    (setter("ir.ops.Arith", "op", ["+"]), "expected str, found an array"),
    (setter("ir.ops.Arith", "dest", {"ref": 1}), "reference 1 is to a"),
    (setter("ir.ops.Function", "placement",
            {"enum": "ir.ops.Placement", "value": "elsewhere"}), "is not a ir.ops.Placement"),
    (setter("ir.ops.Function", "placement",
            {"enum": "frontend.types.IntT", "value": 1}), "is not expected here"),
    (setter("ir.ops.BasicBlock", "ops", {"ref": NEW},
            {"list": [{"ref": NEW + 1}]}, {"object": "ir.ops.Op", "fields": [["span", None]]}),
     "ir.ops.Op is not expected"),
    (setter("ir.ops.Register", "type", {"ref": NEW}, {"object": "ir.ops.Jump", "fields": []}),
     "ir.ops.Jump is not expected"),
    (setter("ir.ops.Module", "main", {"ref": NEW}, {"object": "ir.ops.Jump", "fields": []}),
     "ir.ops.Jump is not expected here"),
])
def test_fields_are_checked_against_their_annotations(
        change: Callable[[dict[str, Any]], None], message: str) -> None:
    with pytest.raises(irjson.IRDecodeError, match=re.escape(message)):
        irjson.decode(mutated(change))


def test_long_chains_of_references_decode_without_recursion() -> None:
    span = {"object": "frontend.diagnostics.Span",
            "fields": [["line", 1], ["col", 1], ["end_line", 1], ["end_col", 2], ["file", ""]]}
    leaf = {"object": "frontend.eventdef.FilterCompare",
            "fields": [["field", "pid"], ["op", "=="], ["value", 1], ["span", {"ref": 0}]]}
    objects: list[Any] = [span, leaf]
    for ident in range(2, 100_000):
        objects.append({"object": "frontend.eventdef.FilterAnd",
                        "fields": [["left", {"ref": ident - 1}], ["right", {"ref": 1}],
                                   ["span", {"ref": 0}]]})
    decoded = irjson.decode({"objects": objects, "root": {"ref": len(objects) - 1}}, FilterAnd)
    depth = 0
    while isinstance(decoded, FilterAnd):
        decoded, depth = decoded.left, depth + 1
    assert depth == 100_000 - 2


def test_deeply_nested_inline_values_are_an_error_not_a_crash() -> None:
    data: Any = 1
    for _ in range(100_000):
        data = {"tuple": [data]}
    with pytest.raises(irjson.IRDecodeError):
        irjson.decode({"objects": [], "root": data}, tuple[object, ...])
