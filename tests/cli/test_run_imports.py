"""Compile and run apart: running a built artifact loads no part of the compiler."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
COMPILER = ("lark", "llvmlite", "frontend.parser", "kllvm.driver", "kllvm.compiler",
            "kllvm.dumping",
            "backend.lower", "backend.codegen")


def imported_modules(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and line.count("|") == 2}


def test_running_an_artifact_imports_no_compiler(tmp_path: Path) -> None:
    script = tmp_path / "count.kp"
    script.write_text("var n = 0\ntrace syscalls:sys_enter_getpid { n += 1 }\n"
                      "trace_end { print(n) }\n")
    artifact = tmp_path / "count.kpo"
    built = subprocess.run([sys.executable, "-m", "kllvm", "build", str(script), "-o",
                            str(artifact)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert built.returncode == 0, built.stderr
    modules = imported_modules("run", "-q", "-d", "0", str(artifact))
    assert "backend.runtime" in modules  # the measurement sees kllvm's own modules
    loaded = sorted(m for m in modules if m.split(".")[0] in ("lark", "llvmlite")
                    or m in COMPILER)
    assert loaded == []


def test_running_a_script_does_import_the_compiler(tmp_path: Path) -> None:
    script = tmp_path / "count.kp"
    script.write_text("trace syscalls:sys_enter_getpid { }\n")
    assert {"lark", "llvmlite", "kllvm.compiler"} <= imported_modules(
        "run", "-q", "-d", "0", str(script))
