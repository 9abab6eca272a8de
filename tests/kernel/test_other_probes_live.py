"""Live: the probes that are not tracepoints. User-space probes on a C program compiled
here (exact call counts, arguments, return values and addresses), `profile-N` timers
sampling a busy command (counts bounded by the command's measured CPU time), and kernel
function probes, which must compile and pass the verifier although this kernel cannot
attach them (no CONFIG_KPROBES)."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backend.loader import BPFObject
from frontend.diagnostics import CompileError, Source
from kllvm import driver
from kllvm.cli import main

pytestmark = pytest.mark.needs_root

HERE = Path(__file__).parent
# Where this kernel would list a kprobe PMU; absent when CONFIG_KPROBE_EVENTS is not set.
KPROBE_PMU = Path("/sys/bus/event_source/devices/kprobe")
NO_KPROBES = "this kernel has no kprobes (CONFIG_KPROBES is not set)"


def compile_c(source: Path, output: Path, *flags: str) -> Path:
    if shutil.which("cc") is None:
        pytest.fail("these tests need a C compiler: apt-get install gcc")
    subprocess.run(["cc", "-O2", *flags, "-o", str(output), str(source)], check=True)
    return output


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The uprobe target, `work(1)` .. `work(N)` (tests/kernel/uprobe_target.c)."""
    return compile_c(HERE / "uprobe_target.c", tmp_path_factory.mktemp("bin") / "target")


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Spins MS milliseconds on THREADS threads (tests/kernel/busy_threads.c)."""
    return compile_c(HERE / "busy_threads.c", tmp_path_factory.mktemp("bin") / "busy",
                     "-pthread")


def run(tmp_path: Path, script: str, *command: str) -> tuple[int, str]:
    """Runs `script` in this process, tracing only `command`; (status, script output)."""
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), str(path), "--", *command])
    return status, out.read_text() if out.exists() else ""


def found(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text`, which must be there."""
    match = re.search(pattern, text, re.M)
    assert match is not None, (pattern, text)
    return match[1]


def disassembly(binary: Path) -> tuple[int, set[int]]:
    """`work`'s link-time address, and every address a call to it returns to."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(binary)], check=True,
                          capture_output=True, text=True).stdout
    work = int(found(r"^([0-9a-f]+) <work>:$", text), 16)
    insns = re.findall(r"^\s+([0-9a-f]+):\s+(.*)$", text, re.M)
    returns = {int(insns[i + 1][0], 16) for i, (_, insn) in enumerate(insns[:-1])
               if re.match(r"call\s+[0-9a-f]+ <work>", insn)}
    return work, returns


# -- uprobes and uretprobes


def test_uprobe_and_uretprobe_count_every_call(tmp_path: Path, target: Path) -> None:
    script = f"""var calls = 0
var returns = 0
var names = {{}}
trace probe:{target}:work {{ calls += 1; names[probename] += 1 }}
trace probe:{target}:work%return {{ returns += 1; names[probename] += 1 }}
trace_end {{ printf("%d %d %d %d\\n", calls, returns, names["work"], names["ret_work"]) }}
"""
    assert run(tmp_path, script, str(target), "37") == (0, "37 37 37 37\n")
    # The same probes with no call: nothing counted, and nothing left over from before.
    # (printf's %s of a number is a compile error: print shows the nils.)
    silent = script.replace('printf("%d %d %d %d\\n", ', "print(")
    assert run(tmp_path, silent, str(target), "0") == (0, "0\t0\tnil\tnil\n")


def test_uprobe_arguments_return_values_and_addresses(tmp_path: Path, target: Path,
                                                      capfd: pytest.CaptureFixture[str]
                                                      ) -> None:
    # Entry: arg0 is the probed address, arg1.. the fetch args (the unnamed `%di` is
    # `arg1` in its filter, as the kernel names it). Return: arg1 is the address
    # returned to, arg2.. the fetch args; `:s32`/`:u32` read the low half of %ax.
    script = f"""var n = 0
