"""Wide syscall probes compile to one program on raw_syscalls, against a fake tracefs:
which events go raw, the number table, and the fallbacks. No kernel needed."""

from __future__ import annotations

from fake_tracefs import FakeTracefs

from backend import syscalls
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import Source
from kllvm.driver import Build, compile_script

HEADER = """\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""


def fmt(ident: int, fields: list[str]) -> str:
    return f"name: x\nID: {ident}\nformat:\n{HEADER}\n" + "\n".join(fields) + \
        "\n\nprint fmt: \"\"\n"


def f(decl: str, offset: int, size: int, signed: int = 1) -> str:
    return f"\tfield:{decl};\toffset:{offset};\tsize:{size};\tsigned:{signed};"


NR = f("int __syscall_nr", 8, 4)
# name -> the argument declarations of sys_enter_<name>
SYSCALLS = {
    "read": ["unsigned int fd", "char * buf", "size_t count"],
    "write": ["unsigned int fd", "const char * buf", "size_t count"],
    "close": ["unsigned int fd"],
    "dup": ["unsigned int fildes"],
    "fsync": ["unsigned int fd"],
    "fchdir": ["unsigned int fd"],
    "syncfs": ["int fd"],
    "fdatasync": ["unsigned int fd"],
    "getpid": [],
    "newfancy": ["int fd"],  # not in the number table: a kernel newer than it
}


def formats() -> dict[tuple[str, str], str]:
    found = {
        ("raw_syscalls", "sys_enter"): fmt(1, [f("long id", 8, 8),
                                               f("unsigned long args[6]", 16, 48, 0)]),
        ("raw_syscalls", "sys_exit"): fmt(2, [f("long id", 8, 8), f("long ret", 16, 8)]),
        ("sched", "sched_switch"): fmt(3, [f("char prev_comm[16]", 8, 16, 0)]),
    }
    for i, (name, args) in enumerate(SYSCALLS.items()):
        fields = [NR] + [f(a, 16 + 8 * j, 8, int(a.startswith("int")))
                         for j, a in enumerate(args)]
        found[("syscalls", f"sys_enter_{name}")] = fmt(10 + 2 * i, fields)
        found[("syscalls", f"sys_exit_{name}")] = fmt(11 + 2 * i, [NR, f("long ret", 16, 8)])
    return found


FORMATS = formats()


def build(text: str, minimum: int = 4) -> Build:
    catalog = TracepointCatalog(FakeTracefs(FORMATS))
    catalog.raw_syscalls_min = minimum
    numbers: dict[str, list[int]] = {}
    for nr, name in syscalls.X86_64.items():
        numbers.setdefault(name, []).append(nr)
    catalog.syscall_numbers = numbers  # whatever machine runs the tests
    return compile_script(Source("t.kp", text), catalog=catalog)


def attach(b: Build) -> list[list[str]]:
    return [[a.target for a in p.attach] for p in b.manifest.programs]


def test_a_glob_of_syscalls_is_one_raw_program() -> None:
    b = build("var s = {}\ntrace syscalls:sys_enter_* { s[probename] += 1 }\n")
    # newfancy has no number here: it keeps its own tracepoint.
    assert attach(b) == [["raw_syscalls:sys_enter"], ["syscalls:sys_enter_newfancy"]]
    assert [a.cookie for a in b.manifest.programs[0].attach] == [0]
    assert "sys_enter_getpid" in b.manifest.names and len(b.manifest.names) == 10
    assert b.object is not None
    assert b"tracepoint/raw_syscalls/sys_enter\0" in b.object
    assert b"kllvm_sys_p0_0\0" in b.object  # the number -> probename table


def test_enter_and_exit_each_get_one_program() -> None:
    b = build("var s = {}\ntrace syscalls:sys_e* /__syscall_nr >= 0/ "
              "{ s[probename] += arg0 }\n")
    assert sorted(t for ts in attach(b) for t in ts) == [
        "raw_syscalls:sys_enter", "raw_syscalls:sys_exit", "syscalls:sys_enter_newfancy",
        "syscalls:sys_exit_newfancy"]
    assert len(b.manifest.names) == 20


def test_filter_on_exit_fields_and_args() -> None:
    b = build("var s = {}\ntrace syscalls:sys_exit_* /ret >= 0/ { s[probename] += arg1 }\n")
    assert attach(b) == [["raw_syscalls:sys_exit"], ["syscalls:sys_exit_newfancy"]]


def test_list_of_syscalls_goes_raw_too() -> None:
    text = ("var n = 0\ntrace syscalls:sys_enter_close, syscalls:sys_enter_dup, "
            "syscalls:sys_enter_fsync, syscalls:sys_enter_syncfs { n += arg1 }\n")
    b = build(text)
    assert attach(b) == [["raw_syscalls:sys_enter"]]
    assert b.manifest.names == ["sys_enter_close", "sys_enter_dup", "sys_enter_fsync",
                                "sys_enter_syncfs"]


def test_few_syscalls_keep_their_tracepoints() -> None:
    b = build("var n = 0\ntrace syscalls:sys_enter_close, syscalls:sys_enter_dup "
              "{ n += 1 }\n")
    assert sorted(t for ts in attach(b) for t in ts) == ["syscalls:sys_enter_close",
                                                        "syscalls:sys_enter_dup"]


def test_filter_fields_in_the_same_place_share_the_raw_program() -> None:
    # `fd` is the first argument of each: at 16 in every record, raw ones included.
    text = "var n = 0\ntrace syscalls:sys_enter_read, syscalls:sys_enter_write, " \
           "syscalls:sys_enter_close, syscalls:sys_enter_fsync /fd == 1/ { n += 1 }\n"
    assert attach(build(text)) == [["raw_syscalls:sys_enter"]]
    # syncfs's fd is a signed int; the others are unsigned: one 8-byte read all the same.
    text = text.replace("sys_enter_fsync", "sys_enter_syncfs")
    assert attach(build(text)) == [["raw_syscalls:sys_enter"]]


def test_filter_on_a_field_at_different_offsets_attaches_each_event() -> None:
    global FORMATS
    saved = FORMATS
    FORMATS = dict(saved)
    # A kernel where fsync's fd sits elsewhere: no single raw read serves every event.
    FORMATS[("syscalls", "sys_enter_fsync")] = fmt(99, [NR, f("long pad", 16, 8),
                                                        f("unsigned int fd", 24, 8, 0)])
    try:
        b = build("var n = 0\ntrace syscalls:sys_enter_read, syscalls:sys_enter_write, "
                  "syscalls:sys_enter_close, syscalls:sys_enter_fsync /fd == 1/ "
                  "{ n += 1 }\n")
    finally:
        FORMATS = saved
    targets = sorted(t for ts in attach(b) for t in ts)
    assert "raw_syscalls:sys_enter" not in targets
    assert targets == ["syscalls:sys_enter_close", "syscalls:sys_enter_fsync",
                       "syscalls:sys_enter_read", "syscalls:sys_enter_write"]


def test_mixed_systems_split_into_raw_and_others() -> None:
    b = build("var n = 0\ntrace syscalls:sys_enter_*, sched:sched_switch { n += 1 }\n")
    targets = sorted(t for ts in attach(b) for t in ts)
    assert targets == ["raw_syscalls:sys_enter", "sched:sched_switch",
                       "syscalls:sys_enter_newfancy"]


def test_the_table_is_the_x86_64_abi() -> None:
    table = syscalls.X86_64
    assert (table[0], table[39], table[59], table[60], table[231]) == (
        "read", "getpid", "execve", "exit", "exit_group")
    assert (table[4], table[63], table[166]) == ("newstat", "newuname", "umount")
    assert max(table) < 512  # x32 and compat numbers are out of scope
