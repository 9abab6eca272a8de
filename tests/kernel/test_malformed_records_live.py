"""Records the kernel sends that match nothing in the manifest (only a damaged or crafted
object sends them) are counted and reported at the end, never trusted as indices."""

from __future__ import annotations

import io

import pytest

from backend import runtime
from frontend.diagnostics import Source
from kllvm import driver

pytestmark = pytest.mark.needs_root

SCRIPT = 'trace syscalls:sys_enter_getpid { print("x"); printf("%d\\n", pid) }\n'


def record(kind: int, ident: int, body: bytes = b"") -> bytes:
    return kind.to_bytes(4, "little") + ident.to_bytes(4, "little") + body


def test_records_naming_nothing_are_counted_not_trusted(
        capsys: pytest.CaptureFixture[str]) -> None:
    source = Source("m.kp", SCRIPT)
    build = driver.compile_script(source)
    assert build.object is not None
    out = io.BytesIO()
    session = runtime.Session(source, build.compilation.module, build.manifest, build.object,
                              out, [], runtime.Options(quiet=True))
    try:
        session.load()
        x = bytearray(build.manifest.strlen)
        x[0] = ord("x")
        session.on_record(record(1, 0, bytes(x)))  # print site 0 ("x"): a good record
        for bad in (record(1, 99), record(2, 1 << 31), record(4, 7), record(77, 0), b"\1",
                    record(1, 0, b"x")):  # too short for its string
            session.on_record(bad)
        session.warn_losses()
    finally:
        session.close()
    assert out.getvalue() == b"x\n"
    assert session.malformed_records == 6
    assert capsys.readouterr().err == (
        "m.kp: warning: 6 records from the kernel matched nothing in the artifact's manifest "
        "and were ignored (a damaged or foreign object?)\n")
