"""How a live run starts and ends: signals, the traced command's fate and exit status,
bad run options. Each test runs the `kllvm` command as a separate process."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.needs_root

ROOT = Path(__file__).resolve().parents[2]
GETPIDS = ROOT / "tests" / "kernel" / "getpids.py"
KLLVM = (sys.executable, "-m", "kllvm")


def kllvm(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KLLVM, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_user_space_table_beside_probes(tmp_path: Path) -> None:
    """A table no probe uses stays in the interpreter; its drops are still reported."""
    path = tmp_path / "user.kp"
    path.write_text("var u = table.new(0, 1)\nu[1] = 2\nu[2] = 3\n"
                    "trace syscalls:sys_enter_getpid { print(pid > 0) }\n"
                    "trace_end { print(u[1], u[2]) }\n")
    done = kllvm("run", "-q", str(path), "--", sys.executable, str(GETPIDS), "2")
    assert (done.returncode, done.stdout) == (0, "true\ntrue\n2\tnil\n"), done.stderr
    assert done.stderr == (f"{path}:1:9: warning: table 'u' is full (1 entries): "
                           "1 update was dropped\n"
                           "var u = table.new(0, 1)\n        ^~~~~~~~~~~~~~~\n")


# -- the traced command


def running(marker: str) -> list[int]:
    """Processes (not zombies) whose command line has `marker` as an argument."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # it has just exited
            continue
        if marker.encode() in args:
            found.append(int(entry.name))
    return found


def gone_within(marker: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while running(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def sleeper(marker: str, ignore_term: bool = False) -> list[str]:
    """A command that sleeps for minutes, recognisable by `marker` among its arguments."""
    code = "import signal, sys, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    code += "print('started', flush=True)\ntime.sleep(300)\n"
    return [sys.executable, "-c", code, marker]


COUNT_SCRIPT = ("var n = 0\ntrace syscalls:sys_enter_getpid { n += 1 }\n"
                "trace_end { print(\"end\") }\n")


def spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*KLLVM, *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_command_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path: Path) -> None:
    marker = f"kllvm-test-{tmp_path.name}"
    done = kllvm("-q", "-d", "0.3", "-e", COUNT_SCRIPT, "--", *sleeper(marker, True),
                 timeout=30)
    # kllvm ended the command (SIGTERM, then SIGKILL): the run's status is the script's.
    assert (done.returncode, done.stdout) == (0, "started\nend\n"), done.stderr
    assert not running(marker)


def test_second_signal_kills_the_command_at_once(tmp_path: Path) -> None:
    from backend.command import TERM_GRACE_S

    marker = f"kllvm-test-{tmp_path.name}"
    proc = spawn("-q", "-e", COUNT_SCRIPT, "--", *sleeper(marker, True))
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    proc.send_signal(signal.SIGINT)
    first = time.monotonic()
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    # Without the second signal kllvm waits TERM_GRACE_S before its SIGKILL.
    assert time.monotonic() - first < TERM_GRACE_S, "the second Ctrl-C did not hurry"
    assert (proc.returncode, out) == (0, "end\n"), err
    assert not running(marker)


def test_command_dies_with_kllvm(tmp_path: Path) -> None:
    marker = f"kllvm-test-{tmp_path.name}"
    proc = spawn("-q", "-e", COUNT_SCRIPT, "--", *sleeper(marker))
    assert proc.stdout is not None
    assert proc.stdout.readline() == "started\n"
    assert running(marker)
    proc.kill()
    proc.communicate(timeout=30)
    assert gone_within(marker, 2.0), "the traced command outlived kllvm"


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """`pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_command_held_while_attaching_dies_with_kllvm(tmp_path: Path) -> None:
    """SIGKILL kllvm while the command is forked but held (the probes are attaching):
    it must never run. The kill is timed by watching for the fork; whether it landed
    before the release is checked, not assumed: the banner is flushed just before the
    release, so no banner means the command was still held. Attempts that came too late
    are retried."""
    for attempt in range(10):
        marker = tmp_path / f"ran-{attempt}"  # a late attempt's command does run
        proc = spawn("-e", COUNT_SCRIPT, "--", "sh", "-c", f"touch {marker}")
        held: list[int] = []
        while not held and proc.poll() is None:
            held = children(proc.pid)
        proc.kill()
        out, _ = proc.communicate(timeout=30)
        if held and out == "":
            break
    else:
        pytest.fail("kllvm was never killed while attaching")
    deadline = time.monotonic() + 2.0
    while alive(held[0]) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(held[0]), "the held command outlived kllvm"
    assert not marker.exists(), "the held command ran untraced after kllvm died"


def test_holding_the_command_is_not_traced() -> None:
    """The child's own set-up (prctl, getppid) happens before the probes attach."""
    script = ("var n = 0\ntrace syscalls:sys_enter_prctl, syscalls:sys_enter_getppid "
              "{ n += 1 }\ntrace_end { print(n) }\n")
    for _ in range(3):
        done = kllvm("-q", "-e", script, "--", "true")
        assert (done.returncode, done.stdout) == (0, "0\n"), done.stderr


def test_command_gets_default_signal_dispositions() -> None:
    """Python ignores SIGPIPE and SIGXFSZ, and ignored signals survive exec: the command
    must not inherit that (`yes | head` would not end as usual)."""
    done = kllvm("-q", "-e", COUNT_SCRIPT, "--", "grep", "^SigIgn", "/proc/self/status")
    assert (done.returncode, done.stdout) == (0, "SigIgn:\t0000000000000000\nend\n"), \
        done.stderr


# -- exit status


def test_command_status_is_passed_on() -> None:
    done = kllvm("-q", "-e", COUNT_SCRIPT, "--", "sh", "-c", "exit 3")
    assert (done.returncode, done.stdout) == (3, "end\n"), done.stderr
    done = kllvm("-q", "-e", COUNT_SCRIPT, "--", "sh", "-c", "kill -USR1 $$")
    assert (done.returncode, done.stdout) == (128 + signal.SIGUSR1, "end\n"), done.stderr


def test_a_failing_script_wins_over_the_commands_status() -> None:
    done = kllvm("-q", "-e", COUNT_SCRIPT + 'trace_end { error("bad") }', "--",
                 "sh", "-c", "exit 3")
    assert done.returncode == 1, done.stderr


@pytest.mark.parametrize(("command", "status", "message"), [
    ("no-such-command-kllvm", 127, "cannot run 'no-such-command-kllvm': command not found"),
    ("/no/such/file", 127, "cannot run '/no/such/file': no such file"),
    ("/etc/passwd", 126, "cannot run '/etc/passwd': permission denied"),
    ("/etc", 126, "cannot run '/etc': is a directory"),
])
def test_command_that_cannot_start(command: str, status: int, message: str) -> None:
    done = kllvm("-e", COUNT_SCRIPT, "--", command)
    assert (done.returncode, done.stdout, done.stderr) == (status, "",
                                                            f"kllvm: error: {message}\n")


# -- signals


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP,
                                    signal.SIGQUIT])
