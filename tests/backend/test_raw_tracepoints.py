"""Probes that read nothing of the tracepoint record are served from raw tracepoints,
against a fake tracefs: which events go raw, the sections, cookies and fallbacks.
No kernel needed (tests/kernel/test_raw_tracepoints_live.py runs them)."""

from __future__ import annotations

import pytest
from fake_tracefs import FakeTracefs

from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import Source
from kllvm.driver import Build, compile_script

HEADER = """\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""


def fmt(ident: int, fields: str) -> str:
    return f"name: x\nID: {ident}\nformat:\n{HEADER}\n{fields}\n\nprint fmt: \"\"\n"


PID = "\tfield:pid_t pid;\toffset:8;\tsize:4;\tsigned:1;"
FORMATS = {
    ("sched", "sched_switch"): fmt(1, PID),
    ("sched", "sched_wakeup"): fmt(2, PID),
    ("task", "task_rename"): fmt(3, PID),
    ("syscalls", "sys_enter_getpid"): fmt(4, "\tfield:int __syscall_nr;\toffset:8;\t"
                                             "size:4;\tsigned:1;"),
    ("kprobes", "my_open"): fmt(5, PID),  # made at run time: no raw tracepoint
}
HOST = FakeTracefs(FORMATS, dynamic=frozenset({("kprobes", "my_open")}))


def build(text: str) -> Build:
    return compile_script(Source("t.kp", text), catalog=TracepointCatalog(HOST))


def attach(b: Build) -> list[list[tuple[str, str, int]]]:
    return [[(a.kind, a.target, a.cookie) for a in p.attach] for p in b.manifest.programs]


def test_a_probe_reading_no_record_attaches_raw_tracepoints_with_cookies() -> None:
    b = build("var s = {}\ntrace sched:* { s[probename] += 1 }\n")
    assert attach(b) == [[("raw_tracepoint", "sched:sched_switch", 0),
                          ("raw_tracepoint", "sched:sched_wakeup", 1)]]
    assert b.manifest.names == ["sched_switch", "sched_wakeup"]
    assert b.object is not None and b"raw_tracepoint/sched_switch\0" in b.object


def test_everything_splits_by_what_has_a_raw_tracepoint() -> None:
    b = build("var n = 0\ntrace *:* { n += 1 }\n")
    kinds = {target: kind for points in attach(b) for kind, target, _ in points}
    assert kinds == {
        "sched:sched_switch": "raw_tracepoint", "sched:sched_wakeup": "raw_tracepoint",
        "task:task_rename": "raw_tracepoint",
        # a syscall event is not a tracepoint of its own name; a kprobe event is no
        # tracepoint at all
        "syscalls:sys_enter_getpid": "tracepoint", "kprobes:my_open": "tracepoint",
    }


@pytest.mark.parametrize("probe", [
    "trace sched:* { n += arg0 }",
    "trace sched:* { print(argstr) }",
    "trace sched:* /pid == 1/ { n += 1 }",
])
def test_a_probe_reading_the_record_keeps_perf_tracepoints(probe: str) -> None:
    b = build(f"var n = 0\n{probe}\n")
    assert {kind for points in attach(b) for kind, _, _ in points} == {"tracepoint"}


def test_builtins_other_than_the_record_still_go_raw() -> None:
    b = build("var s = {}\ntrace task:task_rename { s[execname] += pid + tid + cpu + uid }\n")
    assert attach(b) == [[("raw_tracepoint", "task:task_rename", 0)]]
