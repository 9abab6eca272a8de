"""Compiling ktap scripts to BPF objects against a fake tracefs: sections, grouping by
layout, argN types, compile errors. No kernel needed."""

from __future__ import annotations

import pytest
from fake_tracefs import FakeTracefs
from llvmlite import ir

from backend.lower import names_table
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import CompileError, Source
from kllvm.driver import Build, compile_script

HEADER = """\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;
"""


def fmt(ident: int, fields: str) -> str:
    return f"name: x\nID: {ident}\nformat:\n{HEADER}\n{fields}\nprint fmt: \"\"\n"


def f(decl: str, offset: int, size: int, signed: int = 1) -> str:
    return f"\tfield:{decl};\toffset:{offset};\tsize:{size};\tsigned:{signed};"


NR = f("int __syscall_nr", 8, 4)
FORMATS = {
    ("syscalls", "sys_enter_getpid"): fmt(1, NR),
    ("syscalls", "sys_enter_close"): fmt(2, NR + "\n" + f("unsigned long fd", 16, 8, 0)),
    ("syscalls", "sys_enter_dup"): fmt(3, NR + "\n" + f("unsigned long fildes", 16, 8, 0)),
    ("syscalls", "sys_enter_odd"): fmt(5, NR + "\n" + f("int pad", 12, 4)),
    ("sched", "sched_switch"): fmt(4, f("char prev_comm[16]", 8, 16, 0)),
}


def build(text: str) -> Build:
    return compile_script(Source("t.kp", text), catalog=TracepointCatalog(FakeTracefs(FORMATS)))


def has_sections(obj: bytes, *names: str) -> bool:
    """Section names are NUL-terminated strings of the ELF's section-name table (where
    `.rel.BTF.ext` may share its tail with `.BTF.ext`)."""
    return all(name.encode() + b"\0" in obj for name in names)


def test_object_has_programs_maps_globals_and_btf() -> None:
    b = build("var s = {}\nvar n = 0\n"
              "trace syscalls:sys_enter_getpid { s[execname] += 1; n += 1; print(n % 3) }\n")
    assert b.object is not None
    assert b.object[:4] == b"\x7fELF"
    assert has_sections(b.object, "tracepoint/syscalls/sys_enter_getpid", ".maps", ".bss",
                        ".rodata", "license", ".BTF", ".BTF.ext")
    assert [t.map for t in b.manifest.tables] == ["t0_s"]
    assert b.manifest.tables[0].percpu  # only ever added to
    assert [(g.layout, g.present) for g in b.manifest.globals] == [("int", None)]
    assert [f.message for f in b.manifest.faults] == ["mod 0 arith operation"]


def test_one_program_per_layout_with_cookies() -> None:
    b = build("var s = {}\ntrace syscalls:sys_enter_[cdo]* { s[arg1] += 1 }\n")
    programs = b.manifest.programs
    # arg1 is a u64 at 16 in close and dup, an int at 12 in odd: two layouts.
    assert sorted(b.manifest.names) == ["sys_enter_close", "sys_enter_dup", "sys_enter_odd"]
    assert sorted(len(p.attach) for p in programs) == [1, 2]
    cookies = sorted(a.cookie for p in programs for a in p.attach)
    assert cookies == [0, 1, 2]


def test_arg_types_must_agree() -> None:
    with pytest.raises(CompileError) as e:
        build("trace syscalls:sys_enter_close, sched:sched_switch { print(arg0) }\n")
    assert "arg0 is a number in syscalls:sys_enter_close but a string in sched:sched_switch" \
        in e.value.rendered


def test_char_array_argument_is_a_string() -> None:
    b = build('var t = {}\ntrace sched:sched_switch { t[arg0] += 1 }\n')
    assert b.manifest.tables[0].key == "str"


def test_unknown_pattern_and_filter_field() -> None:
    with pytest.raises(CompileError) as e:
        build("trace nope:* { print(1) }\n")
    assert "no tracepoint matches 'nope:*'" in e.value.rendered
    with pytest.raises(CompileError) as e:
        build("trace syscalls:sys_enter_getpid /fd == 1/ { print(1) }\n")
    assert "unknown field 'fd' in the filter" in e.value.rendered


