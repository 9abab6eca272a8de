"""`-f json`: newline-delimited JSON, one object with a `type` per line, for output
records, print_hist tables, the banner, warnings and errors. Each test runs the command
as a user would and parses what it prints line by line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"


def kllvm(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def records(text: str) -> list[dict[str, object]]:
    """Every line one JSON object with a type, nothing else."""
    parsed = [json.loads(line) for line in text.splitlines()]
    assert text == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in parsed)
    assert all(isinstance(r, dict) and isinstance(r.get("type"), str) for r in parsed)
    return parsed


def test_print_printf_and_print_hist_in_user_space() -> None:
    program = ('var t = {}; t["a"] = 3; t["b"] = 5; t[7] = 1\n'
               'print(1, "two", nil, true, -4)\nprintf("%d-%s\\n", 4, "x")\n'
               "print_hist(t)\nprint_hist(t, 2)\n")
    done = kllvm("-f", "json", "-e", program)
    assert (done.returncode, done.stderr) == (0, "")
    assert records(done.stdout) == [
        {"type": "print", "values": [1, "two", None, True, -4]},
        {"type": "printf", "data": "4-x\n"},
        {"type": "print_hist", "rows": [{"key": "b", "value": 5}, {"key": "a", "value": 3},
                                        {"key": 7, "value": 1}], "more": False},
        {"type": "print_hist", "rows": [{"key": "b", "value": 5}, {"key": "a", "value": 3}],
         "more": True},
    ]


def test_text_output_is_unchanged_by_default() -> None:
    done = kllvm("-e", 'print(1, "two")')
    assert (done.returncode, done.stdout) == (0, "1\ttwo\n")


def test_a_run_time_error_is_a_record_on_standard_error() -> None:
    done = kllvm("-f", "json", "-e", 'print("before")\nvar z = 0\nprint(1 / z)\n')
    assert done.returncode == 1
    assert records(done.stdout) == [{"type": "print", "values": ["before"]}]
    assert records(done.stderr) == [{"type": "error", "message": "divide 0 arith operation",
                                     "file": "(command line)", "line": 3, "col": 7}]


def test_a_compile_error_is_a_record_with_its_hints() -> None:
    done = kllvm("-f", "json", "-e", "print(nope)")
    assert (done.returncode, done.stdout) == (1, "")
    assert records(done.stderr) == [{
        "type": "error", "message": "undefined variable 'nope'", "file": "(command line)",
        "line": 1, "col": 7, "hints": ["declare it with 'var' first"]}]


def test_an_error_without_a_place_is_a_record() -> None:
    done = kllvm("run", "-f", "json", "no/such.kp")
    assert (done.returncode, done.stdout) == (1, "")
    assert records(done.stderr) == [{
        "type": "error", "message": "cannot read 'no/such.kp': No such file or directory"}]


def test_a_full_user_space_table_is_a_warning_record(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = kllvm("-f", "json", "-o", str(out), "-e",
                 "var u = table.new(0, 1)\nu[1] = 1\nu[2] = 2\nprint(len(u))\n")
    assert (done.returncode, done.stdout) == (0, "")
    assert records(out.read_text()) == [{"type": "print", "values": [1]}]
    (warning,) = records(done.stderr)
    assert warning["type"] == "warning"
    assert (warning["file"], warning["line"], warning["col"]) == ("(command line)", 1, 9)
    assert str(warning["message"]).startswith("table 'u' is full (1 entries): 1 update")


@pytest.mark.needs_root
def test_a_live_run_banner_records_and_kernel_warnings() -> None:
    # The kernel table holds one entry: the second key's updates are dropped and said.
    program = ("var t = table.new(0, 1)\nvar n = 0\n"
               'trace syscalls:sys_enter_getpid { n += 1; t[n % 2] += 1; printf("%d\\n", 7); '
               'print(n > 0, "x") }\ntrace_end { print_hist(t) }\n')
    done = kllvm("-f", "json", "-e", program, "--", sys.executable, str(GETPIDS), "3")
    assert done.returncode == 0, done.stderr
    got = records(done.stdout)
    assert got[:2] == [{"type": "attaching", "probes": 1, "events": 1}, {"type": "tracing"}]
    assert got[2:8] == [{"type": "printf", "data": "7\n"},
                        {"type": "print", "values": [True, "x"]}] * 3
    (hist,) = got[8:]
    assert hist["type"] == "print_hist" and hist["more"] is False
    assert len(hist["rows"]) == 1  # type: ignore[arg-type]
    (warning,) = records(done.stderr)
    assert warning["type"] == "warning" and warning["line"] == 1
    assert "table 't' is full (1 entries)" in str(warning["message"])


@pytest.mark.needs_root
def test_a_run_that_cannot_start_says_so_in_json() -> None:
    done = kllvm("-f", "json", "-e", "trace syscalls:sys_enter_getpid { }", "--",
                 "no-such-command-h13")
    assert (done.returncode, done.stdout) == (127, "")
    assert records(done.stderr) == [{
        "type": "error", "message": "cannot run 'no-such-command-h13': command not found"}]


def test_jq_reads_it() -> None:
    # jq is installed by scripts/install.sh: the README's examples use it.
    done = subprocess.run(
        f"{sys.executable} -m kllvm -f json -e 'print(1, \"a\"); print(2, \"b\")' "
        "| jq -r 'select(.type == \"print\") | .values[1]'",
        shell=True, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, "a\nb\n")


def readme_jq_examples() -> list[str]:
    """The commands of the README's jq examples, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    block = text.split("Examples with [jq]", 1)[1].split("```", 2)[1]
    commands = block.replace("\\\n", " ").strip().splitlines()
    return [c.split("  # ", 1)[0].strip() for c in commands]


@pytest.mark.needs_root
def test_the_readmes_jq_examples_run() -> None:
    examples = readme_jq_examples()
    assert len(examples) == 3 and all("| jq" in c for c in examples)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    outputs = []
    for command in examples:
        done = subprocess.run(["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)
    # jq failed on no line (pipefail); the histogram has rows: kllvm's own polling
    # makes system calls while it traces.
    rows = outputs[1].splitlines()
    assert rows and all(r.split(" ")[0].startswith("sys_enter_") and r.split(" ")[1].isdigit()
                        for r in rows)
