"""Mutated artifacts never make kllvm fail inside: every mutation is refused with a clear
`damaged artifact` error, or is a sound artifact that runs. The mutations come from a
fixed seed (tests/backend/artifact_fuzz.py); most recompute the digest, so the field
and object checks are exercised, not only the digest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("artifact_fuzz.py")
SEED = 20261205
MUTATIONS = 600
PARALLEL_RUNS = 4  # loaded mutants also run live (`-d 0`: load, run main, attach, stop)
SCRIPTS = {
    "counts.kp": """var n = 0
var names = {}
var counts = {}
trace syscalls:sys_enter_getpid { n += 1; names[execname] = 1; counts[pid] += 1;
                                  print(argstr) }
tick-1s { print(n) }
trace_end { print_hist(names) }
""",
    "closures.kp": """var t = {}
var last = "none"
function label(s) { return "<" .. s .. ">" }
trace syscalls:sys_enter_getppid { printf("%d %s\\n", pid, execname); t[execname] += 1
                                   last = execname }
tick-1s { for (k, v in pairs(t)) { print(label(k), v) } }
trace_end { print(label(last)); print_hist(t) }
""",
}


def kllvm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("fuzz")
    artifacts = []
    for name, text in SCRIPTS.items():
        script = folder / name
        script.write_text(text)
        artifact = script.with_suffix(".kpo")
        done = kllvm("build", str(script), "-o", str(artifact))
        assert done.returncode == 0, done.stderr
        artifacts.append(str(artifact))
    mutants = folder / "mutants"
    mutants.mkdir()
    done = subprocess.run(
        [sys.executable, str(WORKER), "--seed", str(SEED), "--count", str(MUTATIONS),
         "--out", str(mutants), *artifacts],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    # A crash (a signal: a negative status) names the mutation it happened in.
    assert done.returncode == 0, (done.returncode, lines[-1:], done.stderr[-2000:])
    changes = {line["index"]: line for line in lines if "change" in line}
    results = [{**changes[line["index"]], **line} for line in lines if "outcome" in line]
    assert len(results) == MUTATIONS
    return results


def test_no_mutation_is_an_internal_error(fuzzed: list[dict[str, Any]]) -> None:
    internal = [r for r in fuzzed if r["outcome"] == "internal"]
    assert not internal, internal[:3]
    for result in fuzzed:
        if result["outcome"] == "refused":
            detail = result["detail"]
            assert detail.startswith(("damaged artifact", "not a kllvm artifact")), detail
            assert "\n" not in detail and len(detail) < 400, detail  # one short line


def test_the_checks_not_only_the_digest_refuse(fuzzed: list[dict[str, Any]]) -> None:
    refused = [r for r in fuzzed if r["outcome"] == "refused"]
    by_digest = [r for r in refused if "digest does not match" in r["detail"]]
    assert all(not r["redigest"] for r in by_digest)
    by_checks = [r for r in refused if r["redigest"]]
    assert len(by_digest) >= 100 and len(by_checks) >= 300
    assert sum("BPF object" in r["detail"] for r in by_checks) >= 20  # object damage
    assert sum(r["change"].startswith("('manifest'") for r in by_checks) >= 100


def test_loaded_mutants_run_without_internal_errors(fuzzed: list[dict[str, Any]]) -> None:
    loaded = [r for r in fuzzed if r["outcome"] == "loaded"]
    assert len(loaded) >= 20
    # All of them, a few at a time: each run loads the object and attaches.
    for start in range(0, len(loaded), PARALLEL_RUNS):
        batch = loaded[start:start + PARALLEL_RUNS]
        runs = [subprocess.Popen([sys.executable, "-m", "kllvm", "run", "-q", "-d", "0",
                                  r["detail"]], cwd=ROOT, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, text=True) for r in batch]
        for result, run in zip(batch, runs, strict=True):
            _, stderr = run.communicate(timeout=60)
            assert run.returncode in (0, 1), (result["change"], run.returncode, stderr)
            assert "internal" not in stderr and "Traceback" not in stderr, (
                result["change"], stderr)


def test_refused_mutants_get_a_one_line_error_from_the_cli(
        fuzzed: list[dict[str, Any]]) -> None:
    # (A mutant whose `format` changed is no artifact: kllvm reads it as a script.)
    sample = [r for r in fuzzed if "path" in r and r["detail"].startswith("damaged")]
    assert len(sample) >= 5
    for result in sample:
        done = kllvm("run", "-d", "0", result["path"])
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == f"kllvm: error: {result['path']}: {result['detail']}\n"
