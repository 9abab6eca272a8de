"""The compile cache (kllvm/cache.py): a second run of a script starts from its artifact,
and nothing unsafe or damaged is ever used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from frontend.diagnostics import Source
from kllvm import cache

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
SCRIPT = """var n = 0
trace syscalls:sys_enter_getpid { n += 1; print("hello world") }
trace_end { printf("n=%d\\n", n) }
"""
NOBODY = 65534


def kllvm(folder: Path, *args: str, importtime: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(folder)}
    python = [sys.executable, *(["-X", "importtime"] if importtime else [])]
    return subprocess.run([*python, "-m", "kllvm", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def compiled(done: subprocess.CompletedProcess[str]) -> bool:
    """Whether the run imported the compiler (importtime lists every module imported)."""
    return any(line.endswith((" lark", " llvmlite")) for line in done.stderr.splitlines())


def entries(folder: Path) -> list[Path]:
    return sorted((folder / "kllvm").glob("*.kpa"))


def run_script(folder: Path, script: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return kllvm(folder, "run", "-q", *extra, str(script), "--", sys.executable, str(GETPIDS),
                 "2", importtime=True)


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    return path


EXPECTED = "hello world\nhello world\nn=2\n"


@pytest.mark.needs_root
def test_second_run_starts_from_the_cache(tmp_path: Path, script: Path) -> None:
    folder = tmp_path / "cache"
    first = run_script(folder, script)
    assert (first.returncode, first.stdout) == (0, EXPECTED), first.stderr
    assert compiled(first)
    [entry] = entries(folder)
    assert (entry.stat().st_mode & 0o777, (folder / "kllvm").stat().st_mode & 0o777) == \
        (0o600, 0o700)
    second = run_script(folder, script)
    assert (second.returncode, second.stdout) == (0, EXPECTED), second.stderr
    assert not compiled(second)
    assert entries(folder) == [entry]


@pytest.mark.needs_root
def test_a_changed_script_is_compiled_again(tmp_path: Path, script: Path) -> None:
    folder = tmp_path / "cache"
    assert run_script(folder, script).returncode == 0
    script.write_text(SCRIPT.replace("hello world", "changed"))
    done = run_script(folder, script)
    assert (done.returncode, done.stdout) == (0, "changed\nchanged\nn=2\n"), done.stderr
    assert compiled(done)
    assert len(entries(folder)) == 2


@pytest.mark.needs_root
def test_a_damaged_entry_is_ignored_and_replaced(tmp_path: Path, script: Path) -> None:
    folder = tmp_path / "cache"
    assert run_script(folder, script).returncode == 0
    [entry] = entries(folder)
    good = entry.read_bytes()
    entry.write_bytes(good.replace(b"hello world", b"HACKED", 1))
    done = run_script(folder, script)
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr
    assert compiled(done)
    assert entry.read_bytes() == good  # builds are reproducible: the entry is as before


@pytest.mark.needs_root
def test_an_entry_of_another_user_is_not_used(tmp_path: Path, script: Path) -> None:
    folder = tmp_path / "cache"
    assert run_script(folder, script).returncode == 0
    [entry] = entries(folder)
    os.chown(entry, NOBODY, NOBODY)
    done = run_script(folder, script)
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr
    assert compiled(done)
    assert entry.stat().st_uid == os.geteuid()


@pytest.mark.needs_root
def test_no_cache_neither_reads_nor_writes(tmp_path: Path, script: Path) -> None:
    folder = tmp_path / "cache"
    done = run_script(folder, script, "--no-cache")
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr
    assert not folder.exists()
    assert run_script(folder, script).returncode == 0
    again = run_script(folder, script, "--no-cache")
    assert compiled(again)


def _unsafe(tmp_path: Path, how: str) -> Path:
    folder = tmp_path / "cache"
    if how == "symlink":
        real = tmp_path / "elsewhere"
        real.mkdir(mode=0o700)
        folder.mkdir(mode=0o700)
        (folder / "kllvm").symlink_to(real)
    elif how == "other user":
        folder.mkdir(mode=0o700)
        os.chown(folder, NOBODY, NOBODY)
    else:
        folder.mkdir()
        folder.chmod(0o777)  # writable by all, and not sticky
    return folder


@pytest.mark.needs_root
@pytest.mark.parametrize(("how", "message"), [
    ("symlink", "a symbolic link is not followed"),
    ("other user", f"belongs to user {NOBODY}"),
    ("world-writable", "is writable by other users"),
])
def test_an_unsafe_folder_is_not_used(tmp_path: Path, script: Path, how: str,
                                      message: str) -> None:
    folder = _unsafe(tmp_path, how)
    done = run_script(folder, script)
    assert (done.returncode, done.stdout) == (0, EXPECTED), done.stderr
    assert "kllvm: warning: compile cache not used: " in done.stderr
    assert message in done.stderr
    assert not list(tmp_path.rglob("*.kpa"))


def test_the_key_covers_what_decides_the_artifact(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    events = tmp_path / "available_events"
    events.write_text("syscalls:sys_enter_getpid\n")
    monkeypatch.setattr(cache, "_KERNEL_FILES", (str(events),))
    base = cache.key(Source("a.kp", SCRIPT), 128)
    assert cache.key(Source("a.kp", SCRIPT), 128) == base
    assert cache.key(Source("b.kp", SCRIPT), 128) != base
    assert cache.key(Source("a.kp", SCRIPT + " "), 128) != base
    assert cache.key(Source("a.kp", SCRIPT), 256) != base
    events.write_text("syscalls:sys_enter_getpid\nsyscalls:sys_exit_getpid\n")
    assert cache.key(Source("a.kp", SCRIPT), 128) != base


def test_the_key_covers_the_compiler(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = cache.key(Source("a.kp", SCRIPT), 128)
    fake_root = tmp_path / "root"
    for package in ("frontend", "ir", "backend", "kllvm"):
        (fake_root / package).mkdir(parents=True)
        (fake_root / package / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "_ROOT", fake_root)
    other = cache.key(Source("a.kp", SCRIPT), 128)
    assert other != base
    (fake_root / "ir" / "m.py").write_text("x = 22\n")
    assert cache.key(Source("a.kp", SCRIPT), 128) != other
