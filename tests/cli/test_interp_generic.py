"""The generic program of the interpreter path (kllvm/interprun.py), without the kernel:
what each probe's record carries."""

from __future__ import annotations

import pytest

from frontend.diagnostics import CompileError, Source
from kllvm.driver import compile_source
from kllvm.interprun import generic_source


def generic(text: str) -> tuple[str, dict[int, tuple[str, ...]]]:
    source = Source("t.kp", text)
    made, names = generic_source(source, compile_source(source).module)
    return made.text, names


def test_each_probe_sends_its_id_and_what_its_body_reads() -> None:
    text, names = generic("var f = function() { return tid }\n"
                          "trace syscalls:sys_enter_getpid { print(pid, execname) }\n"
                          "trace sched:sched_switch /prev_pid == 0/ { print(gettimeofday_us()) }\n"
                          "tick-1s { print(1) }\n")
    assert names == {0: ("pid", "execname", "tid"), 1: ("@time", "tid")}
    assert text == ("trace syscalls:sys_enter_getpid { print(0, pid, execname, tid) }\n"
                    "trace sched:sched_switch /prev_pid == 0/ "
                    "{ print(1, gettimeofday_ns(), tid) }\n")


def test_other_probe_kinds_are_refused_at_the_probe() -> None:
    with pytest.raises(CompileError) as error:
        generic("profile-1ms { print(1) }\n")
    assert "t.kp:1:1: error: this profile probe is not supported on the interpreter path" \
        in error.value.rendered
