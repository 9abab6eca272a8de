"""kllvm runs as root: it must not read or write files in a world-writable folder.

lark's `cache=True` (which kllvm once used) unpickled a file from the temporary folder under a
name any local user can compute, and wrote its cache through whatever link was planted there.
These tests plant both under that very name and run kllvm with TMPDIR pointing at them, then run
a representative set of commands with TMPDIR pointing at a fresh folder that must stay empty.
"""

from __future__ import annotations

import getpass
import os
import pickle
import subprocess
import sys
from pathlib import Path

import lark
import pytest
from lark.load_grammar import sha256_digest

from frontend import parsetables

ROOT = Path(__file__).resolve().parents[2]
needs_root = pytest.mark.needs_root


def kllvm(tmpdir: Path, *args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TMPDIR": str(tmpdir)}
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def lark_cache_names(tmpdir: Path) -> set[Path]:
    """Where lark 1.3.1 looks for the cache of the parser kllvm built with `cache=True`:
    computed as lark.Lark.__init__ does, for every name the user may go by."""
    options = {"parser": "lalr", "lexer": "basic", "propagate_positions": True, "cache": True}
    options_str = "".join(key + str(value) for key, value in options.items())
    grammar = parsetables.GRAMMAR_PATH.read_text(encoding="utf-8")
    digest = sha256_digest(grammar + options_str + lark.__version__ + str(sys.version_info[:2]))
    users = {getpass.getuser(), "root", "unknown"}
    major, minor = sys.version_info[:2]
    return {tmpdir / f".lark_cache_{user}_{digest}_{major}_{minor}.tmp" for user in users}


class _Payload:
    """Unpickling this makes the directory `marker`: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def test_a_planted_lark_cache_is_never_unpickled(tmp_path: Path) -> None:
    tmpdir, marker = tmp_path / "tmp", tmp_path / "payload-ran"
    tmpdir.mkdir()
    for name in lark_cache_names(tmpdir):
        digest = name.name.split("_")[3]
        name.write_bytes(digest.encode() + b"\n" + pickle.dumps(_Payload(marker)))
    result = kllvm(tmpdir, "-e", "print(1)")
    assert (result.returncode, result.stdout, result.stderr) == (0, "1\n", "")
    script = tmp_path / "s.kp"
    script.write_text("print(2)\n")
    result = kllvm(tmpdir, "dump", "--emit=ast", str(script))
    assert result.returncode == 0, result.stderr
    assert not marker.exists()


def test_a_planted_link_is_never_written_through(tmp_path: Path) -> None:
    tmpdir, victim = tmp_path / "tmp", tmp_path / "victim"
    tmpdir.mkdir()
    victim.write_text("precious\n")
    for name in lark_cache_names(tmpdir):
        name.symlink_to(victim)
    result = kllvm(tmpdir, "-e", "print(1)")
    assert (result.returncode, result.stdout, result.stderr) == (0, "1\n", "")
    assert victim.read_text() == "precious\n"


PROBE_SCRIPT = """\
var n = 0
trace syscalls:sys_enter_getpid { n += 1 }
tick-100ms { print("tick") }
trace_end { print(n >= 0) }
"""


def test_offline_commands_leave_tmpdir_empty(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    script = tmp_path / "s.kp"
    script.write_text('var t = {}\nt["a"] = 1\nprint(t["a"])\n')
    for args in (["-e", "print(1)"], ["run", str(script)], ["dump", "--emit=ir", str(script)]):
        result = kllvm(tmpdir, *args)
        assert result.returncode == 0, result.stderr
    assert list(tmpdir.iterdir()) == []


@needs_root
def test_live_commands_leave_tmpdir_empty(tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    script, artifact = tmp_path / "p.kp", tmp_path / "p.kpo"
    script.write_text(PROBE_SCRIPT)
    commands = [
        ["-e", "trace syscalls:sys_enter_getpid { print(1) }", "-d", "0.2"],
        ["dump", "--emit=asm", str(script)],
        ["build", "-o", str(artifact), str(script)],
        ["run", "-d", "0.3", str(artifact)],
    ]
    for args in commands:
        result = kllvm(tmpdir, *args)
        assert result.returncode == 0, (args, result.stderr)
    assert result.stdout.endswith("true\n")
    assert list(tmpdir.iterdir()) == []