var xs = 0
var big = 0
var rs = 0
var us = 0
var ips = {{}}
var rets = {{}}
trace probe:{target}:work x=%di {{ n += 1; xs += arg1; ips[arg0] += 1 }}
trace probe:{target}:work %di /arg1 > 30/ {{ big += arg1 }}
trace probe:{target}:work%return r=$retval:s32 u=$retval:u32 {{
  rs += arg2; us += arg3; rets[arg1] += 1
}}
trace_end {{
  printf("%d %d %d %d %d\\n", n, xs, big, rs, us)
  for (k, v in pairs(ips)) {{ printf("ip %d %d\\n", k, v) }}
  for (k, v in pairs(rets)) {{ printf("ret %d %d\\n", k, v) }}
}}
"""
    n = 40
    status, out = run(tmp_path, script, str(target), str(n))
    assert status == 0, out
    returns = [2 * x - 100 for x in range(1, n + 1)]
    lines = out.splitlines()
    assert lines[0] == " ".join(str(v) for v in (
        n, sum(range(1, n + 1)), sum(range(31, n + 1)), sum(returns),
        sum(r & 0xFFFFFFFF for r in returns)))
    printed = capfd.readouterr().out  # the target's own line: work's run-time address
    work_at = int(found(r"work=(\d+)", printed))
    assert f"total={sum(returns)}" in printed
    rows: dict[str, dict[int, int]] = {"ip": {}, "ret": {}}
    for line in lines[1:]:
        kind, key, value = line.split()
        rows[kind][int(key)] = int(value)
    assert rows["ip"] == {work_at: n}
    # Every return lands right after one of the (PIE-relocated) calls to work.
    work_link, return_sites = disassembly(target)
    base = work_at - work_link
    assert sum(rows["ret"].values()) == n
    assert {k - base for k in rows["ret"]} <= return_sites, (rows, return_sites, base)


def no_child_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_uprobe_failures_stop_before_the_command_runs(tmp_path: Path, target: Path,
                                                      capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    # The `-- CMD` is held on a pipe until the probes are attached. When attaching
    # fails, kllvm must end it, not leave it waiting (it used to: it then ran untraced as
    # soon as kllvm exited and closed the pipe; tests/cli/test_run_live.py sees that).
    marker = tmp_path / "ran"
    cases = [(f"{tmp_path}/missing:work", f"no such file: {tmp_path}/missing"),
             (f"{target}:no_such_symbol", f"cannot find symbol 'no_such_symbol' in {target}")]
    for where, message in cases:
        status, out = run(tmp_path, f"trace probe:{where} {{ print(1) }}\n",
                          "sh", "-c", f"touch {marker}")
        err = capsys.readouterr().err
        assert (status, out) == (1, ""), err
        assert err == f"kllvm: error: cannot attach to {where}: {message}\n"
        assert no_child_left() and not marker.exists()


def test_a_missing_library_path_names_the_one_that_exists(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cache = subprocess.run(["ldconfig", "-p"], check=True, capture_output=True,
                           text=True).stdout
    libc = found(r"^\s+libc\.so\.6 \(.*x86-64.*\) => (\S+)$", cache)
    missing = tmp_path / "lib" / "libc.so.6"
    status, _ = run(tmp_path, f"trace probe:{missing}:malloc {{ print(1) }}\n", "true")
    assert status == 1
    assert capsys.readouterr().err == (f"kllvm: error: cannot attach to {missing}:malloc: "
                                       f"no such file: {missing} (there is {libc})\n")


@pytest.mark.parametrize(("eventdef", "message"), [
    ("work x=@sym { print(arg1) }",
     "fetch argument '@sym' is not supported yet: use a register (%di) or $retval"),
    ("work x=+8(%di):float { print(arg1) }", "fetch type ':float' is not supported yet"),
    ("work x=+8(+0(%zz)) { print(arg1) }", "unknown register '%zz'"),
    ("work x=+8(%di) /x > 1/ { print(arg1) }",
     "'x' reads memory: filters can only test registers yet"),
    ("work x=" + "+8(" * 9 + "%di" + ")" * 9 + " { print(arg1) }",
     "dereferences more than 8 times"),
    ("work x=%xyz { print(arg1) }", "unknown register '%xyz'"),
    ("work x=%di /y > 1/ { print(arg1) }",
     "unknown field 'y' in the filter: probe:TARGET:work has only __probe_ip, x"),
    ("work%return { print(arg0) }", "arg0 (__probe_func) of a return probe is not available"),
    ("work { print(argstr) }", "argstr is only available in tracepoint probes"),
    ("zz* { print(1) }", "no function symbol of TARGET matches 'zz*'"),
])
def test_uprobe_compile_errors(target: Path, eventdef: str, message: str) -> None:
    source = Source("u.kp", f"trace probe:{target}:{eventdef}\n")
    with pytest.raises(CompileError) as error:
        driver.compile_script(source)
    assert message.replace("TARGET", str(target)) in error.value.rendered
    assert error.value.rendered.startswith("u.kp:1:")


def test_uprobe_symbol_globs_probe_every_matching_function(tmp_path: Path,
                                                            target: Path) -> None:
    script = f"""var n = {{}}
