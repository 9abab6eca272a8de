"""Every sample with probes compiles, and every one of its programs passes the kernel's
verifier on this machine, with no libbpf warning (so the kernel accepted the BTF too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.loader import BPFObject
from frontend.diagnostics import Source
from kllvm import driver
from tests.sample_tapsets import SAMPLE_TAPSETS

SAMPLES = sorted((Path(__file__).parents[2] / "samples").glob("*.kp"))
PROBE_SAMPLES = [s for s in SAMPLES if "\ntrace " in s.read_text() or "profile-" in s.read_text()]


def test_there_are_probe_samples() -> None:
    assert len(PROBE_SAMPLES) >= 5


@pytest.mark.parametrize("sample", PROBE_SAMPLES, ids=lambda p: p.stem)
def test_sample_loads_through_the_verifier(sample: Path) -> None:
    build = driver.compile_script(Source(str(sample), sample.read_text()),
                                  tapset_path=SAMPLE_TAPSETS)
    assert build.object is not None
    obj = BPFObject.open(build.object, sample.stem)
    try:
        obj.load()
        assert obj.programs(), "no BPF program in the object"
        assert obj.warnings == []
    finally:
        obj.close()