def test_signal_finishes_the_run_properly(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "full.kp"
    path.write_text("var u = table.new(0, 1)\nu[1] = 1\nu[2] = 2\n" + COUNT_SCRIPT)
    proc = spawn("run", str(path))
    assert proc.stdout is not None
    assert proc.stdout.readline() == "Attaching 1 probe to 1 event...\n"
    assert proc.stdout.readline() == "Tracing... Hit Ctrl-C to end.\n"
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (0, "end\n"), err
    assert "table 'u' is full (1 entries): 1 update was dropped" in err


def test_sigint_before_python_is_up_is_quiet() -> None:
    proc = spawn("-e", COUNT_SCRIPT, "-d", "0.2")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert "Traceback" not in err
    assert proc.returncode in (-signal.SIGINT, 130), err


@pytest.mark.parametrize("delay_ms", [0, 10, 30, 60, 100, 150, 250])
def test_sigint_during_start_up_is_quiet(delay_ms: int) -> None:
    """Ctrl-C at any moment once kllvm's own code runs: while modules load, the script
    compiles, the program loads, or during the run. `python -v` tells when kllvm.cli
    starts loading (kllvm's handler is in place from there); the delay counts from then.
    Python's own start-up before that is not kllvm's to handle."""
    proc = subprocess.Popen([sys.executable, "-v", "-m", "kllvm", "-e", COUNT_SCRIPT,
                             "-d", "0.2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("# code object from ") and line.rstrip().endswith("kllvm/cli.py"):
            break
    time.sleep(delay_ms / 1000)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    err = "".join(seen) + err
    assert "Traceback" not in err
    # 130 when interrupted before the run; a run that had started finishes properly.
    started = "Attaching 1 probe to 1 event...\nTracing... Hit Ctrl-C to end.\n"
    assert (proc.returncode, out) in ((130, ""), (0, "end\n"),
                                      (0, started + "end\n")), err[-2000:]


# -- bad options


@pytest.mark.parametrize(("option", "value"), [("-p", "-1"), ("-p", "0"), ("-p", "x"),
                                               ("-d", "nan"), ("-d", "-1"), ("-d", "inf"),
                                               ("-d", "x")])
def test_malformed_run_option_is_a_usage_error(option: str, value: str) -> None:
    done = kllvm(option, value, "-e", COUNT_SCRIPT)
    assert done.returncode == 2
    assert f"error: argument {option}/" in done.stderr and "Traceback" not in done.stderr


def test_pid_and_command_together_is_a_usage_error() -> None:
    done = kllvm("-p", "1", "-e", COUNT_SCRIPT, "--", "true")
    assert done.returncode == 2
    assert "error: -p PID and -- CMD choose the process to trace: give one" in done.stderr


def test_pid_of_no_process() -> None:
    pid = 4_000_000  # above pid_max's ceiling (2^22), so never a process
    done = kllvm("-p", str(pid), "-e", COUNT_SCRIPT)
    assert (done.returncode, done.stderr) == (1, f"kllvm: error: -p {pid}: no such process\n")


def test_output_that_cannot_be_written(tmp_path: Path) -> None:
    for target, why in [("/dev/full", "No space left on device")]:
        done = kllvm("-o", target, "-d", "0.1", "-e", COUNT_SCRIPT)
        assert (done.returncode, done.stderr) == (1, f"kllvm: error: cannot write to "
                                                     f"'{target}': {why}\n")
    for target, why in [(tmp_path, "Is a directory"),
                        (tmp_path / "missing" / "out", "No such file or directory")]:
        done = kllvm("-o", str(target), "-d", "0.1", "-e", COUNT_SCRIPT)
        assert (done.returncode, done.stderr) == (1, f"kllvm: error: cannot write output "
                                                     f"file '{target}': {why}\n")
        script = tmp_path / "count.kp"
        script.write_text(COUNT_SCRIPT)
        done = kllvm("build", str(script), "-o", str(target))
        assert (done.returncode, done.stderr) == (1, f"kllvm: error: cannot write artifact "
                                                     f"'{target}': {why}\n")
    done = kllvm("build", str(tmp_path / "count.kp"), "-o", "/dev/full")
    assert (done.returncode, done.stderr) == (
        1, "kllvm: error: cannot write artifact '/dev/full': No space left on device\n")
    done = subprocess.run(f"{sys.executable} -m kllvm -e 'print(1)' > /dev/full", shell=True,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        1, "kllvm: error: cannot write to standard output: No space left on device\n")