trace probe:{target}:[vw]*[kt], probe:{target}:visi? {{ n[probename] += 1 }}
trace_end {{ printf("%d %d\\n", n["visit"], n["work"]) }}
"""
    assert run(tmp_path, script, str(target), "6", "name") == (0, "2 6\n")


def test_uprobe_memory_fetch_args(tmp_path: Path, target: Path) -> None:
    # visit(name, &pair) with pair = {long a = -5, int b = 70000, const char *label}.
    fetches = ["name=+0(%di):string", "a=+0(%si):s64", "b=+8(%si):s32",
               "label=+0(+16(%si)):string", "same=%di:ustring", "low=+8(%si):u8"]
    script = (f"trace probe:{target}:visit {' '.join(fetches)} {{\n"
              "  print(arg1, arg2, arg3, arg4, arg5, arg6)\n}\n")
    status, out = run(tmp_path, script, str(target), "1", "a-name")
    # 70000 is 0x11170: its low byte is 0x70.
    assert (status, out) == (0, "a-name\t-5\t70000\ta-name\ta-name\t112\n")


# -- profile-N


def test_profile_samples_a_busy_command_in_the_kernel(tmp_path: Path, busy: Path,
                                                       capfd: pytest.CaptureFixture[str]
                                                       ) -> None:
    script = """var n = 0
