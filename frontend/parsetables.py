"""ktap's LALR parser, loaded from plain-JSON tables generated from frontend/ktap.lark.

Building the LALR tables from the grammar costs ~100 ms of every start. lark's own cure,
`cache=True`, pickles them into the shared temporary folder under a name any local user can
compute, and unpickles that file at the next start: code execution as whoever runs kllvm (root).
So the tables are generated once, by `python -m frontend.parsetables`, into ktap.tables.json
next to the grammar (package data), and loaded with `json` — no pickle, no temporary file.

The file holds lark's own serialisation (`Lark.memo_serialize`). JSON has no int keys and no
tuples, so `_to_json`/`_from_json` convert those explicitly at the four places lark uses them.
The file also records the SHA-256 of the grammar it was made from: tables that do not match the
grammar next to them are never used (the parser is then built from the grammar, slowly but
correctly), and tests/frontend/test_parsetables.py fails until they are regenerated.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.grammar import Rule
from lark.lexer import TerminalDef

GRAMMAR_PATH = Path(__file__).with_name("ktap.lark")
TABLES_PATH = Path(__file__).with_name("ktap.tables.json")
# The options of the one parser kllvm uses; part of what the tables depend on.
_OPTIONS: dict[str, Any] = {"parser": "lalr", "lexer": "basic", "propagate_positions": True}
_FORMAT = 1


class TablesError(ValueError):
    """The tables file does not have the shape `generate` writes."""


def grammar_digest(grammar: str) -> str:
    key = json.dumps([grammar, _OPTIONS, lark.__version__], sort_keys=True)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def build(grammar: str) -> Lark:
    """The parser built from the grammar text (the slow way)."""
    return Lark(grammar, **_OPTIONS)


def generate(grammar: str) -> str:
    """The text of the tables file for `grammar`."""
    return serialize(build(grammar), grammar)


def serialize(parser: Lark, grammar: str) -> str:
    """The text of the tables file for `parser`, built from `grammar`."""
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    document = {
        "format": _FORMAT,
        "grammar_sha256": grammar_digest(grammar),
        "data": _to_json(data),
        "memo": {str(key): value for key, value in memo.items()},
    }
    return json.dumps(document, sort_keys=True, indent=0, separators=(",", ":")) + "\n"


def load() -> Lark:
    """The ktap parser: from the tables file when it matches the grammar, else built afresh."""
    grammar = GRAMMAR_PATH.read_text(encoding="utf-8")
    try:
        text = TABLES_PATH.read_text(encoding="utf-8")
    except FileNotFoundError:
        return build(grammar)
    document = json.loads(text)
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise TablesError(f"{TABLES_PATH}: unknown format")
    if document.get("grammar_sha256") != grammar_digest(grammar):
        return build(grammar)  # stale tables (the test suite says so): correct, just slower
    memo = _memo_from_json(document.get("memo"))
    # lark 1.3.1 leaves the classmethod unannotated; it returns the Lark instance.
    parser: Lark = Lark._load_from_dict(  # type: ignore[no-untyped-call]
        _from_json(document.get("data"), memo), memo
    )
    return parser


def _to_json(data: dict[str, Any]) -> dict[str, Any]:
    """lark's serialised parser with its int keys as strings and its action pairs as lists.

    lark numbers the LALR states in the order of a set's iteration, which changes with the
    string hash seed of the process; the states and tokens are renumbered here in an order
    that depends only on the automaton (tokens by name, states breadth-first from the start
    states), so that the same grammar always gives the same file.
    """
    table = data["parser"]["parser"]
    token_names: dict[int, str] = table["tokens"]
    token_index = {name: index for index, name in enumerate(sorted(token_names.values()))}
    states: dict[int, dict[int, tuple[int, Any]]] = table["states"]
    order = list(dict.fromkeys([*_sorted_values(table["start_states"]),
                                *_sorted_values(table["end_states"])]))
    number = {state: index for index, state in enumerate(order)}
    for state in order:  # grows while it is walked: a breadth-first numbering
        actions = sorted(states[state].items(), key=lambda item: token_names[item[0]])
        for _, (kind, target) in actions:
            if kind == 0 and target not in number:
                number[target] = len(order)
                order.append(target)
    if len(order) != len(states):
        raise TablesError("the LALR automaton has states unreachable from its start states")

    def action(kind: int, target: Any) -> list[Any]:
        return [kind, number[target] if kind == 0 else target]

    converted = {
        "tokens": {str(index): name for name, index in token_index.items()},
        "states": {
            str(number[state]): {
                str(token_index[token_names[token]]): action(*pair)
                for token, pair in actions.items()
            }
            for state, actions in states.items()
        },
        "start_states": {name: number[state] for name, state in table["start_states"].items()},
        "end_states": {name: number[state] for name, state in table["end_states"].items()},
    }
    return {**data, "parser": {**data["parser"], "parser": converted}}


def _sorted_values(states: dict[str, int]) -> list[int]:
    return [states[name] for name in sorted(states)]


def _from_json(data: Any, memo: dict[int, Any]) -> dict[str, Any]:
    """The inverse of `_to_json`, checking everything it converts: each action must name a
    known token and a known state (shift) or rule (reduce)."""
    parser = _dict(_dict(data, "data").get("parser"), "data.parser")
    table = _dict(parser.get("parser"), "data.parser.parser")
    token_table = _dict(table.get("tokens"), "tokens")
    tokens = {_int(index): _str(name) for index, name in token_table.items()}
    raw_states = _dict(table.get("states"), "states")
    state_ids = {_int(state) for state in raw_states}
    token_id = {str(index): index for index in tokens}
    states: dict[int, dict[int, tuple[int, Any]]] = {}
    for state, actions in raw_states.items():
        converted: dict[int, tuple[int, Any]] = {}
        for token, action in _dict(actions, "state").items():
            match action:
                case [0, int() as target] if target in state_ids:
                    pass
                case [1, {"@": int() as rule} as target] if rule in memo and len(target) == 1:
                    pass
                case _:
                    raise TablesError(f"{TABLES_PATH}: bad parser action {action!r}")
            if token not in token_id:
                raise TablesError(f"{TABLES_PATH}: action on an unknown token {token!r}")
            converted[token_id[token]] = (action[0], target)
        states[int(state)] = converted
    for where in ("start_states", "end_states"):
        for name, state in _dict(table.get(where), where).items():
            if not isinstance(name, str) or state not in states:
                raise TablesError(f"{TABLES_PATH}: bad {where}")
    converted_table = {**table, "tokens": tokens, "states": states}
    return {**data, "parser": {**parser, "parser": converted_table}}


def _memo_from_json(memo: Any) -> dict[int, Any]:
    """lark's table of shared rules and terminals, keyed by int again."""
    entries = {_int(key): _dict(value, "memo entry") for key, value in _dict(memo, "memo").items()}
    for entry in entries.values():
        if entry.get("__type__") not in ("Rule", "TerminalDef"):
            raise TablesError(f"{TABLES_PATH}: memo entry of unknown type")
    return entries


def _dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TablesError(f"{TABLES_PATH}: {what} is not an object")
    return value


def _int(text: str) -> int:
    if not (text.isascii() and text.isdecimal()):
        raise TablesError(f"{TABLES_PATH}: {text!r} is not an index")
    return int(text)


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TablesError(f"{TABLES_PATH}: {value!r} is not a name")
    return value


def main() -> None:
    """`python -m frontend.parsetables`: regenerate the tables file from the grammar."""
    TABLES_PATH.write_text(generate(GRAMMAR_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {TABLES_PATH}")


if __name__ == "__main__":
    main()