def test_objects_are_byte_identical() -> None:
    text = 'var n = 0\ntrace syscalls:sys_enter_dup /fildes > 2/ { n += arg1 / 2 }\n'
    assert build(text).object == build(text).object


def test_names_table_text_is_what_llvmlite_would_write() -> None:
    names = ["sched_switch", 'a"quote', "back\\slash", "caf\u00e9", "tab\there", "x" * 40]
    strlen = 32
    rows = [ir.Constant(ir.ArrayType(ir.IntType(8), strlen),
                        bytearray(n.encode()[: strlen - 1].ljust(strlen, b"\0")))
            for n in names]
    expected = ir.Constant(ir.ArrayType(rows[0].type, len(rows)), rows)
    table = names_table(names, strlen)
    assert table.type == expected.type
    assert table.get_reference() == expected.get_reference()


@pytest.mark.parametrize("field", ["common_type", "common_flags", "common_preempt_count"])
def test_unreadable_common_fields_are_refused_at_the_filter(field: str) -> None:
    with pytest.raises(CompileError) as e:
        build(f"var n = 0\ntrace syscalls:sys_enter_getpid /{field} == 1/ {{ n += 1 }}\n")
    assert e.value.rendered.startswith(f"t.kp:2:34: error: '{field}' cannot be read")
    assert "only common_pid (the thread id)" in e.value.rendered


def test_common_pid_against_a_string_is_refused() -> None:
    with pytest.raises(CompileError) as e:
        build('var n = 0\ntrace syscalls:sys_enter_getpid /common_pid == "x"/ { n += 1 }\n')
    assert "t.kp:2:34: error: common_pid is a number" in e.value.rendered


def test_common_pid_filter_keeps_a_raw_tracepoint() -> None:
    b = build("var n = 0\ntrace sched:sched_switch /common_pid > 0/ { n += 1 }\n")
    assert [(a.kind, a.target) for p in b.manifest.programs for a in p.attach] == [
        ("raw_tracepoint", "sched:sched_switch")]


# A table or function in a probe body is bound at compile time, with no flag for nil.
# These used to compile and bind whichever value was lowered last, whatever ran: the
# first one counted 5 nils in 5 events where one event set x to the table.
NILABLE_TABLE = """var t = {}
t[1] = 7
var n = 0
var nils = 0
trace syscalls:sys_enter_getpid {
  n += 1
  var x = nil
  if (n == 2) { x = t }
  if (x == nil) { nils += 1 }
}
"""


def test_a_variable_that_holds_a_table_or_nil_is_refused() -> None:
    with pytest.raises(CompileError) as e:
        build(NILABLE_TABLE)
    assert e.value.rendered.startswith(
        "t.kp:7:3: error: 'x' holds a table and may be nil: in a probe body it cannot be both")


def test_a_function_that_returns_a_table_or_nil_is_refused() -> None:
    with pytest.raises(CompileError) as e:
        build("var t = {}\nt[1] = 7\nvar n = 0\n"
              "function f(c) { if (c == 2) { return t } }\n"
              "trace syscalls:sys_enter_getpid { n += 1\n  var x = f(n)\n  x[2] = 1 }\n")
    assert e.value.rendered.startswith(
        "t.kp:4:1: error: 'f' returns a table and may return nil: in a probe body it cannot "
        "do both")


def test_a_table_returned_on_every_path_compiles() -> None:
    # The IR keeps a block (with its implicit `return nil`) after the if/else that
    # returns on both sides; no path reaches it.
    b = build("var t = {}\nt[1] = 7\nvar n = 0\n"
              "function h(c) { if (c > 2) { return t } else { return t } }\n"
              "trace syscalls:sys_enter_getpid { n += 1\n  var y = h(n)\n  y[2] = 1 }\n")
    assert [t.name for t in b.manifest.tables] == ["t"]