var half = 0
var pids = {}
var tids = {}
var cpus = {}
profile-1ms { n += 1; pids[pid] += 1; tids[tid] += 1; cpus[cpu] += 1 }
profile-2ms { half += 1 }
trace_end {
  printf("n %d %d\\n", n, half)
  for (k, v in pairs(pids)) { printf("pid %d %d\\n", k, v) }
  for (k, v in pairs(tids)) { printf("tid %d %d\\n", k, v) }
  for (k, v in pairs(cpus)) { printf("cpu %d %d\\n", k, v) }
}
"""
    # The bodies are BPF programs on per-CPU perf events with the given periods.
    manifest = driver.compile_script(Source("p.kp", script)).manifest
    assert [(a.kind, a.target) for p in manifest.programs for a in p.attach] == \
        [("perf", "1000000"), ("perf", "2000000")]
    ncpu = os.cpu_count() or 1
    threads = min(len(os.sched_getaffinity(0)), 4)
    busy_ms = 300
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    status, out = run(tmp_path, script, str(busy), str(busy_ms), str(threads))
    wall_ms = (time.monotonic() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert status == 0, out
    # The command's CPU time: kllvm reaps it in this process, so it shows up here.
    cpu_ms = (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000
    child = int(found(r"pid=(\d+)", capfd.readouterr().out))
    rows: dict[str, dict[int, int]] = {"pid": {}, "tid": {}, "cpu": {}}
    head, *rest = out.splitlines()
    _, n, half = head.split()
    for line in rest:
        kind, key, value = line.split()
        rows[kind][int(key)] = int(value)
    n, half = int(n), int(half)
    # pid/tid/cpu are read in the kernel, per sample: only the traced command's samples
    # count, from each of its threads, on CPUs that exist.
    assert rows["pid"] == {child: n}
    assert len(rows["tid"]) == threads and child in rows["tid"]
    assert sum(rows["tid"].values()) == sum(rows["cpu"].values()) == n
    assert set(rows["cpu"]) <= set(range(ncpu))
    # One sample per millisecond the command is on a CPU: its CPU time, give or take a
    # partial period per thread; never more than every CPU for the whole run, and at
    # least half the spin even if all threads had to share one CPU.
    assert 0.9 * cpu_ms - 2 * threads <= n <= 1.05 * cpu_ms + 2 * threads, (n, cpu_ms)
    assert busy_ms / 2 <= n <= wall_ms * ncpu, (n, wall_ms)
    # profile-2ms fires half as often, on the same samples' CPUs.
    assert abs(2 * half - n) <= 0.1 * n + 4 * threads, (n, half)


# -- kernel function probes


KPROBES = """var n = 0
var opens = {}
trace probe:do_sys_open { }
trace probe:do_sys_openat2 dfd=%di:s32 filename=%si flags=%dx:u32 /dfd == -100 && flags != 0/ {
  opens[execname] += arg1 + arg3; n += 1
}
trace probe:do_sys_openat2%return fd=$retval:s32 { print(probename, arg1, arg2) }
trace probe:do_sys_openat2 name=+0(%si):ustring mode=+8(%dx):u64 { print(arg1, arg2) }
trace_end { print(n) }
"""


def test_kprobes_compile_and_pass_the_verifier() -> None:
    build = driver.compile_script(Source("k.kp", KPROBES))
    assert build.object is not None
    attach = [(a.kind, a.target, a.retprobe) for p in build.manifest.programs
              for a in p.attach]
    assert attach == [("kprobe", "do_sys_open", False), ("kprobe", "do_sys_openat2", False),
                      ("kprobe", "do_sys_openat2", True), ("kprobe", "do_sys_openat2", False)]
    obj = BPFObject.open(build.object, "k")
    try:
        obj.load()  # every program through the kernel's verifier, as kprobe programs
        assert sorted(p.section for p in obj.programs()) == [
            "kprobe/do_sys_open", "kprobe/do_sys_openat2", "kprobe/do_sys_openat2",
            "kretprobe/do_sys_openat2"]
        assert all(p.fd > 0 for p in obj.programs())
        assert obj.warnings == []
    finally:
        obj.close()


@pytest.mark.skipif(KPROBE_PMU.exists(), reason="this kernel has kprobes")
def test_kprobe_run_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The whole script loads (the verifier accepts it), then attaching says why not.
    marker = tmp_path / "ran"
    status, out = run(tmp_path, KPROBES, "sh", "-c", f"touch {marker}")
    err = capsys.readouterr().err
    assert (status, out) == (1, "")
    assert err == f"kllvm: error: cannot attach to do_sys_open: {NO_KPROBES}\n"
    assert no_child_left() and not marker.exists()


# -- ktap's function-style registration (frontend.registration)

KDEBUG_KPROBE = 'kdebug.kprobe("SyS_futex", function () { print(pid) })\n'


def test_kdebug_kprobe_passes_the_verifier() -> None:
    build = driver.compile_script(Source("k.kp", KDEBUG_KPROBE))
    assert build.object is not None
    assert [(a.kind, a.target, a.retprobe) for p in build.manifest.programs
            for a in p.attach] == [("kprobe", "SyS_futex", False)]
    obj = BPFObject.open(build.object, "k")
    try:
        obj.load()
        assert [(p.section, p.fd > 0) for p in obj.programs()] == [("kprobe/SyS_futex", True)]
    finally:
        obj.close()


@pytest.mark.skipif(KPROBE_PMU.exists(), reason="this kernel has kprobes")
def test_kdebug_kprobe_run_fails_clearly(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    status, out = run(tmp_path, KDEBUG_KPROBE, "true")
    assert (status, out) == (1, "")
    assert capsys.readouterr().err == f"kllvm: error: cannot attach to SyS_futex: {NO_KPROBES}\n"


def test_kdebug_tracepoint_counts_exactly(tmp_path: Path) -> None:
    getpids = HERE / "getpids.py"
    script = ('var n = 0\nvar names = {}\n'
              'kdebug.tracepoint("sys_enter_getpid", function () { n += 1 })\n'
              'kdebug.tracepoint("syscalls:sys_enter_getppid", function () {\n'
              '  names[probename] += 1\n})\n'
              'trace_end { print(n); for (k, v in pairs(names)) { print(k, v) } }\n')
    status, out = run(tmp_path, script, sys.executable, str(getpids), "7")
    assert (status, out) == (0, "7\n")
    status, out = run(tmp_path, script, sys.executable, str(getpids), "5", "110")
    assert (status, out) == (0, "0\nsys_enter_getppid\t5\n")
