"""Live: tick-N and profile-N in every unit ktap accepts (s, sec, ms, msec, us, usec)
and kllvm's hz, with exact counts, and a profile rate the kernel throttles reported, not hidden."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root


def run(tmp_path: Path, script: str, *options: str) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), *options, str(path)])
    return status, out.read_text() if out.exists() else ""


@pytest.mark.parametrize(("interval", "seconds", "ticks"), [
    ("200ms", 0.2, 3), ("200msec", 0.2, 3), ("200000us", 0.2, 3), ("200000usec", 0.2, 3),
    ("1s", 1.0, 2), ("1sec", 1.0, 2), ("5hz", 0.2, 3),
])
def test_tick_in_every_unit(tmp_path: Path, interval: str, seconds: float,
                            ticks: int) -> None:
    script = f"""var n = 0
var at = {{}}
tick-{interval} {{
  n += 1
  at[n] = gettimeofday_us()
  if (n == {ticks}) {{ exit() }}
}}
trace_end {{
  print(n)
  for (i = 2, n) {{ print(at[i] - at[i - 1]) }}
}}
"""
    status, out = run(tmp_path, script, "-d", str(seconds * (ticks + 2)))
    assert status == 0
    count, *gaps = out.split()
    assert int(count) == ticks
    # One interval apart: never early, late by at most a poll's wake-up.
    for gap in map(int, gaps):
        assert seconds * 1e6 * 0.95 <= gap <= seconds * 1e6 + 60_000, (interval, gaps)


@pytest.mark.parametrize(("interval", "duration", "per_cpu"), [
    ("100ms", 0.35, 3), ("100msec", 0.35, 3), ("100000us", 0.35, 3),
    ("100000usec", 0.35, 3), ("1s", 1.4, 1), ("1sec", 1.4, 1), ("10hz", 0.35, 3),
])
def test_profile_in_every_unit_fires_on_every_cpu(tmp_path: Path, interval: str,
                                                  duration: float, per_cpu: int) -> None:
    script = f"""var n = 0
var cpus = {{}}
profile-{interval} {{ n += 1; cpus[cpu] += 1 }}
trace_end {{
  print(n)
  for (k, v in pairs(cpus)) {{ print(k, v) }}
}}
"""
    status, out = run(tmp_path, script, "-d", str(duration))
    assert status == 0
    total, *rows = out.splitlines()
    ncpu = os.cpu_count() or 1
    counts = dict(tuple(map(int, row.split("\t"))) for row in rows)
    # A perf CPU clock per CPU, idle or not: each fired once per period until -d.
    assert counts == {cpu: per_cpu for cpu in range(ncpu)}, out
    assert int(total) == per_cpu * ncpu


def test_throttled_profile_rate_is_reported(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    # The kernel's CPU clock fires at most every 10 us (and perf throttles more when
    # the samples take too long): 1 us is a tenth of the rate at best.
    status, out = run(tmp_path, "var n = 0\nprofile-1us { n += 1 }\ntrace_end { print(n) }\n",
                      "-d", "0.3")
    assert status == 0
    err = capsys.readouterr().err
    match = re.search(r"script.kp:2:1: warning: the profile timer took (\d+) samples in "
                      r"([0-9.]+) s on (\d+) CPUs, (\d+)% of the (\d+) its period asks for: "
                      r"the kernel throttled it \(kernel.perf_event_max_sample_rate is now "
                      r"\d+\)\n", err)
    assert match is not None, err
    taken, seconds, cpus, percent, asked = match.groups()
    assert int(cpus) == os.cpu_count()
    assert int(taken) <= 0.1 * int(asked) + int(cpus) and int(percent) <= 10
    assert int(out) <= int(taken)  # counted after the stop check, as the body runs
    assert abs(int(asked) - float(seconds) * 1e6 * int(cpus)) <= 0.01 * int(asked)
    # A rate the kernel keeps up with is not reported.
    status, out = run(tmp_path, "var n = 0\nprofile-10ms { n += 1 }\ntrace_end { print(n) }\n",
                      "-d", "0.3")
    assert status == 0 and "throttled" not in capsys.readouterr().err
