"""Live: ktap scripts compiled to BPF, loaded through the real verifier, attached, and
driven by a child process (`-- CMD`) that makes an exact number of syscalls."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from backend import runtime
from frontend.diagnostics import Source
from frontend.tapsetpath import SearchPath
from kllvm import driver
from kllvm.cli import main

pytestmark = pytest.mark.needs_root

GETPIDS = Path(__file__).with_name("getpids.py")
SYS_GETPID, SYS_GETPPID = 39, 110


def run(tmp_path: Path, script: str, *options: str, calls: int = 5,
        nr: int = SYS_GETPID) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), *options, str(path), "--", sys.executable,
                   str(GETPIDS), str(calls), str(nr)])
    return status, out.read_text() if out.exists() else ""


def test_counts_every_sys_enter_by_probename(tmp_path: Path) -> None:
    script = """var s = {}
trace syscalls:sys_enter_* { s[probename] += 1 }
trace_end { printf("getpid=%d\\n", s["sys_enter_getpid"]) }
"""
    status, out = run(tmp_path, script, calls=37)
    assert (status, out) == (0, "getpid=37\n")


def test_global_starts_from_main_chunk_and_ends_exact(tmp_path: Path) -> None:
    script = """var i = 1000
trace syscalls:sys_enter_getpid { i += 1 }
trace_end { print(i) }
"""
    assert run(tmp_path, script, calls=250) == (0, "1250\n")


def test_print_and_printf_numbers_and_strings(tmp_path: Path) -> None:
    script = """var n = 0
trace syscalls:sys_enter_getpid {
  n += 1
  if (n <= 2) {
    print("hello world")
    printf("%d: %s %5d|%-4s|\\n", n, "str", -n * 7 / 2, "ab")
  }
}
"""
    status, out = run(tmp_path, script, calls=4)
    assert status == 0
    assert out == ("hello world\n1: str    -3|ab  |\n"
                   "hello world\n2: str    -7|ab  |\n")


def test_trace_end_loops_pairs_hist_on_live_tables(tmp_path: Path) -> None:
    script = """var t = {}
var names = {}
trace syscalls:sys_enter_getpid, syscalls:sys_enter_getppid {
  t[probename] += 2
  names[execname] = probename
}
trace_end {
  var total = 0
  for (k, v in pairs(t)) { total = total + v }
  for (i = 1, 3) { total = total + i }
  printf("total %d\\n", total)
  print_hist(t)
}
"""
    status, out = run(tmp_path, script, calls=10)
    assert status == 0
    lines = out.splitlines()
    assert lines[0] == "total 26"  # 10 getpid * 2, plus 1+2+3
    assert "sys_enter_getpid" in out and "sys_enter_getppid" not in out


def test_filter_compiled_into_the_program(tmp_path: Path) -> None:
    script = """var hits = 0
trace syscalls:sys_enter_getpid /common_pid != 0 && __syscall_nr == 39/ { hits += 1 }
trace syscalls:sys_enter_getpid /__syscall_nr == 40/ { hits += 1000 }
trace_end { print(hits) }
"""
    assert run(tmp_path, script, calls=9) == (0, "9\n")


def test_arg_fields_and_strings_as_keys(tmp_path: Path) -> None:
    script = """var seen = {}
trace syscalls:sys_exit_getpid {
  if (arg0 == 39 && arg1 == pid) { seen[execname] += 1 }
}
trace_end { for (k, v in pairs(seen)) { printf("%s %d\\n", k, v) } }
"""
    status, out = run(tmp_path, script, calls=6)
    assert status == 0 and out.endswith(" 6\n") and len(out.splitlines()) == 1


def test_division_by_zero_is_fatal_with_location(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    script = """var z = 0
trace syscalls:sys_enter_getpid { print(10 / z) }
trace_end { print("not reached") }
"""
    status, out = run(tmp_path, script)
    err = capsys.readouterr().err
    assert (status, out) == (1, "")
    assert "script.kp:2:41: error: divide 0 arith operation" in err


def test_exit_stops_and_runs_trace_end(tmp_path: Path) -> None:
    script = """trace syscalls:sys_enter_getpid { print("once"); exit() }
