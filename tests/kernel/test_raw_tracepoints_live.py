"""Live: probes that read nothing of the tracepoint record run on raw tracepoints, with
the attach cookie naming the event. The traced `-- CMD` renames itself an exact number
of times; each rename is a task:task_rename event, and so is the exec that starts it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from frontend.diagnostics import Source
from kllvm import driver
from kllvm.cli import main

pytestmark = pytest.mark.needs_root

RENAMES = Path(__file__).with_name("renames.py")


def run(tmp_path: Path, script: str, renames: int) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable,
                   str(RENAMES), str(renames)])
    return status, out.read_text() if out.exists() else ""


def attach_kinds(script: str) -> set[str]:
    build = driver.compile_script(Source("t.kp", script))
    return {point.kind for program in build.manifest.programs for point in program.attach}


def test_one_event_counted_exactly_on_its_raw_tracepoint(tmp_path: Path) -> None:
    script = "var n = 0\ntrace task:task_rename { n += 1 }\ntrace_end { print(n) }\n"
    assert attach_kinds(script) == {"raw_tracepoint"}
    # 11 renames by prctl, and the exec of the command names the task once more.
    assert run(tmp_path, script, 11) == (0, "12\n")


def test_everything_by_probename_starts_and_stops_quickly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = """var s = {}
trace *:* { s[probename] += 1 }
trace_end {
  printf("rename=%d exec=%d prctl=%d\\n", s["task_rename"], s["sched_process_exec"],
         s["sys_enter_prctl"])
}
"""
    assert attach_kinds(script) >= {"raw_tracepoint"}
    assert run(tmp_path, script, 7) == (0, "rename=8 exec=1 prctl=7\n")
    # Perf-event tracepoints would each cost a grace period to detach (~90 s in all),
    # and the runtime would say so.
    assert "detaching" not in capsys.readouterr().err


def test_a_probe_reading_fields_of_the_same_event_keeps_its_tracepoint(
        tmp_path: Path) -> None:
    script = """var names = {}
trace task:task_rename { names[arg2] += 1 }
trace_end { printf("%d %d\\n", names["renamed0"], names["renamed4"]) }
"""
    assert attach_kinds(script) == {"tracepoint"}
    assert run(tmp_path, script, 5) == (0, "1 1\n")
