"""Generated probe bodies (hypothesis) on both paths: integer arithmetic of every sign,
division and modulo (by zero too), comparisons and string/nil results, each evaluated on
one getpid event of a traced command, outputs compared exactly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"

LEAVES = st.one_of(st.integers(-(2**63), 2**63 - 1).map(lambda n: f"({n})"),
                   st.sampled_from(["n", "(n - 2)", "(0 - n)"]))


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(children, st.sampled_from(["+", "-", "*", "/", "%"]), children).map(
        lambda t: f"({t[0]} {t[1]} {t[2]})")


EXPRESSIONS = st.recursive(LEAVES, _combine, max_leaves=5)


def run(script: Path, interp: bool) -> tuple[int, str, str]:
    done = subprocess.run([sys.executable, "-m", "kllvm", "run", "-q",
                           *(["--interp"] if interp else []), str(script), "--",
                           sys.executable, str(GETPIDS), "3"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout, done.stderr


@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(expression=EXPRESSIONS, compare=st.sampled_from(["<", "==", ">="]))
def test_generated_bodies_agree(tmp_path: Path, expression: str, compare: str) -> None:
    script = tmp_path / "generated.kp"
    script.write_text(f"""var n = 0
var t = {{}}
trace syscalls:sys_enter_getpid {{
    n += 1
    var v = {expression}
    t[n] = v
    if (v {compare} 0) {{ printf("%d yes %d\\n", n, v) }} else {{ print(n, "no", t[n - 1]) }}
}}
trace_end {{ print(n, t[1], t[2], t[3]) }}
""")
    assert run(script, True) == run(script, False)