trace_end { print("end") }
"""
    assert run(tmp_path, script, calls=50) == (0, "once\nend\n")


def test_full_table_reports_drops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = """var t = table.new(0, 4)
var i = 0
trace syscalls:sys_enter_getpid { i += 1; t[i] = 1 }
trace_end { print(len(t)) }
"""
    assert run(tmp_path, script, calls=10) == (0, "4\n")
    assert "table 't' is full (4 entries): 6 updates were dropped" in capsys.readouterr().err


def test_lost_records_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = """trace syscalls:sys_enter_getpid {
  print(execname, execname, execname, execname, execname, execname, execname, execname)
}
"""
    status, out = run(tmp_path, script, calls=20000)
    err = capsys.readouterr().err
    lost = int(err.split("warning: ")[1].split()[0])
    assert status == 0 and lost > 0
    assert len(out.splitlines()) + lost == 20000


def test_unknown_tracepoint_names_the_pattern(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(tmp_path, "trace nosuch:thing* { print(1) }\n")
    assert status == 1
    assert "error: no tracepoint matches 'nosuch:thing*'" in capsys.readouterr().err


def test_bad_filter_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(tmp_path, "trace syscalls:sys_enter_getpid /nofield == 1/ { print(1) }\n")
    assert status == 1
    assert "unknown field 'nofield' in the filter" in capsys.readouterr().err


def test_verifier_rejection_shown_at_script_line(capsys: pytest.CaptureFixture[str]) -> None:
    # A test-only build without null checks: the verifier must refuse the ring-buffer write.
    source = Source("v.kp", "trace syscalls:sys_enter_getpid {\n  print(execname)\n}\n")
    build = driver.compile_script(source, null_checks=False)
    assert build.object is not None
    status = runtime.run(source, build.compilation.module, build.manifest, build.object,
                         sys.stdout.buffer, [], runtime.Options(quiet=True, duration=0.1))
    err = capsys.readouterr().err
    assert status == 1
    assert "v.kp:2:3: error: the kernel's verifier rejected the program" in err
    assert "ringbuf_mem_or_null" in err and "  print(execname)" in err


def test_verifier_rejection_inside_a_tapset_shown_at_the_tapset_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "say.kp").write_text("# say\nfunction name() {\n\tprint(execname)\n}\n")
    source = Source("v.kp", "trace syscalls:sys_enter_getpid {\n  say.name()\n}\n")
    build = driver.compile_script(source, null_checks=False,
                                  tapset_path=SearchPath(((lib, "-I"),)))
    assert build.object is not None
    status = runtime.run(build.compilation.source, build.compilation.module, build.manifest,
                         build.object, sys.stdout.buffer, [],
                         runtime.Options(quiet=True, duration=0.1))
    err = capsys.readouterr().err
    assert status == 1
    assert f"{lib / 'say.kp'}:3:2: error: the kernel's verifier rejected the program" in err
    assert "\n print(execname)\n ^~~~~~~~~~~~~~~\n" in err


def test_pid_option_traces_one_process(tmp_path: Path) -> None:
    script = """var n = 0
trace syscalls:sys_enter_getpid { n += 1 }
trace_end { print(n) }
"""
    path = tmp_path / "p.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    # Traces only pid 1 (init never calls getpid here) for a short while.
    assert main(["run", "-q", "-d", "0.3", "-p", "1", "-o", str(out), str(path)]) == 0
    assert out.read_text() == "0\n"


# -- wide syscall probes through raw_syscalls


def test_sys_enter_glob_is_one_raw_syscalls_attachment() -> None:
    source = Source("w.kp", "var s = {}\ntrace syscalls:sys_enter_* { s[probename] += 1 }\n"
                            "trace syscalls:sys_exit_* { s[probename] += 1 }\n")
    build = driver.compile_script(source)
    targets = [a.target for p in build.manifest.programs for a in p.attach]
    assert targets == ["raw_syscalls:sys_enter", "raw_syscalls:sys_exit"]
    assert len(build.manifest.names) > 600  # every sys_enter_X and sys_exit_X


def test_raw_syscalls_args_probename_and_filter_exact(tmp_path: Path) -> None:
    # sys_enter_get*/sys_exit_get* are served from raw_syscalls; only matched syscalls
    # count, arg0 is the number, arg1 of sys_exit the return value.
    script = """var s = {}
var nr = {}
var mine = 0
trace syscalls:sys_enter_get* { s[probename] += 1; nr[probename] = arg0 }
trace syscalls:sys_exit_get* /ret > 0/ {
  s[probename] += 1
  if (probename == "sys_exit_getpid" && arg1 == pid) { mine += 1 }
}
trace_end {
  printf("%d %d %d %d\\n", s["sys_enter_getpid"], nr["sys_enter_getpid"],
         s["sys_exit_getpid"], mine)
  print(s["sys_enter_getppid"] == nil, s["sys_enter_close"] == nil,
        s["sys_exit_close"] == nil)
}
"""
    status, out = run(tmp_path, script, calls=37)
    assert (status, out) == (0, "37 39 37 37\ntrue\ttrue\ttrue\n")


def test_raw_syscalls_count_like_the_per_syscall_tracepoints(tmp_path: Path) -> None:
    # The same syscalls seen both ways in one run: `*at` (>= 8 syscalls) through
    # raw_syscalls, a short list through its own tracepoints. Counts and argument sums
    # agree exactly, whatever the traced command does.
    script = """var raw = {}
