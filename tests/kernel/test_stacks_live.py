"""Live: `stack()` and `ustack()` in probe bodies. Stack ids in BPF stack maps, named in
user space: kernel frames from /proc/kallsyms, user frames with bcc's symbol cache of
the process (made while it runs, so that its stacks are still named after it exits)."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root

HERE = Path(__file__).parent
KERNEL_FRAME = re.compile(r"[\w.$]+\+0x[0-9a-f]+/0x[0-9a-f]+( \[\w+\])?")
USER_FRAME = re.compile(r"[\w.$@]+\+0x[0-9a-f]+")


@pytest.fixture(scope="module")
def hot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Calls kllvm_hot_function for MS milliseconds (tests/kernel/hot_function.c)."""
    if shutil.which("cc") is None:
        pytest.fail("these tests need a C compiler: apt-get install gcc")
    binary = tmp_path_factory.mktemp("bin") / "hot"
    subprocess.run(["cc", "-O2", "-fno-omit-frame-pointer", "-o", str(binary),
                    str(HERE / "hot_function.c")], check=True)
    return binary


def run(tmp_path: Path, script: str, *options: str,
        command: tuple[str, ...] = ()) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), *options, str(path),
                   *(("--", *command) if command else ())])
    return status, out.read_text() if out.exists() else ""


def hist_rows(text: str) -> list[tuple[list[str], int]]:
    """print_hist's rows of stack keys: (frames, count); the bar line is checked."""
    blocks = text.split("\n\n")
    header, first = blocks[0].split("\n", 1)
    assert header.startswith("                         value ---")
    rows = []
    for block in [first, *blocks[1:]]:
        lines = block.strip("\n").splitlines()
        if not lines or lines == ["                            ... |"]:
            continue
        *frames, bar, count = lines
        assert re.fullmatch(r"@* *", bar) and len(bar) == 38, bar
        rows.append((frames, int(count)))
    return rows


