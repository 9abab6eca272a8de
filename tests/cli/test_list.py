"""`kllvm list [PATTERN] [-v]` as a user runs it, against the live tracefs: the events of
ktap's globs, their fields as argN with ktap types, and the functions of a binary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hidden_tracefs import HIDDEN_TRACEFS

ROOT = Path(__file__).resolve().parents[2]
EVENTS = Path("/sys/kernel/tracing/available_events")

pytestmark = pytest.mark.needs_root


def kllvm(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


def host_events() -> list[str]:
    # Sorted by system, then event (as the catalog sorts): "fib:x" before "fib6:x".
    return sorted(set(EVENTS.read_text().splitlines()), key=lambda e: e.split(":", 1))


def test_list_without_a_pattern_is_every_tracepoint() -> None:
    done = kllvm("list")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.splitlines() == host_events()


@pytest.mark.parametrize(("pattern", "wanted"), [
    ("sched:*", lambda e: e.startswith("sched:")),
    ("sched:sched_switch", lambda e: e == "sched:sched_switch"),
    ("syscalls:sys_enter_open*", lambda e: e.startswith("syscalls:sys_enter_open")),
    ("syscalls:sys_[ex][nx]*_getpid", lambda e: e in ("syscalls:sys_enter_getpid",
                                                     "syscalls:sys_exit_getpid")),
    ("sched_wak*", lambda e: e.split(":")[1].startswith("sched_wak")),  # any system
])
def test_ktaps_globs_select_the_events(pattern: str, wanted: object) -> None:
    done = kllvm("list", pattern)
    assert (done.returncode, done.stderr) == (0, "")
    expected = [e for e in host_events() if wanted(e)]  # type: ignore[operator]
    assert expected and done.stdout.splitlines() == expected


def test_a_comma_list_lists_each_event_once_in_order() -> None:
    done = kllvm("list", "sched:sched_switch,irq:irq_handler_entry,sched:sched_switch")
    assert (done.returncode, done.stdout) == (
        0, "sched:sched_switch\nirq:irq_handler_entry\n")


def test_verbose_shows_fields_as_argN_with_ktap_types() -> None:
    done = kllvm("list", "-v", "sched:sched_switch")
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "sched:sched_switch\n"
        "    arg0  string      char[16] prev_comm\n"
        "    arg1  number      pid_t prev_pid\n"
        "    arg2  number      int prev_prio\n"
        "    arg3  number      long prev_state\n"
        "    arg4  string      char[16] next_comm\n"
        "    arg5  number      pid_t next_pid\n"
        "    arg6  number      int next_prio\n")


def test_verbose_numbers_syscall_arguments_from_arg1_and_stops_at_arg8() -> None:
    getpid = kllvm("list", "-v", "syscalls:sys_exit_getpid")
    assert getpid.stdout == ("syscalls:sys_exit_getpid\n"
                             "    arg0  number      int __syscall_nr\n"
                             "    arg1  number      long ret\n")
    # ktap sets up arg0..arg8 only: a tenth field has no argN.
    numa = kllvm("list", "-v", "sched:sched_swap_numa")
    lines = numa.stdout.splitlines()
    assert numa.returncode == 0 and len(lines) == 11, numa.stdout
    assert lines[9].startswith("    arg8  ") and lines[10] == "    -     number      int dst_nid"


def test_verbose_marks_fields_argN_cannot_read_yet() -> None:
    # raw_syscalls:sys_enter's args is an array: not readable as argN yet; a __data_loc
    # string is (sched_process_exec's filename).
    done = kllvm("list", "-v", "raw_syscalls:sys_enter")
    assert "    arg1  unsupported unsigned long[6] args\n" in done.stdout
    done = kllvm("list", "-v", "sched:sched_process_exec")
    assert "    arg0  string      __data_loc char[] filename\n" in done.stdout


def test_the_listed_types_are_those_a_probe_reads() -> None:
    # arg0 is a string, arg1 a number, as listed: a probe that prints both compiles.
    done = kllvm("-q", "-e", 'trace sched:sched_switch { printf("%s %d\\n", arg0, arg1); '
                 "exit() }")
    assert done.returncode == 0, done.stderr
    comm, pid = done.stdout.splitlines()[0].rsplit(" ", 1)  # a comm may hold spaces
    assert pid.isdigit() and comm


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bin") / "target"
    subprocess.run(["cc", "-O2", "-o", str(path),
                    str(ROOT / "tests" / "kernel" / "uprobe_target.c")], check=True)
    return path


def test_the_functions_of_a_binary(binary: Path) -> None:
    done = kllvm("list", f"probe:{binary}:*")
    assert (done.returncode, done.stderr) == (0, "")
    names = done.stdout.splitlines()
    assert f"probe:{binary}:work" in names and f"probe:{binary}:main" in names
    assert names == sorted(names)
    one = kllvm("list", f"probe:{binary}:wor?%return")
    assert (one.returncode, one.stdout) == (0, f"probe:{binary}:work%return\n")


def test_the_functions_of_bash() -> None:
    done = kllvm("list", "probe:/bin/bash:readline")
    assert (done.returncode, done.stdout) == (0, "probe:/bin/bash:readline\n")


@pytest.mark.parametrize(("pattern", "message"), [
    ("nosuch:event*", "kllvm: error: nothing matches 'nosuch:event*'\n"),
    ("probe:/bin/bash:no_such_function_*",
     "kllvm: error: nothing matches 'probe:/bin/bash:no_such_function_*'\n"),
    ("probe:/no/such/binary:*", "kllvm: error: no such file: /no/such/binary\n"),
    ("probe:/etc/passwd:*", "kllvm: error: /etc/passwd is not an ELF file\n"),
    ("probe:/bin/bash:0x1000", "kllvm: error: probe:/bin/bash:4096 is a file offset, "
                               "not a function glob\n"),
    ("sched:* /prev_pid == 1/",
     "kllvm: error: a filter (/.../) selects records, not events: list without it\n"),
    ("probe:vfs_read", "kllvm: error: only tracepoints (SYSTEM:EVENT) and the functions "
                       "of a binary (probe:/PATH:GLOB) can be listed\n"),
])
def test_what_lists_nothing_is_an_error(pattern: str, message: str) -> None:
    done = kllvm("list", pattern)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", message)


def test_a_malformed_pattern_is_shown_with_a_caret() -> None:
    done = kllvm("list", "sched:sched_switch x")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr.startswith("(pattern):1:20: error: cannot parse eventdef "
                                  "'sched:sched_switch x'\nsched:sched_switch x\n")


def test_without_tracefs_it_says_root_is_needed() -> None:
    # Any read of tracefs fails there, as for a user without root.
    done = kllvm("list", "sched:*", prefix=HIDDEN_TRACEFS)
    assert (done.returncode, done.stdout) == (1, "")
    assert "tracing needs root privileges: run kllvm as root" in done.stderr
    assert "Traceback" not in done.stderr


def test_json_lines_one_event_each() -> None:
    done = kllvm("list", "-f", "json", "-v", "sched:sched_switch,sched:sched_process_exec")
    assert (done.returncode, done.stderr) == (0, "")
    switch, exec_ = (json.loads(line) for line in done.stdout.splitlines())
    assert switch["type"] == "event" and switch["name"] == "sched:sched_switch"
    assert switch["fields"][0] == {"arg": 0, "name": "prev_comm", "c_type": "char[16]",
                                   "ktap_type": "string"}
    assert exec_["fields"][0]["ktap_type"] == "string"  # a __data_loc string
    short = kllvm("list", "-f", "json", "sched:sched_switch")
    assert json.loads(short.stdout) == {"type": "event", "name": "sched:sched_switch"}
    none = kllvm("list", "-f", "json", "nosuch:x")
    assert (none.returncode, json.loads(none.stderr)) == (
        1, {"type": "error", "message": "nothing matches 'nosuch:x'"})
