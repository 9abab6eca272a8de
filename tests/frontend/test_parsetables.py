"""The LALR tables shipped as frontend/ktap.tables.json: current, faithful, and checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from frontend import parsetables
from frontend.parsetables import TablesError

GRAMMAR = parsetables.GRAMMAR_PATH.read_text(encoding="utf-8")


def test_committed_tables_match_the_grammar() -> None:
    # A grammar change without `python -m frontend.parsetables` fails here.
    assert parsetables.TABLES_PATH.read_text(encoding="utf-8") == parsetables.generate(GRAMMAR)


def test_loaded_parser_is_the_one_built_from_the_grammar() -> None:
    loaded = parsetables.load()
    assert parsetables.serialize(loaded, GRAMMAR) == parsetables.TABLES_PATH.read_text("utf-8")
    tree = loaded.parse_interactive()
    assert "TRACE_END" in tree.accepts()


def _with_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    tables = tmp_path / "ktap.tables.json"
    tables.write_text(text, encoding="utf-8")
    monkeypatch.setattr(parsetables, "TABLES_PATH", tables)


def test_stale_tables_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    document = json.loads(parsetables.TABLES_PATH.read_text("utf-8"))
    document["grammar_sha256"] = "0" * 64
    document["data"] = "not even tables"  # would be a TablesError if it were read
    _with_tables(tmp_path, monkeypatch, json.dumps(document))
    assert parsetables.serialize(parsetables.load(), GRAMMAR) == parsetables.generate(GRAMMAR)


def _corrupt(path: list[str | int], value: object) -> str:
    document = json.loads(parsetables.TABLES_PATH.read_text("utf-8"))
    node = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return json.dumps(document)


TABLE = ["data", "parser", "parser"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["format"], 99, "unknown format"),
        (["memo"], [], "memo is not an object"),
        (["memo", "0", "__type__"], "Lark", "memo entry of unknown type"),
        ([*TABLE, "tokens"], [], "tokens is not an object"),
        ([*TABLE, "tokens", "0"], 5, "is not a name"),
        ([*TABLE, "states", "x"], {"0": [0, 1]}, "'x' is not an index"),
        ([*TABLE, "states", "0"], {"x": [0, 1]}, "action on an unknown token 'x'"),
        ([*TABLE, "states", "0"], {"99999": [0, 1]}, "action on an unknown token '99999'"),
        ([*TABLE, "states", "0"], {"0": [2, 1]}, "bad parser action"),
        ([*TABLE, "states", "0"], {"0": [0, "1"]}, "bad parser action"),
        ([*TABLE, "states", "0"], {"0": [0, 1, 2]}, "bad parser action"),
        ([*TABLE, "states", "0"], {"0": [0, 99999]}, "bad parser action"),
        ([*TABLE, "states", "0"], {"0": [1, {"@": 99999}]}, "bad parser action"),
        ([*TABLE, "states", "0"], {"0": [1, {"@": 1, "__type__": "Lark"}]}, "bad parser action"),
        ([*TABLE, "start_states", "start"], 99999, "bad start_states"),
    ],
)
def test_malformed_tables_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: list[str | int], value: object,
    message: str,
) -> None:
    _with_tables(tmp_path, monkeypatch, _corrupt(path, value))
    with pytest.raises(TablesError, match=message):
        parsetables.load()
