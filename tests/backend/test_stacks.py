"""Stacks in user space (backend.stacks) with fake maps and symbol files; the stack
layout (backend.layout) and the stack() lowering's compile errors."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from backend import layout as lay
from backend import manifest as mf
from backend.stacks import KernelSymbols, Stacks
from frontend.diagnostics import CompileError, Source
from ir import fmt
from ir.values import KernelIp, StackValue
from kllvm import driver


@pytest.mark.parametrize("ref", [
    lay.StackRef(False, 0, 127, 0), lay.StackRef(False, 16383, 5, 0),
    lay.StackRef(False, -errno.EEXIST, 127, 0), lay.StackRef(True, 7, 127, 4_194_304),
    lay.StackRef(True, -errno.EFAULT, 1, 1),
])
def test_stack_values_pack_into_eight_bytes(ref: lay.StackRef) -> None:
    layout = "ustack" if ref.user else "stack"
    data = lay.encode(layout, ref, 128)
    assert len(data) == lay.size_of(layout, 128) == 8
    assert lay.decode(layout, data, 128) == ref


def kallsyms(tmp_path: Path) -> KernelSymbols:
    path = tmp_path / "kallsyms"
    path.write_text("0000000000000000 T zero_is_skipped\n"
                    "ffffffff81000000 T _stext\n"
                    "ffffffff81000100 t helper\n"
                    "ffffffff81000100 d data_is_skipped\n"
                    "ffffffff81000180 T __schedule\n"
                    "ffffffff81000400 T schedule\n"
                    "ffffffffc0001000 t mod_fn\t[mymod]\n"
                    "ffffffffc0001040 t mod_next\t[mymod]\n")
    return KernelSymbols.read(str(path))


def test_kernel_symbols_as_the_kernel_prints_them(tmp_path: Path) -> None:
    symbols = kallsyms(tmp_path)
    assert symbols.name(0xffffffff81000180 + 0x4a) == "__schedule+0x4a/0x280"
    assert symbols.name(0xffffffff81000100) == "helper+0x0/0x80"
    assert symbols.name(0xffffffffc0001004) == "mod_fn+0x4/0x40 [mymod]"
    assert symbols.function(0xffffffffc0001004) == "mod_fn"
    assert symbols.name(0x1000) == "0x1000"


class FakeMap:
    def __init__(self, entries: dict[bytes, bytes]) -> None:
        self.entries = entries

    def lookup(self, key: bytes) -> bytes | None:
        return self.entries.get(key)

    def keys(self) -> list[bytes]:
        return list(self.entries)


class FakeBss:
    def __init__(self, lost: list[int]) -> None:
        self.variables = {mf.STACK_LOST: (0, 8 * len(lost))}
        self.data = b"".join(n.to_bytes(8, "little") for n in lost)

    def read(self, name: str) -> bytes:
        return self.data


def frames(*addresses: int) -> bytes:
    return b"".join(a.to_bytes(8, "little") for a in addresses).ljust(127 * 8, b"\0")


def test_stack_values_losses_and_warnings(tmp_path: Path) -> None:
    stack_map = FakeMap({(3).to_bytes(4, "little"): frames(0xffffffff81000190,
                                                           0xffffffff81000410)})
    stacks = Stacks({False: stack_map}, None, FakeBss([2, 0, 5, 0, 0, 1]))  # type: ignore[arg-type]
    stacks._kernel = kallsyms(tmp_path)
    # A symbol's size is the distance to the next one (here a module's, far away).
    assert stacks.value(lay.StackRef(False, 3, 127, 0)) == StackValue(
        ("__schedule+0x10/0x280", "schedule+0x10/0x3f000c00"))
    assert stacks.value(lay.StackRef(False, 3, 1, 0)) == StackValue(("__schedule+0x10/0x280",))
    assert stacks.functions(lay.StackRef(False, 3, 127, 0)) == ["schedule", "__schedule"]
    assert stacks.value(lay.StackRef(False, -errno.EEXIST, 127, 0)) == StackValue(
        ("[lost: collision in the stack map]",))
    assert stacks.value(lay.StackRef(False, -errno.EFAULT, 127, 0)) == StackValue(
        ("[no kernel stack]",))
    # An id the map no longer holds: counted once, however often it is read.
    gone = lay.StackRef(False, 9, 127, 0)
    assert stacks.value(gone) == stacks.value(gone) == StackValue(
        ("[lost: no longer in the stack map]",))
    assert stacks.warnings() == [
        "2 kernel stacks lost: another stack held their bucket of the stack map (a hash "
        "collision)",
        "5 kernel stacks not taken: there was none (samples taken while the CPU ran user "
        "code)",
        "1 user stack not taken: the task had none (kernel threads and the idle task run no "
        "user code)",
        "1 stack lost: their ids were no longer in the stack map when read",
    ]


@pytest.mark.parametrize(("body", "message"), [
    ("var d = 3\nprofile-1ms { print(stack(d)) }",
     "2:21: error: stack() takes constant numbers: stack(depth, skip)"),
    ("profile-1ms { print(ustack(5, 256)) }",
     "1:21: error: ustack() can skip 0 to 255 frames, not 256"),
    ("tick-1s { print(stack()) }", "'stack()' is not available in a tick body"),
    ("var s = {}\nprofile-1ms { s[stack()] += 1; s[ustack()] += 1 }",
     "it is a kernel stack here and a user stack there"),
])
def test_stack_compile_errors(body: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        driver.compile_script(Source("s.kp", body))
    assert message in info.value.rendered


def test_ipof_values_print_only_through_printf_p() -> None:
    with pytest.raises(CompileError) as info:
        driver.compile_script(Source("s.kp", "trace timer:timer_start { print(ipof(arg1)) }"))
    assert "print cannot show an ipof() value" in info.value.rendered
    assert lay.decode("ip", lay.encode("ip", KernelIp(0xffffffff81000180), 128), 128) == \
        KernelIp(0xffffffff81000180)
    names = {0xffffffff81000180: b"__schedule"}
    assert fmt.ktap_printf(b"%p\n", [KernelIp(0xffffffff81000180)], names.__getitem__) == \
        b"__schedule\n"
    hist = fmt.print_hist([(KernelIp(0xffffffff81000180), 2)], 5, names.__getitem__)
    assert b"                     __schedule |" in hist
