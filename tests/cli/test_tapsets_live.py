"""Tapsets in live runs: called from probes, the main chunk and trace_end, found through -I,
KLLVM_TAPSET_PATH and the bundled folder, with exact counts."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
COUNT = """var STEP = 2

function twice(x) {
\treturn x * STEP
}

function bump(x) {
\treturn twice(x) + more.one()
}
"""
MORE = "function one() {\n\treturn 1\n}\n"
SCRIPT = """var n = count.STEP - 2
trace syscalls:sys_enter_getpid { n += count.bump(1) }
trace_end { printf("n=%d step=%d\\n", n, count.twice(count.STEP)) }
"""


def kllvm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "count.kp").write_text(COUNT)
    (folder / "more.kp").write_text(MORE)
    return folder


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "s.kp"
    path.write_text(SCRIPT)
    return path


def test_tapset_from_a_probe_the_main_chunk_and_trace_end_with_I(lib: Path,
                                                                   script: Path) -> None:
    done = kllvm("run", "-q", "-I", str(lib), str(script), "--", sys.executable,
                 str(GETPIDS), "3")
    assert (done.returncode, done.stdout) == (0, "n=9 step=4\n"), done.stderr


def test_tapset_found_through_KLLVM_TAPSET_PATH(lib: Path, script: Path,
                                                tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = kllvm("run", "-q", str(script), "--", sys.executable, str(GETPIDS), "2",
                 env={"KLLVM_TAPSET_PATH": f"{empty}:{lib}"})
    assert (done.returncode, done.stdout) == (0, "n=6 step=4\n"), done.stderr


def test_built_artifact_carries_the_tapsets_code(lib: Path, script: Path,
                                                 tmp_path: Path) -> None:
    artifact = tmp_path / "s.kpa"
    assert kllvm("build", "-I", str(lib), str(script), "-o", str(artifact)).returncode == 0
    for tapset in lib.iterdir():
        tapset.unlink()
    done = kllvm("run", "-q", str(artifact), "--", sys.executable, str(GETPIDS), "1")
    assert (done.returncode, done.stdout) == (0, "n=3 step=4\n"), done.stderr


def test_bundled_hist_log2_in_a_probe() -> None:
    done = kllvm("run", "-q", "-e", 'trace syscalls:sys_enter_getpid { '
                 'printf("%d %d\\n", pid, hist.log2(pid)) }', "--", sys.executable,
                 str(GETPIDS), "2")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        pid, bucket = map(int, line.split())
        assert bucket == int(math.log2(pid))


def test_a_changed_tapset_is_not_served_from_the_compile_cache(lib: Path, script: Path,
                                                               tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    run = ("run", "-q", "-I", str(lib), str(script), "--", sys.executable, str(GETPIDS), "1")
    assert kllvm(*run, env=env).stdout == "n=3 step=4\n"
    (lib / "more.kp").write_text(MORE.replace("return 1", "return 10"))
    done = kllvm(*run, env=env)
    assert (done.returncode, done.stdout) == (0, "n=12 step=4\n"), done.stderr


def test_a_run_time_error_in_a_tapset_is_shown_at_its_line_even_from_an_artifact(
        lib: Path, tmp_path: Path) -> None:
    (lib / "calc.kp").write_text("function div(a, b) {\n\treturn a / b\n}\n")
    script = tmp_path / "div.kp"
    script.write_text("trace syscalls:sys_enter_getpid { }\nprint(calc.div(6, 0))\n")
    expected = (f"{lib / 'calc.kp'}:2:9: error: divide 0 arith operation\n"
                " return a / b\n        ^~~~~\n")
    done = kllvm("run", "-q", "--no-cache", "-I", str(lib), str(script))
    assert (done.returncode, done.stderr) == (1, expected)
    artifact = tmp_path / "div.kpa"
    assert kllvm("build", "-I", str(lib), str(script), "-o", str(artifact)).returncode == 0
    (lib / "calc.kp").unlink()
    done = kllvm("run", "-q", str(artifact))
    assert (done.returncode, done.stderr) == (1, expected)


def test_dump_asm_names_the_tapset_lines(lib: Path, tmp_path: Path) -> None:
    (lib / "say.kp").write_text("# say\nfunction name() {\n\tprint(execname)\n}\n")
    script = tmp_path / "v.kp"
    script.write_text("trace syscalls:sys_enter_getpid {\n  say.name()\n}\n")
    done = kllvm("dump", "--emit=asm", "-I", str(lib), str(script))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "\t; 1 | trace syscalls:sys_enter_getpid {" in lines
    assert "\t; say.kp:3 | print(execname)" in lines
    assert "\t; 3 | }" not in lines


def test_bundled_errno_names_a_failed_open() -> None:
    done = kllvm("run", "-q", "-e", 'trace syscalls:sys_exit_openat { if (arg1 < 0) { '
                 'printf("%d %s\\n", arg1, errno.name(arg1)) } }', "--", "/usr/bin/cat",
                 "/nonexistent/kllvm-test")
    assert done.stdout.splitlines()[-1] == "-2 ENOENT", done.stderr


def test_bundled_task_states_match_the_kernels_rendering() -> None:
    done = kllvm("run", "-q", "-d", "0.3", "-e", 'trace sched:sched_switch { '
                 'printf("%s|%s\\n", task.state(arg3), argstr) }')
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 10
    for line in lines:
        # argstr is the kernel's own rendering of the event (its print fmt).
        letter, rendered = line.split("|", 1)
        assert letter == rendered.split(" prev_state=", 1)[1].split(" ", 1)[0], rendered

