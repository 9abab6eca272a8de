"""Every script kllvm builds gives an artifact that passes its own checks and reads back
as what was written (the checks refuse nothing real)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend import tracefs
from backend.artifact import Artifact
from backend.artifactcheck import CheckError, check_object
from backend.manifest import Manifest
from frontend.diagnostics import CompileError, Source
from ir.printer import print_module
from kllvm import driver
from tests.programs.kpt import all_cases

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]

SOURCES = [(f"samples/{p.name}", p.read_text()) for p in sorted((ROOT / "samples").glob("*.kp"))]
SOURCES += [(case.id, case.source) for case in all_cases() if "trace" in case.source]
# The backend's other shapes: wide and raw tracepoints, filters, profile, nil-able
# globals, string tables, uprobes.
SOURCES += [(f"extra{i}.kp", text) for i, text in enumerate([
    "var s = {}\ntrace syscalls:sys_enter_* { s[probename] += 1 }\n",
    "trace syscalls:* { print(argstr) }\n",
    "var raw = {}\ntrace syscalls:sys_enter_*at { raw[probename] += arg1 }\n",
    "var hits = 0\ntrace syscalls:sys_enter_close /fd >= 3 && fd != 77/ { hits += 1 }\n",
    "var n = 0\nprofile-1000us { n += 1 }\ntick-1s { print(n) }\n",
    "var sw = {}\ntrace sched:sched_switch { sw[execname] += 1 }\n"
    "trace_end { print_hist(sw) }\n",
    'var last\nvar who = {}\ntrace syscalls:sys_enter_getpid { last = execname; '
    'who[execname] = "x" }\ntrace_end { print(last) }\n',
    "var n = 0\ntrace probe:/bin/bash:readline { n += 1 }\n",
    "trace syscalls:sys_enter_getpid, syscalls:sys_enter_getppid { printf(\"%s %d\\n\", "
    "probename, tid); exit() }\n",
    "var s = {}\nvar u = {}\nprofile-1ms { s[stack(-1, 2)] += 1; u[ustack()] += 1; "
    "print(stack(3)) }\ntrace_end { print_hist(s) }\n",
])]


def built(name: str, text: str) -> Artifact | None:
    tracefs.ensure_tracefs()
    source = Source(name, text)
    try:
        build = driver.compile_script(source, 128)
    except CompileError:
        return None
    if build.object is None:
        return None
    return Artifact(source, build.manifest, build.object, build.compilation.module)


def test_built_artifacts_pass_their_checks() -> None:
    count = 0
    for name, text in SOURCES:
        artifact = built(name, text)
        if artifact is None:
            continue
        count += 1
        again = Artifact.loads(artifact.dumps())
        assert print_module(again.module) == print_module(artifact.module), name
        assert again.manifest.to_json() == artifact.manifest.to_json(), name
        assert again.object == artifact.object
    assert count == 17


def test_an_object_that_crashes_libbpf_is_refused() -> None:
    # Three bytes changed in a kllvm object (found by the artifact fuzz) make libbpf
    # 1.1's bpf_object__open_mem segfault; the check opens objects in a child process.
    image = (ROOT / "tests" / "backend" / "data" / "libbpf_open_segfault.elf").read_bytes()
    with pytest.raises(CheckError, match="libbpf (crashed reading|cannot read) its BPF object"):
        check_object(Manifest(strlen=128), image)