var own = {}
var rawsum = {}
var ownsum = {}
trace syscalls:sys_enter_*at { raw[probename] += 1; rawsum[probename] += arg1 }
trace syscalls:sys_enter_openat, syscalls:sys_enter_newfstatat {
  own[probename] += 1; ownsum[probename] += arg1
}
trace syscalls:sys_exit_*at /ret >= 0/ { raw[probename] += 1; rawsum[probename] += arg1 }
trace syscalls:sys_exit_openat, syscalls:sys_exit_newfstatat /ret >= 0/ {
  own[probename] += 1; ownsum[probename] += arg1
}
trace_end {
  var same = 0
  for (k, v in pairs(own)) {
    if (raw[k] == v && rawsum[k] == ownsum[k]) { same = same + 1 } else { print(k, v, raw[k]) }
  }
  print(same, len(own))
}
"""
    targets = {a.target for p in driver.compile_script(Source("c.kp", script)).manifest.programs
               for a in p.attach}
    assert {"raw_syscalls:sys_enter", "raw_syscalls:sys_exit",
            "syscalls:sys_enter_openat"} <= targets
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    assert main(["run", "-q", "-o", str(out), str(path), "--", "ls", "-la", "/usr"]) == 0
    assert out.read_text() == "4\t4\n"


def test_many_attachments_say_why_stopping_takes_time(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "DETACH_NOTICE", 1)
    script = """var n = 0
trace syscalls:sys_enter_getpid, syscalls:sys_enter_getppid { n += 1 }
trace_end { print(n) }
"""
    assert run(tmp_path, script, calls=4) == (0, "4\n")
    assert "kllvm: detaching 2 probes...\n" in capsys.readouterr().err


# -- tick-N in user space


def test_tick_only_script_runs_its_timer(tmp_path: Path) -> None:
    script = """var n = 0
tick-100ms { n = n + 1; if (n == 3) { exit() } }
trace_end { print(n) }
"""
    path = tmp_path / "t.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    assert main(["run", "-q", "-o", str(out), str(path)]) == 0
    assert out.read_text() == "3\n"


def test_tick_only_duration_and_fatal_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.kp"
    out = tmp_path / "out.txt"
    path.write_text("var n = 0\ntick-1s { n = n + 1 }\ntrace_end { print(n) }\n")
    assert main(["run", "-q", "-d", "0.3", "-o", str(out), str(path)]) == 0
    assert out.read_text() == "0\n"
    path.write_text("var n = 0\nvar z = 0\ntick-20ms { n = n + 1; if (n == 2) "
                    "{ print(n / z) } else { print(n) } }\ntrace_end { print(\"end\") }\n")
    capsys.readouterr()
    assert main(["run", "-q", "-o", str(out), str(path)]) == 1
    assert out.read_text() == "1\n"  # trace_end skipped after a fatal error
    err = capsys.readouterr().err
    assert err.count("t.kp:3:44: error: divide 0 arith operation") == 1


def test_tick_alongside_kernel_probes(tmp_path: Path) -> None:
    # sctop-style: a user-space tick reads and clears a kernel table while the probe
    # counts; the exact total comes from a kernel global.
    script = """var s = {}
var n = 0
var ticks = 0
var seen = 0
trace syscalls:sys_enter_getpid { s[execname] += 1; n += 1 }
tick-20ms {
  ticks = ticks + 1
  if (len(s) > 0) { seen = seen + 1 }
  delete(s)
}
trace_end { print(n, ticks > 0, seen > 0) }
"""
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    child = ("import ctypes, time\nlibc = ctypes.CDLL(None)\n"
             "for _ in range(6):\n    libc.syscall(39)\n    time.sleep(0.05)\n")
    status = main(["run", "-q", "-o", str(out), str(path), "--", sys.executable, "-c", child])
    assert (status, out.read_text()) == (0, "6\ttrue\ttrue\n")


def test_map_the_kernel_refuses_is_reported_at_its_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 10^9 entries: the kernel's hash map refuses more than 2^31 buckets' worth (E2BIG)
    # before allocating anything.
    path = tmp_path / "huge.kp"
    path.write_text("var n = 0\nvar t = table.new(1000000000)\n"
                    "trace syscalls:sys_enter_getpid { t[1] += 1 }\n")
    assert main(["run", "-q", "-d", "0.1", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}:2:9: error: the kernel cannot create the map of table 't' "
                          "(1000000000 entries of 8-byte keys and 8-byte values, about ")
    assert "): Argument list too long (E2BIG)\nvar t = table.new(1000000000)\n" \
           "        ^~~~~~~~~~~~~~~~~~~~~\nhint: the kernel limits" in err
    assert "verifier" not in err


def test_probes_are_registered_only_while_the_main_chunk_runs(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A trace statement in a function: registered when the main chunk calls it ...
    script = """var n = 0
function arm() {
  trace syscalls:sys_enter_getpid { n += 1 }
}
arm()
trace_end { print(n) }
"""
    assert run(tmp_path, script, calls=6) == (0, "6\n")
    # ... and ktap's error, not a probe that never fires, when trace_end calls it.
    script = script.replace("arm()\ntrace_end { print(n) }", "trace_end { arm() print(n) }")
    assert run(tmp_path, script, calls=6) == (1, "")
    assert capsys.readouterr().err == (
        "{path}:3:3: error: 'trace' can only be registered while the main chunk runs, not in "
        "trace_end or a tick body\n  trace syscalls:sys_enter_getpid {{ n += 1 }}\n"
        "  ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n").format(path=tmp_path / "script.kp")
