"""Live: strings from memory in probe bodies (user_string, kernel_string, `__data_loc`
fields), printed, formatted and used as table keys, cut to --strlen and counted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kllvm.cli import main

pytestmark = pytest.mark.needs_root

OPENSNOOP = "trace syscalls:sys_enter_openat { print(user_string(arg2)) }\n"
EXECSNOOP = "trace sched:sched_process_exec { print(arg0, arg1 == pid) }\n"


def run(tmp_path: Path, script: str, command: list[str], *options: str) -> tuple[int, str]:
    path = tmp_path / "script.kp"
    path.write_text(script)
    out = tmp_path / "out.txt"
    status = main(["run", "-q", "-o", str(out), *options, str(path), "--", *command])
    return status, out.read_text() if out.exists() else ""


def file_named(tmp_path: Path, length: int) -> Path:
    """A file in `tmp_path` whose path is `length` bytes long."""
    stem = str(tmp_path / "f")
    path = Path(stem + "x" * (length - len(stem)))
    assert len(str(path)) == length
    path.write_text("x\n")
    return path


def test_opensnoop_prints_the_path_the_command_opens(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "opened-by-the-test.txt"
    target.write_text("hello\n")
    status, out = run(tmp_path, OPENSNOOP, ["/bin/cat", str(target)])
    assert status == 0
    # The dynamic loader opens its libraries first; the command's own open comes last.
    assert out.splitlines()[-1] == str(target)
    assert out.splitlines().count(str(target)) == 1
    assert "warning" not in capsys.readouterr().err


def test_strings_from_memory_as_keys_and_in_printf(tmp_path: Path) -> None:
    target = tmp_path / "key.txt"
    target.write_text("hello\n")
    script = f"""var seen = {{}}
var last = ""
trace syscalls:sys_enter_openat {{
  var path = user_string(arg2)
  seen[path] += 1
  if (path == "{target}") {{ printf("<%s> %d\\n", path, seen[path]) }}
  last = path
}}
trace_end {{ print(seen["{target}"], last == "{target}") }}
"""
    status, out = run(tmp_path, script, ["/bin/cat", str(target), str(target)])
    assert (status, out) == (0, f"<{target}> 1\n<{target}> 2\n2\ttrue\n")


def test_a_string_of_strlen_minus_one_bytes_fits(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    target = file_named(tmp_path, 127)
    status, out = run(tmp_path, OPENSNOOP, ["/bin/cat", str(target)])
    assert (status, out.splitlines()[-1]) == (0, str(target))
    assert "warning" not in capsys.readouterr().err


def test_a_longer_string_is_cut_and_counted(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    target = file_named(tmp_path, 128)
    status, out = run(tmp_path, OPENSNOOP, ["/bin/cat", str(target), str(target)])
    assert status == 0 and out.splitlines()[-2:] == [str(target)[:127]] * 2
    err = capsys.readouterr().err
    assert ("script.kp:1:41: warning: 2 strings read by user_string() had to be cut to "
            "127 bytes (--strlen sets the capacity)") in err


def test_strlen_sets_the_capacity_of_strings_from_memory(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    target = file_named(tmp_path, 200)
    status, out = run(tmp_path, OPENSNOOP, ["/bin/cat", str(target)], "--strlen", "256")
    assert (status, out.splitlines()[-1]) == (0, str(target))
    assert "warning" not in capsys.readouterr().err


def test_kernel_string_reads_kernel_memory(tmp_path: Path) -> None:
    # ma_write's `fn` is the kernel's __func__ of the caller: a kernel function's name.
    script = "trace maple_tree:ma_write { print(kernel_string(arg0), user_string(arg0)) }\n"
    status, out = run(tmp_path, script, ["/bin/true"])
    assert status == 0 and out
    with open("/proc/kallsyms") as kallsyms:
        symbols = {line.split()[2] for line in kallsyms}
    for line in out.splitlines():
        kernel, user = line.split("\t")
        assert kernel in symbols, line
        assert user == ""  # a kernel address read as user memory faults: ""


def test_execsnoop_prints_the_data_loc_filename(tmp_path: Path) -> None:
    env = shutil.which("env")
    assert env is not None
    status, out = run(tmp_path, EXECSNOOP, [env, "/bin/true"])
    assert (status, out) == (0, f"{env}\ttrue\n/bin/true\ttrue\n")


def test_a_long_data_loc_string_is_cut_and_counted(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    program = tmp_path / ("p" * 150)
    shutil.copy("/bin/true", program)
    status, out = run(tmp_path, EXECSNOOP, [str(program)])
    assert (status, out) == (0, f"{str(program)[:127]}\ttrue\n")
    assert ("script.kp:1:40: warning: 1 string read from arg0 had to be cut to 127 bytes"
            in capsys.readouterr().err)


@pytest.mark.parametrize(("script", "message"), [
    ('trace syscalls:sys_enter_openat { print(user_string("x")) }\n',
     "1:41: error: wrong type of argument 1: the value is not a number"),
    ("trace syscalls:sys_enter_openat { print(kernel_string()) }\n",
     "1:41: error: kernel_string() takes one argument: an address"),
    ("tick-1s { print(user_string(1)) }\n",
     "1:17: error: 'user_string()' is not available in a tick body"),
    ('trace syscalls:sys_enter_openat { printf("%d\\n", user_string(arg2)) }\n',
     "1:35: error: printf: %d needs a number, but argument 2 is a string"),
])
def test_misused_memory_strings_are_compile_errors(tmp_path: Path, script: str, message: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, script, ["/bin/true"]) == (1, "")
    assert f"script.kp:{message}" in capsys.readouterr().err


def test_concatenation_and_comparison_of_strings_from_memory(tmp_path: Path) -> None:
    target = tmp_path / "joined.txt"
    target.write_text("x\n")
    script = f"""var same = 0
var other = 0
trace syscalls:sys_enter_openat {{
  var line = execname .. ":" .. user_string(arg2)
  if (line == "cat:{target}") {{ same += 1; print(line .. "!") }}
  if (line != "cat:{target}") {{ other += 1 }}
}}
trace_end {{ print(same, other > 0) }}
"""
    status, out = run(tmp_path, script, ["/bin/cat", str(target)])
    assert (status, out) == (0, f"cat:{target}!\n1\ttrue\n")


def test_concatenation_is_cut_to_strlen_and_counted_once_per_expression(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # sys_enter_openat is 16 bytes: 10 + 16 + 10 do not fit 31 bytes, 9 + 16 + 6 do.
    script = """trace syscalls:sys_enter_openat {
  print("0123456789" .. probename .. "abcdefghij")
  print("012345678" .. probename .. "abcdef")
}
"""
    status, out = run(tmp_path, script, ["/bin/cat", "/dev/null"], "--strlen", "32")
    lines = out.splitlines()
    assert status == 0 and len(lines) >= 2
    assert set(lines[0::2]) == {"0123456789sys_enter_openatabcde"}
    assert set(lines[1::2]) == {"012345678sys_enter_openatabcdef"}
    err = capsys.readouterr().err
    assert err.count("warning") == 1, err
    assert (f"script.kp:2:9: warning: {len(lines) // 2} strings made by '..' had to be cut to "
            "31 bytes (--strlen sets the capacity)") in err


def test_concatenating_nil_in_a_probe_is_fatal(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    script = """var t = {}
t["x"] = "y"
trace syscalls:sys_enter_openat { print(t[probename] .. "!") }
trace_end { print("not reached") }
"""
    assert run(tmp_path, script, ["/bin/true"]) == (1, "")
    assert "script.kp:3:41: error: cannot concat non-string" in capsys.readouterr().err
