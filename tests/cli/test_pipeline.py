"""The driver's pipeline: the script is lowered once, typed with argN from the events,
and `dump --emit=ir|types` expands only the probes whose argN types the IR needs, so it
needs no tracefs (and no root) for the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import CompileError, Source
from frontend.types import INT
from kllvm import driver
from kllvm.typesdump import dump_types
from tests.hidden_tracefs import HIDDEN_TRACEFS

ROOT = Path(__file__).resolve().parents[2]

NO_ARGS = """var n = 0
var t = {}
function f(x) { return x + 1 }
trace syscalls:sys_enter_getpid { n = f(n); t[pid] += 1 }
profile-1ms { t[cpu] += 1 }
tick-1s { print(n) }
"""
READS_ARGS = "function g(x) { return x }\ntrace syscalls:sys_enter_write { print(g(arg0)) }\n"
WRITE_FORMAT = """name: sys_enter_write
ID: 1
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;
\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;

print fmt: "fd: 0x%08lx"
"""


class NoTracefs:
    """A host whose every read fails, as tracefs does for a user without root."""

    reads = 0

    def available_events(self) -> list[tuple[str, str]]:
        self.reads += 1
        raise PermissionError(13, "Permission denied")

    def read_format(self, system: str, event: str) -> str:
        self.reads += 1
        raise PermissionError(13, "Permission denied")

    def dynamic_events(self) -> set[tuple[str, str]]:
        self.reads += 1
        raise PermissionError(13, "Permission denied")


class WriteOnly:
    """A host with one tracepoint, syscalls:sys_enter_write."""

    def available_events(self) -> list[tuple[str, str]]:
        return [("syscalls", "sys_enter_write")]

    def read_format(self, system: str, event: str) -> str:
        assert (system, event) == ("syscalls", "sys_enter_write")
        return WRITE_FORMAT

    def dynamic_events(self) -> set[tuple[str, str]]:
        return set()


def test_a_script_is_lowered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    lowered = []
    real = driver.lower
    monkeypatch.setattr(driver, "lower", lambda *a: lowered.append(1) or real(*a))
    compilation, events = driver.compile_typed(Source("t.kp", READS_ARGS),
                                               TracepointCatalog(WriteOnly()))
    assert lowered == [1]
    # The events' probes are the module's own: nothing to relink after a second lowering.
    (found,) = events.values()
    assert found.decl in compilation.module.probes
    # argN typed from the event, through the call to g.
    assert found.arg_types == {0: INT}
    assert "function g@1.2 (kernel)\n  x @1:1: int\n" in dump_types(compilation)


def test_probes_reading_no_argn_are_not_expanded_for_the_ir() -> None:
    host = NoTracefs()
    compilation, events = driver.compile_typed(Source("t.kp", NO_ARGS),
                                               TracepointCatalog(host), every_probe=False)
    assert (events, host.reads) == ({}, 0)
    assert [(g.name, g.written_by_kernel) for g in compilation.module.globals] == [("n.1", True)]
    # Every probe is expanded for a build: without tracefs that is a located error.
    with pytest.raises(CompileError, match=r"t\.kp:4:7: error: cannot read the list of "):
        driver.compile_typed(Source("t.kp", NO_ARGS), TracepointCatalog(NoTracefs()))


def test_a_probe_reading_argn_is_expanded_for_the_ir() -> None:
    host = NoTracefs()
    with pytest.raises(CompileError, match=r"t\.kp:2:7: error: cannot read the list of "):
        driver.compile_typed(Source("t.kp", READS_ARGS), TracepointCatalog(host),
                             every_probe=False)
    assert host.reads == 1


@pytest.mark.needs_root
@pytest.mark.parametrize(("emit", "expected"), [
    ("ir", "function probe@7.2() kernel @7:1\n"),
    ("types", "function probe@7.2 (kernel)\n"),
])
def test_dump_without_tracefs_where_no_event_needs_expanding(emit: str, expected: str) -> None:
    # Any read of tracefs fails there (what a user without root meets); the sample's probe
    # reads no argN.
    done = subprocess.run([*HIDDEN_TRACEFS, sys.executable, "-m", "kllvm", "dump",
                           f"--emit={emit}",
                           "samples/syscalls_count.kp"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert expected in done.stdout


def test_the_emit_choices_are_the_pipeline_stages() -> None:
    from kllvm import cli, driver

    assert cli.EMIT_STAGES == tuple(stage.value for stage in driver.Stage)
    names = [p.name for p in driver.PASSES]
    assert len(set(names)) == len(names)
    assert set(driver.DUMP_AFTER.values()) <= set(names)


def test_the_pipeline_stops_after_the_pass_asked_for() -> None:
    from frontend.diagnostics import Source
    from kllvm import driver

    state = driver.run(driver.State(Source("s.kp", "var a = 1\nprint(a + 1)\n")), "lower")
    assert state.module is not None and state.solution is None
