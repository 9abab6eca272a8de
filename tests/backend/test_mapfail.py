"""Maps the kernel refuses to create: libbpf's message parsed into a MapFailure, and the
failure reported at the table's creation in the script. No kernel needed."""

from __future__ import annotations

import errno

import pytest
from fake_tracefs import FakeTracefs

from backend import mapfail
from backend.loader import LIBBPF_WARN, LibbpfMessage, LoadError, MapFailure
from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import CompileError, Source
from kllvm.driver import compile_script

FORMATS = {("syscalls", "sys_enter_getpid"): (
    "name: x\nID: 1\nformat:\n\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
    "\tfield:int __syscall_nr;\toffset:8;\tsize:4;\tsigned:1;\n\nprint fmt: \"\"\n")}


def test_libbpf_map_failure_is_parsed() -> None:
    messages = [LibbpfMessage(LIBBPF_WARN, text) for text in (
        "libbpf: Error in bpf_create_map_xattr(t0_t):Argument list too long(-7). "
        "Retrying without BTF.\n",
        "libbpf: map 't0_t': failed to create: Argument list too long(-7)\n",
        "libbpf: failed to load object 'kllvm'\n")]
    error = LoadError.from_messages("loading failed", messages)
    assert error.map_failure == MapFailure("t0_t", errno.E2BIG)
    assert error.map_failure.reason == "Argument list too long (E2BIG)"


def test_program_rejection_is_not_a_map_failure() -> None:
    messages = [LibbpfMessage(LIBBPF_WARN, "libbpf: prog 'p': BPF program load failed: "
                                           "Permission denied\n-- BEGIN PROG LOAD LOG --\n"
                                           "R0 invalid mem access\n-- END PROG LOAD LOG --\n")]
    assert LoadError.from_messages("x", messages).map_failure is None


SCRIPT = """var n = 0
var big = table.new(20000000)
trace syscalls:sys_enter_getpid { big[execname] = n }
"""


def build(text: str, strlen: int = 128):  # noqa: ANN201 - a Build
    return compile_script(Source("m.kp", text), strlen,
                          catalog=TracepointCatalog(FakeTracefs(FORMATS)))


def test_table_failure_points_at_the_table() -> None:
    b = build(SCRIPT, 1024)
    map_name = b.manifest.tables[0].map
    text = mapfail.message(b.compilation.source, b.compilation.module, b.manifest,
                           MapFailure(map_name, errno.ENOMEM), 2)
    assert text.splitlines() == [
        "m.kp:2:11: error: the kernel cannot create the map of table 'big' (20000000 entries "
        "of 1024-byte keys and 8-byte values, about 20.1 GB): Cannot allocate memory "
        "(ENOMEM)",
        "var big = table.new(20000000)",
        "          ^~~~~~~~~~~~~~~~~~~",
        "hint: the kernel could not allocate the map's memory",
        "hint: give table.new a smaller size, or a smaller --strlen for string keys and values"]


def test_kllvm_maps_are_named() -> None:
    b = build(SCRIPT)
    text = mapfail.message(b.compilation.source, b.compilation.module, b.manifest,
                           MapFailure("kllvm_scratch", errno.ENOMEM), 2)
    assert text.startswith("m.kp: error: the kernel cannot create the per-CPU scratch map "
                           "of the strings probes make (128 bytes each")


def test_capacity_over_a_u32_is_a_compile_error() -> None:
    with pytest.raises(CompileError) as e:
        build("var t = table.new(5000000000)\ntrace syscalls:sys_enter_getpid { t[1] += 1 }\n")
    assert e.value.rendered.startswith(
        "m.kp:1:9: error: table 't' of 5000000000 entries: a kernel map holds at most "
        "4294967295\n")
