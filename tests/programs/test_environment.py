"""Whole programs whose output depends on the machine, so a .kpt case cannot spell it:
compared with what the OS says, through the same in-process CLI as the .kpt cases."""

from __future__ import annotations

import os
import time

from tests.programs.runner import run_cli


def test_environment_builtins_match_the_os() -> None:
    status, out, err = run_cli(["-e", "print(num_cpus(), arch(), kernel_v())"])
    assert (status, err) == (0, b"")
    cpus, machine, release = out.decode().rstrip("\n").split("\t")
    assert int(cpus) == os.sysconf("SC_NPROCESSORS_ONLN")
    assert machine == os.uname().machine
    assert release == os.uname().release


def test_gettimeofday_digit_counts_match_the_clock() -> None:
    before = time.time_ns()
    status, out, err = run_cli(
        ["-e", "print(gettimeofday_s(), gettimeofday_ms(), gettimeofday_us(), gettimeofday_ns())"])
    after = time.time_ns()
    assert (status, err) == (0, b"")
    values = [int(v) for v in out.split(b"\t")]
    for value, unit in zip(values, (10**9, 10**6, 10**3, 1), strict=True):
        assert len(str(value)) == len(str(before // unit))
        assert before // unit <= value <= after // unit
