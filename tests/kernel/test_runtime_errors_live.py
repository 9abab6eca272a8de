"""Live: run-time errors of probe bodies are reported at their script location; a
non-fatal one that happens on every event is printed once and counted; a fatal one
(a printf format error, as in the interpreter) stops the run and skips trace_end."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root

GETPIDS = Path(__file__).with_name("getpids.py")
SYS_GETPID = 39


def run(tmp_path: Path, script: str, calls: int) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable,
                   str(GETPIDS), str(calls), str(SYS_GETPID)])
    return status, out.read_text() if out.exists() else ""


def test_a_non_fatal_error_per_event_is_printed_once_and_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = """var t = {}
var n = 0
trace syscalls:sys_enter_getpid { n += 1; print(t[1] + 1) }
trace_end { print(n) }
"""
    assert run(tmp_path, script, calls=20) == (0, "20\n")
    err = capsys.readouterr().err
    assert err.count("Cannot make arith operation") == 2, err
    assert "script.kp:3:49: error: Cannot make arith operation\n" in err
    assert ("script.kp:3:49: warning: the error 'Cannot make arith operation' happened 20 "
            "times (printed once)\n") in err


def test_a_printf_error_in_a_probe_is_fatal_at_its_location(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = """var t = {}
t[2] = 5
trace syscalls:sys_enter_getpid { printf("%d\\n", t[1]) }
trace_end { print("not reached") }
"""
    assert run(tmp_path, script, calls=5) == (1, "")
    err = capsys.readouterr().err
    assert err.count("error:") == 1, err
    assert "script.kp:3:35: error: wrong type of argument 2\n" in err
