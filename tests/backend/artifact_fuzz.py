"""Mutates built artifacts and reads each with `Artifact.loads`, in this process; run by
test_artifact_fuzz.py as a child, so that a crash (of libbpf, say) is seen as one.

    python artifact_fuzz.py --seed N --count N --out DIR ARTIFACT...

Prints one JSON line per mutation: what was changed, whether the digest was recomputed
(so that the field checks, not the digest, must catch it), and the outcome: `loaded`,
`refused` (an ArtifactError, with its message) or `internal` (anything else, with the
traceback). Loaded mutants, and a sample of refused ones, are written to DIR for the
parent to run. The mutations are
a pure function of the seed.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import random
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backend.artifact import Artifact, ArtifactError, digest_of

Path_ = tuple[str | int, ...]
SAMPLE_REFUSED = 40  # every 40th refused mutant is also written out, for the CLI

ODD_VALUES: list[object] = [
    None, True, False, 0, -1, 1, 7, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30,
    1.5, "", "x", ".bss", "kllvm.bss", "kllvm_events", "a\nb", "0]; x(", "\0", "é" * 3,
    [], [1], {}, {"ref": 0}, {"ref": 10**6}, {"bytes": "!!"}, {"tuple": []},
    {"enum": "ir.ops.Placement", "value": "nowhere"},
    {"id": 10**6, "object": "ir.ops.Op", "fields": []},
    {"id": 10**6, "object": "builtins.eval", "fields": []},
]


def nodes(node: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from nodes(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nodes(value, (*path, index))


def get(document: Any, path: Path_) -> Any:
    for step in path:
        document = document[step]
    return document


def put(document: Any, path: Path_, value: Any) -> None:
    get(document, path[:-1])[path[-1]] = value


def mutate(rng: random.Random, document: dict[str, Any], redigest: bool) -> str:
    """Changes the document in place; returns what it did. The digest is left alone
    when it will be recomputed."""
    everything = list(nodes(document))
    # The parts by weight, not by size: the module has most of the nodes, but the
    # manifest and the object are where the runtime and libbpf trust the artifact.
    part = rng.choices(["module", "manifest", "object", "rest"], [40, 40, 12, 8])[0]
    if part == "object":
        return mutate_object(rng, document)
    if part == "rest":
        skip = ("module", "manifest", "digest") if redigest else ("module", "manifest")
        candidates = [(p, n) for p, n in everything[1:] if p[0] not in skip]
    else:
        candidates = [(p, n) for p, n in everything if p[:1] == (part,) and len(p) > 1]
    path, node = rng.choice(candidates)
    kind = rng.randrange(6)
    if kind == 0:
        value = copy.deepcopy(rng.choice(ODD_VALUES))
        put(document, path, value)
        return f"{path}: replaced by {value!r}"[:200]
    if kind == 1 and type(node) is int:
        value = rng.choice([node + 1, node - 1, 0, -node, node * 2, node + 2**32, 2**64 - 1])
        put(document, path, value)
        return f"{path}: {node} -> {value}"
    if kind == 2 and type(node) is str:
        strings = [n for _, n in everything if type(n) is str and len(n) < 80]
        value = rng.choice([node + "\n", node[: len(node) // 2], node.upper(), node + "x",
                            rng.choice(strings)])
        put(document, path, value)
        return f"{path}: {node[:40]!r} -> {value[:40]!r}"
    if kind == 3 and isinstance(node, dict) and node:
        key = rng.choice(sorted(node))
        del node[key]
        return f"{path}: key {key!r} deleted"
    if kind == 4 and isinstance(node, list) and node:
        index = rng.randrange(len(node))
        action = rng.randrange(3)
        if action == 0:
            del node[index]
        elif action == 1:
            node.insert(index, copy.deepcopy(node[index]))
        else:
            other = rng.randrange(len(node))
            node[index], node[other] = node[other], node[index]
        return f"{path}: list item {index} {('deleted', 'repeated', 'swapped')[action]}"
    if kind == 5:
        refs = [p for p, n in everything if isinstance(n, dict) and "ref" in n]
        module = document.get("module")
        table = module.get("objects") if isinstance(module, dict) else None
        ids = list(range(len(table))) if isinstance(table, list) else []
        if refs and ids:
            where = rng.choice(refs)
            value = rng.choice(ids)
            get(document, where)["ref"] = value
            return f"{where}: ref -> {value}"
    # The chosen kind does not fit the node: move a value of the document here.
    value = copy.deepcopy(rng.choice(everything)[1])
    put(document, path, value)
    return f"{path}: replaced by another part of the document"


def mutate_object(rng: random.Random, document: dict[str, Any]) -> str:
    """Damages the ELF object's bytes."""
    image = bytearray(base64.b64decode(document["object"]))
    action = rng.randrange(3)
    if action == 0:
        for _ in range(rng.randint(1, 8)):
            image[rng.randrange(len(image))] = rng.randrange(256)
        what = "bytes overwritten"
    elif action == 1:
        del image[rng.randrange(len(image)):]
        what = "truncated"
    else:
        at = rng.randrange(len(image))
        image[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        what = "bytes inserted"
    document["object"] = base64.b64encode(bytes(image)).decode()
    return f"object: {what}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("artifacts", nargs="+", type=Path)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    originals = [json.loads(path.read_text()) for path in args.artifacts]
    for index in range(args.count):
        document = copy.deepcopy(rng.choice(originals))
        # Mostly with the digest recomputed: the field checks must catch those.
        redigest = rng.random() < 0.75
        change = mutate(rng, document, redigest)
        if redigest:
            document["digest"] = digest_of(document)
        text = json.dumps(document)
        print(json.dumps({"index": index, "change": change, "redigest": redigest}), flush=True)
        result: dict[str, object] = {"index": index}
        try:
            Artifact.loads(text)
        except ArtifactError as e:
            result.update(outcome="refused", detail=str(e))
            if index % SAMPLE_REFUSED == 0:
                result["path"] = str(args.out / f"refused{index}.kpo")
                Path(str(result["path"])).write_text(text)
        except BaseException:  # noqa: BLE001 - what the fuzz is looking for
            result.update(outcome="internal", detail=traceback.format_exc())
        else:
            path = args.out / f"mutant{index}.kpo"
            path.write_text(text)
            result.update(outcome="loaded", detail=str(path))
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
