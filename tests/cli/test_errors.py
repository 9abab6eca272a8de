"""Ordinary mistakes get one clear line and the right exit status, never a traceback or an
"internal error": each case of the README's exit-status table, run as a user would.
(Signals that end a live run, SIGHUP among them, are in test_run_lifecycle.py.)"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KLLVM = (sys.executable, "-m", "kllvm")
PROBE = 'trace syscalls:sys_enter_getpid { } trace_end { print("end") }'
NO_PROBE = 'print("out")'


def kllvm(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, *KLLVM, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=False)


def assert_clear(done: subprocess.CompletedProcess[str], status: int, message: str) -> None:
    assert (done.returncode, done.stderr) == (status, message), done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


# -- -o


@pytest.mark.parametrize("program", [
    NO_PROBE, pytest.param(PROBE, marks=pytest.mark.needs_root)])
def test_output_into_a_missing_folder(tmp_path: Path, program: str) -> None:
    target = tmp_path / "no" / "out.txt"
    done = kllvm("-e", program, "-d", "0", "-o", str(target))
    assert_clear(done, 1, f"kllvm: error: cannot write output file '{target}': "
                          "No such file or directory\n")
    assert done.stdout == ""


@pytest.mark.parametrize("program", [
    NO_PROBE, pytest.param(PROBE, marks=pytest.mark.needs_root)])
def test_output_onto_a_full_disk(program: str) -> None:
    done = kllvm("-e", program, "-d", "0", "-o", "/dev/full")
    assert_clear(done, 1, "kllvm: error: cannot write to '/dev/full': "
                          "No space left on device\n")


@pytest.mark.needs_root
@pytest.mark.parametrize(("where", "why"), [
    ("no/such/dir.kpo", "No such file or directory"), ("/dev/full", "No space left on device")])
def test_an_artifact_that_cannot_be_written(tmp_path: Path, where: str, why: str) -> None:
    target = where if where.startswith("/") else str(tmp_path / where)
    done = kllvm("build", "samples/syscalls_count.kp", "-o", target)
    assert_clear(done, 1, f"kllvm: error: cannot write artifact '{target}': {why}\n")


# -- -p


@pytest.mark.needs_root
def test_pid_of_no_process() -> None:
    with open("/proc/sys/kernel/pid_max") as f:
        beyond = int(f.read()) + 1  # no process can have it
    done = kllvm("-e", PROBE, "-p", str(beyond))
    assert_clear(done, 1, f"kllvm: error: -p {beyond}: no such process\n")
    assert done.stdout == ""


@pytest.mark.needs_root
def test_the_traced_process_exiting_ends_the_run() -> None:
    # kllvm is held by the target's exit, not by a Ctrl-C: trace_end runs, status 0.
    target = subprocess.Popen(["sleep", "1.5"])
    try:
        start = time.monotonic()
        done = kllvm("-q", "-e", PROBE, "-p", str(target.pid))
        assert (done.returncode, done.stdout, done.stderr) == (0, "end\n", "")
        assert time.monotonic() - start < 30
    finally:
        target.kill()
        target.wait()


def test_pid_and_command_together() -> None:
    done = kllvm("-e", PROBE, "-p", "1", "--", "true")
    assert done.returncode == 2
    assert done.stderr.endswith(
        "kllvm: error: -p PID and -- CMD choose the process to trace: give one\n")


@pytest.mark.parametrize(("option", "value", "message"), [
    ("-d", "-1", "argument -d/--duration: -1: must be a finite number of seconds, 0 or more"),
    ("-d", "nan", "argument -d/--duration: nan: must be a finite number of seconds, 0 or more"),
    ("-p", "0", "argument -p/--pid: 0: a process id is 1 or more"),
])
def test_malformed_options_exit_2(option: str, value: str, message: str) -> None:
    done = kllvm("-e", PROBE, option, value)
    assert done.returncode == 2
    assert done.stderr.startswith("usage: kllvm run")
    assert done.stderr.endswith(f"kllvm run: error: {message}\n")


# -- -- CMD


@pytest.mark.needs_root
@pytest.mark.parametrize(("command", "status", "message"), [
    ("no-such-command-h13", 127, "cannot run 'no-such-command-h13': command not found"),
    ("/no/such/file", 127, "cannot run '/no/such/file': no such file"),
    ("/etc/passwd", 126, "cannot run '/etc/passwd': permission denied"),
    ("/etc", 126, "cannot run '/etc': is a directory"),
])
def test_a_command_that_cannot_start(command: str, status: int, message: str) -> None:
    done = kllvm("-e", PROBE, "--", command)
    assert_clear(done, status, f"kllvm: error: {message}\n")
    assert done.stdout == ""


@pytest.mark.needs_root
def test_a_command_killed_by_a_signal_gives_128_plus_n() -> None:
    done = kllvm("-q", "-e", PROBE, "--", "sh", "-c", "kill -KILL $$")
    assert (done.returncode, done.stdout, done.stderr) == (128 + signal.SIGKILL, "end\n", "")


# -- Ctrl-C while compiling


@pytest.mark.needs_root
def test_ctrl_c_while_compiling_is_quiet_130(tmp_path: Path) -> None:
    # 3000 branches take seconds to compile: the interrupt comes in the middle.
    script = tmp_path / "big.kp"
    body = "\n".join(f"  if (arg1 == {i}) {{ n += {i} }}" for i in range(3000))
    script.write_text(f"var n = 0\ntrace syscalls:sys_enter_write {{\n{body}\n}}\n")
    proc = subprocess.Popen([*KLLVM, "run", str(script)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out, err) == (130, "", "")


# -- bcc missing

# kllvm as started by its console script, with bcc's module made unimportable.
WITHOUT_BCC = ("import sys; sys.modules['bcc'] = None; from kllvm.__main__ import run; "
               "sys.argv[0] = 'kllvm'; sys.exit(run())")
INSTALL = "install Debian's python3-bpfcc (apt-get install python3-bpfcc)"


def without_bcc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT_BCC, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.needs_root
def test_bcc_missing_says_which_package_to_install() -> None:
    listing = without_bcc("list", "probe:/bin/bash:readline")
    assert_clear(listing, 1, f"kllvm: error: bcc's Python module is missing: {INSTALL}\n")
    run = without_bcc("-q", "-e", "trace probe:/bin/bash:readline { }", "-d", "0")
    assert_clear(run, 1, "kllvm: error: cannot attach to /bin/bash:readline: bcc's Python "
                         f"module is missing: {INSTALL}\n")