def test_sched_switch_stacks_show_the_scheduler(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    script = """var s = {}
var n = 0
trace sched:sched_switch { s[stack()] += 1; n += 1 }
trace_end { print_hist(s, 1000); print("total", n) }
"""
    status, out = run(tmp_path, script, "-d", "0.3")
    assert status == 0
    text, total = out.rsplit("total\t", 1)
    rows = hist_rows(text)
    assert rows and sum(count for _, count in rows) == int(total)
    # The kernel's stack map has one stack per bucket: a stack whose bucket another
    # holds is lost, shown as such and counted in a warning (never silently).
    lost = sum(count for frames, count in rows
               if frames == ["[lost: collision in the stack map]"])
    warned = re.search(r"warning: (\d+) kernel stacks? lost: another stack held their "
                       r"bucket", capsys.readouterr().err)
    assert lost == (int(warned[1]) if warned else 0)
    for frames, _ in rows:
        if frames == ["[lost: collision in the stack map]"]:
            continue
        assert all(KERNEL_FRAME.fullmatch(f) for f in frames), frames
        # The tracepoint fires in the scheduler: every stack passes through __schedule.
        assert any(f.startswith("__schedule+0x") for f in frames), frames


def test_print_stack_layout_and_depth_and_skip(tmp_path: Path) -> None:
    script = """var n = 0
trace sched:sched_switch {
  n += 1
  if (n == 1) { print(stack()) print(stack(2)) print(stack(2, 1)) }
}
"""
    status, out = run(tmp_path, script, "-d", "0.3")
    assert status == 0
    full, two, skipped = out.split("\n\n")[:3]
    lines = full.splitlines()
    assert lines[0] == "<stack trace>" and len(lines) > 3
    frames = [line.removeprefix(" => ") for line in lines[1:]]
    assert all(line.startswith(" => ") for line in lines[1:])
    assert all(KERNEL_FRAME.fullmatch(f) for f in frames), frames
    # stack(2): the first two frames; stack(2, 1): one frame skipped (same call site
    # depth: the frames' symbols agree, offsets may differ by the call site).
    assert two.splitlines()[0] == "<stack trace>" and len(two.splitlines()) == 3
    assert [f.split("+")[0] for f in two.splitlines()[1:]] == \
        [f" => {f.split('+')[0]}" for f in frames[:2]]
    assert [f.split("+")[0] for f in skipped.splitlines()[1:]] == \
        [f" => {f.split('+')[0]}" for f in frames[1:3]]


def test_ustack_profile_names_the_hot_function(tmp_path: Path, hot: Path,
                                              capfd: pytest.CaptureFixture[str]) -> None:
    script = """var s = {}
var n = 0
profile-1ms { s[ustack()] += 1; n += 1 }
trace_end {
  for (k, v in pairs(s)) { print(k, v) }
  print("total", n)
}
"""
    # The command has exited when trace_end prints: its symbols were read while it ran.
    status, out = run(tmp_path, script, command=(str(hot), "300"))
    assert status == 0
    assert "pid=" in capfd.readouterr().out
    text, total = out.rsplit("total\t", 1)
    samples = hot_samples = 0
    for block in text.split("<stack trace>\n")[1:]:
        *frames, last = block.rstrip("\n").split("\n")
        frames.append(last.rsplit("\t", 1)[0])
        count = int(last.rsplit("\t", 1)[1])
        names = [f.removeprefix(" => ") for f in frames if f]
        # (The vDSO's clock_gettime, which the program calls, is not named: an address;
        # a sample in the kernel while the task had no user stack, e.g. in its exec,
        # says so.)
        assert all(USER_FRAME.fullmatch(f) or re.fullmatch(
            r"\[[^]]+\]\+0x[0-9a-f]+|0x[0-9a-f]+|\[no user stack\]", f) for f in names), names
        samples += count
        if names and names[0].startswith("kllvm_hot_function+0x"):
            assert "main+0x" in " ".join(names[1:]), names
            hot_samples += count
    assert samples == int(total) > 0
    # The program does nothing else: nearly every sample is in the hot function.
    assert hot_samples >= 0.8 * samples, (hot_samples, samples)


def test_profile_10us_prints_stacks(tmp_path: Path) -> None:
    status, out = run(tmp_path, "profile-10us { print(stack()) }\n", "-d", "0.2")
    assert status == 0
    blocks = [b for b in out.split("\n\n") if b]
    walked = 0
    for block in blocks:
        header, *frames = block.splitlines()
        assert header == "<stack trace>" and frames
        assert all(f.startswith(" => ") for f in frames)
        # A sample taken in user code has no kernel stack; one the stack map could not
        # keep says so (and is counted in the warnings).
        if not re.fullmatch(r"\[(no kernel stack|lost: [a-z ]+)\]", frames[0][4:]):
            assert all(KERNEL_FRAME.fullmatch(f[4:]) for f in frames), frames
            walked += 1
    assert walked > 10


def test_folded_output_and_flame_graph_name_the_hot_function(
        tmp_path: Path, hot: Path) -> None:
    script = """var s = {}
profile-1ms { s[ustack()] += 1 }
trace_end { print_hist(s) }
"""
    svg = tmp_path / "cpu.svg"
    status, out = run(tmp_path, script, "-f", "folded", "--flamegraph", str(svg),
                      command=(str(hot), "300"))
    assert status == 0
    # `frame;frame;... count`, most counted first, as flamegraph.pl and inferno read it.
    rows = [re.fullmatch(r"([^;\n]+(?:;[^;\n]+)*) (\d+)", line) for line in out.splitlines()]
    assert rows and all(rows), out
    counts = [(m[1], int(m[2])) for m in rows if m is not None]
    assert [c for _, c in counts] == sorted((c for _, c in counts), reverse=True)
    stack, top = counts[0]
    assert stack.endswith("main;kllvm_hot_function")
    total = sum(c for _, c in counts)
    assert top >= 0.8 * total
    # The SVG is well-formed and its box of the hot function has the same count.
    root = ET.parse(svg).getroot()
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert f"all ({total} samples, 100.00%)" in titles
    hot_titles = [t for t in titles if t and t.startswith("kllvm_hot_function (")]
    assert any(t.startswith(f"kllvm_hot_function ({top} samples") for t in hot_titles)


def test_printf_p_prints_kernel_symbols(tmp_path: Path) -> None:
    # timer:timer_start's `function` (arg1) is the kernel function the timer will call;
    # ktap's %p printed it as its symbol, without offset.
    script = """var n = 0
trace timer:timer_start { n += 1; if (n <= 20) { printf("%p|%d\\n", arg1, arg1) } }
"""
    status, out = run(tmp_path, script, "-d", "0.5")
    assert status == 0
    text: dict[int, set[str]] = {}
    for line in Path("/proc/kallsyms").read_text().splitlines():
        address, kind, name, *_ = line.split()
        if kind in "tTwW":
            text.setdefault(int(address, 16), set()).add(name)
    rows = [line.split("|") for line in out.splitlines()]
    assert rows
    for symbol, address in rows:
        # The address is the function's own entry: its symbol is exactly that name.
        assert symbol in text.get(int(address) & (2**64 - 1), set()), (symbol, address)


def test_ipof_keys_are_named_in_print_hist(tmp_path: Path) -> None:
    script = """var s = {}
var n = 0
trace timer:timer_start { s[ipof(arg1)] += 1; n += 1 }
trace_end { print_hist(s, 1000); print("total", n) }
"""
    status, out = run(tmp_path, script, "-d", "0.5")
    assert status == 0
    text, total = out.rsplit("total\t", 1)
    header, *rows = text.splitlines()
    assert header.startswith("                         value ---")
    names = {line.split()[2] for line in Path("/proc/kallsyms").read_text().splitlines()}
    counted = 0
    for row in rows:
        match = re.fullmatch(r" *(\S+) \|[@ ]{38}(\d+) *", row)
        assert match is not None, row
        # A timer's function is a kernel function: its name, never a number.
        assert match[1] in names or (match[1].endswith("...") and len(match[1]) == 31), row
        counted += int(match[2])
    assert counted == int(total) > 0


def test_a_stack_kept_in_a_variable_prints_in_trace_end(tmp_path: Path) -> None:
    script = """var last
trace sched:sched_switch { last = stack(3) }
trace_end { print(last) }
"""
    status, out = run(tmp_path, script, "-d", "0.2")
    assert status == 0
    header, *frames, blank = out.split("\n")[:5]
    assert (header, blank, len(frames)) == ("<stack trace>", "", 3)
    assert all(f.startswith(" => ") and KERNEL_FRAME.fullmatch(f[4:]) for f in frames)
