"""The short forms users expect: `kllvm --version`, `kllvm FILE.kp`, `#!/usr/bin/env kllvm`
scripts and `kllvm run -`, run as a user would, with their output and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import kllvm

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
BIN = Path(sys.executable).parent  # the venv's `kllvm` console script lives here


def kllvm_cmd(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=60, check=False)


def test_version_is_the_package_version() -> None:
    done = kllvm_cmd("--version")
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"kllvm {kllvm.__version__}\n".encode(), b"")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" in project["dynamic"]  # read from kllvm.__version__, not repeated


def test_a_file_alone_is_run() -> None:
    short = kllvm_cmd("samples/args.kp", "hello", "12")
    long = kllvm_cmd("run", "samples/args.kp", "hello", "12")
    assert short.returncode == long.returncode == 0
    assert short.stdout == long.stdout != b""
    assert short.stderr == long.stderr == b""


def test_run_options_before_the_file() -> None:
    done = kllvm_cmd("-q", "-o", "/dev/stdout", "samples/helloworld.kp")
    assert (done.returncode, done.stdout, done.stderr) == (0, b"Hello World! I am ktap\n", b"")


def test_a_mistyped_command_is_not_taken_for_a_silent_success() -> None:
    done = kllvm_cmd("lsit")
    assert done.returncode == 1
    assert done.stderr == (b"kllvm: error: cannot read 'lsit': No such file or directory "
                           b"(nor is it a command: run, build, dump, list, bench)\n")


def _with_venv_path() -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


def test_samples_with_a_shebang_run_when_executable() -> None:
    shebang = [p for p in sorted(SAMPLES.glob("*.kp")) if p.read_bytes().startswith(b"#!")]
    assert len(shebang) >= 2
    for path in shebang:
        assert path.read_text().splitlines()[0] == "#!/usr/bin/env kllvm", path
        assert os.access(path, os.X_OK), f"{path} is not executable"
    done = subprocess.run([str(SAMPLES / "helloworld.kp")], cwd=ROOT, env=_with_venv_path(),
                          capture_output=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"Hello World! I am ktap\n", b"")


def test_an_executable_script_gets_its_arguments_and_command(tmp_path: Path) -> None:
    script = tmp_path / "greet.kp"
    script.write_text('#!/usr/bin/env kllvm\nprintf("%s %d\\n", arg[1], arg[2] + 1)\n')
    script.chmod(0o755)
    done = subprocess.run([str(script), "hi", "41"], env=_with_venv_path(),
                          capture_output=True, timeout=60, check=False)
    assert (done.returncode, done.stdout, done.stderr) == (0, b"hi 42\n", b"")


def test_run_dash_reads_the_script_from_standard_input() -> None:
    done = kllvm_cmd("run", "-", "x", stdin=b'print("from stdin", arg[1])\n')
    assert (done.returncode, done.stdout, done.stderr) == (0, b"from stdin\tx\n", b"")
    short = kllvm_cmd("-", stdin=b'print(1)\n')
    assert (short.returncode, short.stdout) == (0, b"1\n")


def test_errors_in_a_script_from_standard_input_name_it() -> None:
    done = kllvm_cmd("run", "-", stdin=b'print(1)\nprint(nope)\n')
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.startswith(b"<stdin>:2:7: error: undefined variable 'nope'\n"
                                  b"print(nope)\n      ^")


# -- the banner says what was attached


@pytest.mark.needs_root
@pytest.mark.parametrize(("program", "banner"), [
    # Two probes on one event count the event once.
    ("trace sched:sched_switch, sched:sched_wakeup {} trace sched:sched_switch {}",
     "Attaching 2 probes to 2 events...\n"),
    # A probe the main chunk does not register is not attached.
    ("if (false) { trace sched:sched_switch {} } trace sched:sched_wakeup {}",
     "Attaching 1 probe to 1 event...\n"),
])
def test_the_banner_counts_probes_and_events(program: str, banner: str) -> None:
    done = kllvm_cmd("-e", program, "-d", "0")
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"{banner}Tracing... Hit Ctrl-C to end.\n".encode(), b"")
    quiet = kllvm_cmd("-q", "-e", program, "-d", "0")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, b"", b"")


@pytest.mark.needs_root
def test_a_wide_syscall_glob_counts_every_event_it_serves() -> None:
    # One raw_syscalls attachment serves them all; the banner counts the events.
    events = sum(line.startswith("syscalls:sys_enter_") for line in
                 Path("/sys/kernel/tracing/available_events").read_text().splitlines())
    done = kllvm_cmd("-e", "trace syscalls:sys_enter_* { }", "-d", "0")
    assert (done.returncode, done.stdout.decode().splitlines()[0]) == (
        0, f"Attaching 1 probe to {events} events..."), done.stderr
