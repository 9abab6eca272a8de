"""Crafted and damaged artifacts: `kllvm run` refuses them with a clear error before
anything of them is used, and what they carry never runs as code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.artifact import digest_of

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """var n = 0
var counts = {}
trace syscalls:sys_enter_getpid { n += 1; counts[pid] += 1 }
trace_end { printf("n=%d\\n", n) }
"""


def kllvm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("built")
    script, artifact = folder / "count.kp", folder / "count.kpo"
    script.write_text(SCRIPT)
    done = kllvm("build", str(script), "-o", str(artifact))
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(artifact.read_text())
    return document


def objects(node: object, cls: str) -> Iterator[dict[str, Any]]:
    """Every IR object of class `cls` in the module's JSON form."""
    if isinstance(node, dict):
        if node.get("object") == cls:
            yield node
        for value in node.values():
            yield from objects(value, cls)
    elif isinstance(node, list):
        for value in node:
            yield from objects(value, cls)


def set_field(node: dict[str, Any], name: str, value: object) -> None:
    for pair in node["fields"]:
        if pair[0] == name:
            pair[1] = value
            return
    raise KeyError(name)


def run_crafted(tmp_path: Path, built: dict[str, Any], craft: Callable[[dict[str, Any]], None],
                *, redigest: bool = True) -> subprocess.CompletedProcess[str]:
    document = json.loads(json.dumps(built))
    craft(document)
    if redigest:
        document["digest"] = digest_of(document)
    path = tmp_path / "crafted.kpo"
    path.write_text(json.dumps(document, indent=1))
    return kllvm("run", "-d", "0", str(path))


def refused(done: subprocess.CompletedProcess[str], tmp_path: Path, reason: str) -> None:
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == f"kllvm: error: {tmp_path / 'crafted.kpo'}: damaged artifact: {reason}\n"


def payload(marker: Path) -> str:
    return f"b0\n__import__('os').system('touch {marker}')\n#"


def test_a_label_that_would_run_code_is_refused(tmp_path: Path, built: dict[str, Any]) -> None:
    marker = tmp_path / "ran"

    def craft(document: dict[str, Any]) -> None:
        for block in objects(document["module"], "ir.ops.BasicBlock"):
            set_field(block, "label", payload(marker))

    done = run_crafted(tmp_path, built, craft)
    refused(done, tmp_path, f"BasicBlock name {payload(marker)[:40]!r} is not a name")
    assert not marker.exists()


def test_an_error_index_that_would_run_code_is_refused(tmp_path: Path,
                                                       built: dict[str, Any]) -> None:
    marker = tmp_path / "ran"

    def craft(document: dict[str, Any]) -> None:
        for op in objects(document["module"], "ir.ops.AddCell"):
            set_field(op, "error", f"0] or __import__('os').system('touch {marker}') or S[0")

    done = run_crafted(tmp_path, built, craft)
    refused(done, tmp_path, "expected int, found a string")
    assert not marker.exists()


def test_a_class_outside_the_ir_is_refused(tmp_path: Path, built: dict[str, Any]) -> None:
    marker = tmp_path / "ran"

    def craft(document: dict[str, Any]) -> None:
        document["module"] = {"objects": [{"object": "os.system",
                                           "fields": [["command", f"touch {marker}"]]}],
                              "root": {"ref": 0}}

    done = run_crafted(tmp_path, built, craft)
    refused(done, tmp_path, "os.system is not a class of the IR")
    assert not marker.exists()


def test_damage_is_caught_by_the_digest(tmp_path: Path, built: dict[str, Any]) -> None:
    def craft(document: dict[str, Any]) -> None:
        document["script"]["text"] += " "

    done = run_crafted(tmp_path, built, craft, redigest=False)
    refused(done, tmp_path, "its digest does not match its contents")


def test_counter_slots_naming_the_bss_are_refused(tmp_path: Path,
                                                  built: dict[str, Any]) -> None:
    # This once made libbpf resize `.bss` and unmap the wrong size (a segfault).
    def craft(document: dict[str, Any]) -> None:
        (table,) = [t for t in document["manifest"]["tables"] if t["slots"]]
        table["slots"] = ".bss"

    refused(run_crafted(tmp_path, built, craft), tmp_path, "map '.bss' is not a name")


def test_map_sizes_must_match_the_object(tmp_path: Path, built: dict[str, Any]) -> None:
    def craft(document: dict[str, Any]) -> None:
        document["manifest"]["tables"][0]["capacity"] = 10

    done = run_crafted(tmp_path, built, craft)
    assert done.returncode == 1
    assert "damaged artifact: map t0_counts is not the manifest's" in done.stderr


def test_an_older_format_is_refused(tmp_path: Path, built: dict[str, Any]) -> None:
    def craft(document: dict[str, Any]) -> None:
        document["version"] = 2

    done = run_crafted(tmp_path, built, craft)
    assert (done.returncode, done.stderr) == (
        1, f"kllvm: error: {tmp_path / 'crafted.kpo'}: "
           "not a kllvm artifact of this version; rebuild it\n")


def test_the_banner_says_what_will_be_attached(tmp_path: Path, built: dict[str, Any]) -> None:
    done = run_crafted(tmp_path, built, lambda document: None)
    assert done.returncode == 0, done.stderr
    script = built["script"]["name"]
    assert done.stdout == (
        f"kllvm: artifact of {script} (runs as root): may attach 1 program (p0_0) to "
        "1 event (syscalls:sys_enter_getpid), with 3 maps (kllvm_events, t0_counts, "
        "c0_t0_counts).\nAttaching 1 probe to 1 event...\nTracing... Hit Ctrl-C to end.\nn=0\n")
