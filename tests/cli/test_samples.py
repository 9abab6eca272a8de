"""Every probe-less sample in samples/ run through the CLI (in process), its stdout compared
exactly with tests/cli/expected/<sample>.out. The expected outputs were worked out from the
language reference (Part B §4.3 print/printf, §4.4 print_hist with kllvm's tie order of
Part A §15 / ir/fmt.py), not copied from a run.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from kllvm import cli

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
EXPECTED = Path(__file__).resolve().parent / "expected"

ARGS = {"args": ["hello", "2"]}
XFAIL: dict[str, str] = {}  # sample stem -> reason, for samples that expose a known bug


def has_probes(text: str) -> bool:
    return any(line.lstrip().startswith(("trace ", "tick-", "profile-"))
               for line in text.splitlines())


def probeless_samples() -> list[Path]:
    return [p for p in sorted(SAMPLES.glob("*.kp")) if not has_probes(p.read_text())]


def run(argv: list[str]) -> tuple[int, bytes, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    streams = (io.TextIOWrapper(out, write_through=True), io.TextIOWrapper(err, write_through=True))
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = streams
    try:
        status = cli.main(argv)
    finally:
        sys.stdout, sys.stderr = saved
    return status, out.getvalue(), err.getvalue()


def _param(sample: Path) -> object:
    marks = []
    if sample.stem in XFAIL:
        marks.append(pytest.mark.xfail(strict=True, reason=XFAIL[sample.stem]))
    return pytest.param(sample, id=sample.stem, marks=marks)


@pytest.mark.parametrize("sample", [_param(p) for p in probeless_samples()])
def test_sample(sample: Path) -> None:
    status, out, err = run(["run", str(sample), *ARGS.get(sample.stem, [])])
    assert (status, err) == (0, b"")
    assert out == (EXPECTED / f"{sample.stem}.out").read_bytes()


def test_every_probeless_sample_has_an_expected_output() -> None:
    samples = probeless_samples()
    assert samples
    assert {p.stem for p in samples} == {p.stem for p in EXPECTED.glob("*.out")}


def test_samples_run_with_quiet_and_output_file(tmp_path: Path) -> None:
    out = tmp_path / "hello.txt"
    status, stdout, _ = run(["run", "-q", "-o", str(out), str(SAMPLES / "helloworld.kp")])
    assert (status, stdout) == (0, b"")
    assert out.read_bytes() == (EXPECTED / "helloworld.out").read_bytes()
