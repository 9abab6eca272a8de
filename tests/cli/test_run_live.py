"""The `kllvm` command end to end, as a separate process."""

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
SCRIPT = """var n = 0
trace syscalls:sys_enter_getpid { n += 1; print("hello world") }
trace_end { printf("n=%d\\n", n) }
"""


def kllvm(*args: str, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*prefix, sys.executable, "-m", "kllvm", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_run_prints_banner_output_and_trace_end(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    done = kllvm("run", str(path), "--", sys.executable, str(GETPIDS), "3")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ("Attaching 1 probe to 1 event...\nTracing... Hit Ctrl-C to end.\n"
                           + "hello world\n" * 3 + "n=3\n")


def test_duration_stops_a_quiet_run(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    done = kllvm("run", "-q", "-d", "0.2", "-p", "1", str(path))
    assert (done.returncode, done.stdout) == (0, "n=0\n")


def test_build_is_reproducible_and_runs_without_compiling(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    first, second = tmp_path / "a.kpo", tmp_path / "b.kpo"
    assert kllvm("build", str(path), "-o", str(first)).returncode == 0
    assert kllvm("build", str(path), "-o", str(second)).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    path.unlink()  # the artifact must not need the script
    done = kllvm("run", "-q", str(first), "--", sys.executable, str(GETPIDS), "2")
    assert (done.returncode, done.stdout) == (0, "hello world\nhello world\nn=2\n"), done.stderr


def test_dump_llvm_and_asm(tmp_path: Path) -> None:
    path = tmp_path / "hello.kp"
    path.write_text(SCRIPT)
    llvm = kllvm("dump", "--emit=llvm", str(path))
    asm = kllvm("dump", "--emit=asm", str(path))
    assert llvm.returncode == asm.returncode == 0
    assert 'section "tracepoint/syscalls/sys_enter_getpid"' in llvm.stdout
    assert "call bpf_ringbuf_reserve" in asm.stdout or "call 131" in asm.stdout


def test_without_tracing_privileges_a_clear_message() -> None:
    # Root with every capability dropped: what a user without them meets, and it works
    # wherever the clone lives (user nobody may not be able to read it).
    done = kllvm("-e", SCRIPT, prefix=("setpriv", "--inh-caps=-all", "--ambient-caps=-all",
                                        "--bounding-set=-all"))
    assert done.returncode == 1
    assert done.stderr == ("kllvm: error: tracing needs root privileges (CAP_BPF and "
                           "CAP_PERFMON): run kllvm as root\n")


def test_tick_only_script_with_banner_and_trace_end(tmp_path: Path) -> None:
    path = tmp_path / "tick.kp"
    path.write_text("var n = 0\ntick-100ms { n = n + 1; if (n == 3) { exit() } }\n"
                    "trace_end { print(n) }\n")
    done = kllvm("run", str(path))
    assert (done.returncode, done.stdout) == (0, "Tracing... Hit Ctrl-C to end.\n3\n"), \
        done.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_tick_only_script_stops_on_a_signal(tmp_path: Path, signum: int) -> None:
    path = tmp_path / "tick.kp"
    path.write_text('var n = 0\ntick-10ms { n = n + 1; if (n == 1) { print("ticking") } }\n'
                    'trace_end { print("end", n > 1) }\n')
    proc = subprocess.Popen([sys.executable, "-m", "kllvm", "run", "-q", str(path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ticking\n"
    time.sleep(0.1)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    assert (proc.returncode, out) == (0, "end\ttrue\n"), err


def test_dump_types_uses_the_events_arg_types(tmp_path: Path) -> None:
    path = tmp_path / "switch.kp"
    path.write_text("trace sched:sched_switch {\n  var prev = arg0\n  var p = arg1\n"
                    "  print(prev, p)\n}\n")
    done = kllvm("dump", "--emit=types", str(path))
    assert done.returncode == 0, done.stderr
    assert "  prev @2:7: str\n" in done.stdout and "  p @3:7: int\n" in done.stdout
    ir = kllvm("dump", "--emit=ir", str(path))
    assert ir.returncode == 0, ir.stderr
    sample = kllvm("dump", "--emit=types", "samples/sched_transition.kp")
    assert sample.returncode == 0, sample.stderr


# -- probes that are not tracepoints


@pytest.fixture(scope="module")
def uprobe_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/kernel/uprobe_target.c: calls work(1) .. work(N)."""
    binary = tmp_path_factory.mktemp("bin") / "target"
    subprocess.run(["cc", "-O2", "-o", str(binary),
                    str(ROOT / "tests" / "kernel" / "uprobe_target.c")], check=True)
    return binary


def test_uprobe_one_liner_counts_the_commands_calls(uprobe_target: Path) -> None:
    script = (f"var n = 0; var s = 0; trace probe:{uprobe_target}:work x=%di "
              "{ n += 1; s += arg1 } trace_end { print(n, s) }")
    done = kllvm("-e", script, "--", str(uprobe_target), "12")
    assert done.returncode == 0, done.stderr
    # The banner, the command's own line (it runs once the probes are attached), then
    # trace_end: 12 calls of work(1) .. work(12).
    attaching, banner, own, result = done.stdout.splitlines()
    assert (attaching, banner, own.endswith(" total=-1044"), result) == (
        "Attaching 1 probe to 1 event...", "Tracing... Hit Ctrl-C to end.", True, "12\t78")


def test_kprobe_run_says_the_kernel_has_none(tmp_path: Path) -> None:
    if Path("/sys/bus/event_source/devices/kprobe").exists():
        pytest.skip("this kernel has kprobes")
    marker = tmp_path / "ran"
    done = kllvm("-e", "trace probe:do_sys_open { }", "--", "sh", "-c", f"touch {marker}")
    assert (done.returncode, done.stdout) == (1, "Attaching 1 probe to 1 event...\n")
    assert done.stderr == ("kllvm: error: cannot attach to do_sys_open: this kernel has no "
                           "kprobes (CONFIG_KPROBES is not set)\n")
    # The `-- CMD` waited for the probes; it must not run once kllvm has given up (it
    # used to, as soon as kllvm exited).
    time.sleep(0.2)
    assert not marker.exists()
    # ktap's function-style registration is the same probe: it loads, then fails alike.
    done = kllvm("-e", 'kdebug.kprobe("do_sys_open", function () { print(1) })')
    assert (done.returncode, done.stdout) == (1, "Attaching 1 probe to 1 event...\n")
    assert done.stderr == ("kllvm: error: cannot attach to do_sys_open: this kernel has no "
                           "kprobes (CONFIG_KPROBES is not set)\n")


def test_dump_asm_shows_script_lines_and_helpers(tmp_path: Path) -> None:
    path = tmp_path / "count.kp"
    path.write_text("var s = {}\ntrace syscalls:sys_enter_getpid {\n"
                    "  s[pid] += 1\n}\n")
    asm = kllvm("dump", "--emit=asm", str(path))
    assert asm.returncode == 0, asm.stderr
    lines = asm.stdout.splitlines()
    assert lines[0] == "; section tracepoint/syscalls/sys_enter_getpid"
    assert lines[1] == "p0_0:"
    # The table update's code sits under its line, after the probe's prologue.
    body = lines.index("\t; 3 | s[pid] += 1")
    assert lines.index("\t; 2 | trace syscalls:sys_enter_getpid {") < body
    assert "\tcall 1\t\t; bpf_map_lookup_elem" in lines[body:]
    assert not any(line.lstrip().startswith((".loc", ".cfi", ".section")) for line in lines)


LONG = "x" * 200
LONG_SCRIPT = f"""trace syscalls:sys_enter_getpid {{ print("{LONG}") }}
trace_end {{ print("{LONG}" == "{LONG}") }}
"""


def test_string_longer_than_strlen_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "long.kp"
    path.write_text(LONG_SCRIPT)
    done = kllvm("run", str(path), "--", sys.executable, str(GETPIDS), "1")
    assert done.returncode == 1
    assert done.stderr.startswith(
        f"{path}:1:35: error: this string of 200 bytes does not fit in a probe's strings "
        "(127 bytes and a NUL); raise the capacity with --strlen\n")
    assert "Traceback" not in done.stderr


def test_strlen_makes_room_and_survives_build(tmp_path: Path) -> None:
    path = tmp_path / "long.kp"
    path.write_text(LONG_SCRIPT)
    done = kllvm("run", "-q", "--strlen", "256", str(path), "--", sys.executable,
                 str(GETPIDS), "2")
    assert (done.returncode, done.stdout) == (0, f"{LONG}\n{LONG}\ntrue\n"), done.stderr
    built = tmp_path / "long.kpo"
    assert kllvm("build", "--strlen", "256", str(path), "-o", str(built)).returncode == 0
    again = kllvm("run", "-q", str(built), "--", sys.executable, str(GETPIDS), "1")
    assert (again.returncode, again.stdout) == (0, f"{LONG}\ntrue\n"), again.stderr
    other = kllvm("run", "--strlen", "64", str(built))
    assert other.returncode == 1
    assert "was built with --strlen 256; build it again to change it" in other.stderr


CUT_SCRIPT = """var names = {}
var last = "x"
names["short"] = 1
names["a key longer than fifteen bytes"] = 2
last = "a value longer than fifteen bytes"
trace syscalls:sys_enter_getpid { names[last] += 1 }
trace_end { printf("%s %d %d\\n", last, names["short"], names[last]) }
"""


def test_strings_cut_to_fit_the_kernel_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "cut.kp"
    path.write_text(CUT_SCRIPT)
    done = kllvm("run", "-q", "--strlen", "16", str(path), "--", sys.executable,
                 str(GETPIDS), "3")
    # `last` is a kernel global: what trace_end reads back is the cut string, and the
    # probe counted under that cut key.
    assert (done.returncode, done.stdout) == (0, "a value longer  1 3\n"), done.stderr
    # Cut once each: the long key stored into `names`, the value stored into `last`
    # (trace_end reads `last` back already cut).
    assert done.stderr == (
        f"{path}:1:13: warning: 1 string longer than 15 bytes had to be cut to fit "
        "table 'names' in the kernel (--strlen sets the capacity)\n"
        "var names = {}\n            ^~\n"
        f"{path}:2:1: warning: 1 string longer than 15 bytes had to be cut to fit "
        "variable 'last' in the kernel (--strlen sets the capacity)\n"
        'var last = "x"\n^~~~~~~~~~~~~~\n')


@pytest.mark.parametrize("value", ["12", "20", "2048", "abc"])
def test_strlen_out_of_range_is_a_usage_error(value: str) -> None:
    done = kllvm("-e", "print(1)", "--strlen", value)
    assert done.returncode == 2
    assert "argument --strlen:" in done.stderr


def test_output_reader_leaving_stops_the_run_quietly(tmp_path: Path) -> None:
    path = tmp_path / "many.kp"
    path.write_text('trace syscalls:sys_enter_getpid { print("a line") }\n')
    # The command would make getpid calls for minutes; the run must end with the reader.
    proc = subprocess.Popen([sys.executable, "-m", "kllvm", "run", str(path), "--",
                             sys.executable, str(GETPIDS), "100000000"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"Attaching 1 probe to 1 event...\n"
    assert proc.stdout.readline() == b"Tracing... Hit Ctrl-C to end.\n"
    assert proc.stdout.readline() == b"a line\n"
    proc.stdout.close()
    assert proc.wait(timeout=60) == 141  # as if killed by SIGPIPE
    assert proc.stderr.read() == b""
    # The traced command went with it.
    assert not running(f"{GETPIDS}\x00100000000".encode())


def running(cmdline_part: bytes) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if cmdline_part in cmdline.read_bytes():
                return True
        except OSError:  # the process has just exited
            pass
    return False

