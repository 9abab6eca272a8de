"""Live: a sample of the generated probe scripts of tests/backend/test_fuzz_probes.py
that compiled goes through the kernel's verifier: lowering makes programs the kernel
accepts, not only objects LLVM can write. (They are compiled against the fake tracefs:
the verifier checks context reads against the tracepoint context's bounds, not against
one event's record, and nothing is attached.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from backend.loader import BPFObject
from frontend.diagnostics import Source
from kllvm import driver

sys.path.insert(0, str(Path(__file__).parents[1] / "backend"))
import test_fuzz_probes as fuzz  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for bpf()")

SAMPLE = 40


def load(obj: bytes) -> None:
    bpf = BPFObject.open(obj, "fuzz")
    try:
        bpf.load()
    finally:
        bpf.close()


def test_generated_programs_pass_the_verifier() -> None:
    objects = [o for o in (fuzz.outcome(seed, fuzz.case(seed)) for seed in range(0, 200, 2))
               if o.object is not None][:SAMPLE]
    assert len(objects) == SAMPLE
    rejected = []
    for o in objects:
        assert o.object is not None
        try:
            load(o.object)
        except Exception as e:  # noqa: BLE001 - collected and reported below
            rejected.append(f"seed {o.seed}: {str(e)[-600:]}\n{o.text}")
    assert not rejected, "\n\n".join(rejected[:3])


def test_argstr_next_to_a_field_read_at_the_same_offset() -> None:
    # Found by the sample: the argstr copy's source (ctx + 8) was shared with the read
    # of arg0 at offset 8, which LLVM then loaded through a register ("dereference of
    # modified ctx ptr").
    source = """var n = 0
trace syscalls:sys_exit_read {
  printf("%d\\n", arg0)
  if (arg1 > n) { print(argstr); n += 1 } else { print(arg0 + arg1) }
}
"""
    build = driver.compile_script(Source("c.kp", source))
    assert build.object is not None
    load(build.object)
