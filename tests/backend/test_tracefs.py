"""Tracepoint glob expansion and format parsing against a fake host."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.tracefs import (
    TracefsHost,
    ensure_tracefs,
    event_format,
    expand,
    split_event,
    strglobmatch,
)

SCHED_SWITCH = """\
name: sched_switch
ID: 372
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;
\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;
\tfield:const char * filename;\toffset:32;\tsize:8;\tsigned:0;
\tfield:__data_loc char[] name;\toffset:40;\tsize:4;\tsigned:0;
\tfield:__u8 saddr[sizeof(struct sockaddr_in6)];\toffset:44;\tsize:28;\tsigned:0;

print fmt: "prev_comm=%s prev_pid=%d", REC->prev_comm, REC->prev_pid
"""


class FakeHost:
    def __init__(self, events: list[str], formats: dict[str, str] | None = None) -> None:
        self._events = [tuple(e.split(":")) for e in events]
        self._formats = formats or {}

    def available_events(self) -> list[tuple[str, str]]:
        return list(self._events)

    def read_format(self, system: str, event: str) -> str:
        try:
            return self._formats[f"{system}:{event}"]
        except KeyError:
            raise FileNotFoundError(f"{system}/{event}/format") from None

    def dynamic_events(self) -> set[tuple[str, str]]:
        return set()


HOST = FakeHost([
    "syscalls:sys_enter_open", "syscalls:sys_exit_open", "syscalls:sys_enter_openat",
    "syscalls:sys_enter_read", "sched:sched_switch", "sched:sched_wakeup",
    "irq:irq_handler_entry", "weird:a*b", "weird:a]b",
])


@pytest.mark.parametrize(("string", "pattern", "expected"), [
    ("sys_enter_open", "sys_enter_open", True),
    ("sys_enter_open", "sys_enter_ope", False),
    ("sys_enter_open", "*", True),
    ("", "*", True),
    ("sys_enter_open", "sys_*_open", True),
    ("sys_enter_open", "*open", True),
    ("sys_enter_openat", "*open", False),
    ("sys_enter_open", "sys_enter_ope?", True),
    ("sys_enter_open", "sys_enter_op?", False),
    ("abc", "[abc]bc", True),
    ("dbc", "[abc]bc", False),
    ("m", "[a-z]", True),
    ("M", "[a-z]", False),
    ("x", "[!x]", False),
    ("y", "[!x]", True),
    ("]", "[]]", True),
    ("-", "[-a]", True),
    ("a*b", "a\\*b", True),
    ("axb", "a\\*b", False),
    ("a?b", "a\\?b", True),
    ("b", "[z-a]", False),  # a reversed range is malformed: no match
    ("a", "[abc", False),  # unterminated class
    ("a", "a\\", False),  # dangling escape
    ("sched_switch", "s*[hw]", True),
    ("sched_switch", "s**h", True),
])
def test_strglobmatch(string: str, pattern: str, expected: bool) -> None:
    assert strglobmatch(string, pattern) is expected


def test_expand_matches_system_and_event_separately() -> None:
    assert expand("syscalls:sys_enter_open*", HOST) == [
        ("syscalls", "sys_enter_open"), ("syscalls", "sys_enter_openat")]
    assert expand("sched:*", HOST) == [("sched", "sched_switch"), ("sched", "sched_wakeup")]
    assert expand("*:sched_switch", HOST) == [("sched", "sched_switch")]
    assert expand("s[a-z]*:sys_e[!n]*", HOST) == [("syscalls", "sys_exit_open")]
    assert expand("weird:a\\*b", HOST) == [("weird", "a*b")]
    assert len(expand("*:*", HOST)) == 9
    assert expand("nosuch:*", HOST) == []


@pytest.mark.parametrize("bad", ["sched_switch", ":x", "x:", ""])
def test_split_event_rejects_non_tracepoints(bad: str) -> None:
    with pytest.raises(ValueError, match="system:event"):
        split_event(bad)


def test_event_format_fields() -> None:
    host = FakeHost([], {"sched:sched_switch": SCHED_SWITCH})
    fmt = event_format("sched", "sched_switch", host)
    assert fmt.id == 372
    assert fmt.print_fmt.startswith('"prev_comm=%s')
    assert [f.name for f in fmt.fields][:4] == [
        "common_type", "common_flags", "common_preempt_count", "common_pid"]
    assert [f.name for f in fmt.event_fields] == [
        "prev_comm", "prev_pid", "filename", "name", "saddr"]
    comm = fmt.field("prev_comm")
    assert (comm.type, comm.offset, comm.size, comm.signed) == ("char[16]", 8, 16, False)
    assert comm.is_char_array and comm.array_len == 16
    pid = fmt.field("prev_pid")
    assert (pid.type, pid.offset, pid.size, pid.signed, pid.is_array) == (
        "pid_t", 24, 4, True, False)
    filename = fmt.field("filename")
    assert filename.type == "const char *" and not filename.is_char_array
    name = fmt.field("name")
    assert name.data_loc and name.type == "__data_loc char[]" and not name.is_char_array
    saddr = fmt.field("saddr")
    assert saddr.is_array and saddr.array_len is None and not saddr.is_char_array
    assert fmt.field("common_pid").is_common
    with pytest.raises(KeyError):
        fmt.field("nope")


def test_event_format_missing_event() -> None:
    with pytest.raises(FileNotFoundError):
        event_format("sched", "nope", FakeHost([]))


def test_ensure_tracefs_accepts_a_mounted_root(tmp_path: Path) -> None:
    (tmp_path / "available_events").write_text("sched:sched_switch\n")
    assert ensure_tracefs(tmp_path) == tmp_path
    assert TracefsHost(tmp_path).available_events() == [("sched", "sched_switch")]


def test_dynamic_events_are_read_from_tracefs(tmp_path: Path) -> None:
    (tmp_path / "available_events").write_text("kprobes:open\n")
    host = TracefsHost(tmp_path)
    assert host.dynamic_events() == set()  # no dynamic_events file: none
    (tmp_path / "dynamic_events").write_text(
        "p:kprobes/open do_sys_open\nr10:kprobes/open_ret do_sys_open\n"
        "u:mine/start /bin/true:0x1040\ns:synthetic/lat u64 delta\n")
    assert host.dynamic_events() == {("kprobes", "open"), ("kprobes", "open_ret"),
                                     ("mine", "start"), ("synthetic", "lat")}
