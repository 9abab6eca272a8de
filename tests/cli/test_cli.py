"""The `kllvm` command as a user runs it: a real process (`python -m kllvm`, and the
`.venv/bin/kllvm` console script), its exit codes, streams and files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
CONSOLE_SCRIPT = Path(sys.executable).parent / "kllvm"
ERROR_LINE = re.compile(r"^\S+:\d+:\d+: error: ")


def kllvm(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "kllvm", *args], cwd=cwd,
                          capture_output=True, timeout=60, check=False)


def assert_no_traceback(result: subprocess.CompletedProcess[bytes]) -> None:
    assert b"Traceback" not in result.stderr, result.stderr.decode(errors="replace")


# ------------------------------------------------------------------ exit codes and streams


def test_success_exits_0() -> None:
    result = kllvm("run", "samples/helloworld.kp")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, b"Hello World! I am ktap\n", b"")


def test_runtime_error_exits_1_with_the_location_on_stderr(tmp_path: Path) -> None:
    script = tmp_path / "div.kp"
    script.write_text('print("before")\nvar z = 0\nprint(1 / z)\n')
    result = kllvm("run", str(script))
    assert result.returncode == 1
    assert result.stdout == b"before\n"
    assert result.stderr == (
        f"{script}:3:7: error: divide 0 arith operation\nprint(1 / z)\n      ^~~~~\n".encode())


def test_compile_error_exits_1_and_runs_nothing(tmp_path: Path) -> None:
    script = tmp_path / "bad.kp"
    script.write_text('print("no")\nprint(undefined_name)\n')
    result = kllvm("run", str(script))
    assert result.returncode == 1
    assert result.stdout == b""
    assert result.stderr.decode().startswith(
        f"{script}:2:7: error: undefined variable 'undefined_name'\n")


@pytest.mark.parametrize("args", [[], ["--no-such-option"], ["dump", "--emit=nope", "x.kp"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = kllvm(*args)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.startswith(b"usage: kllvm")
    assert_no_traceback(result)


def test_help_exits_0() -> None:
    result = kllvm("--help")
    assert result.returncode == 0
    assert b"usage: kllvm" in result.stdout
    for word in (b"run", b"dump", b"-e"):
        assert word in result.stdout


# ------------------------------------------------------------------ -e, run, -o


def test_one_liner() -> None:
    result = kllvm("-e", 'print(1 + 1, "two")')
    assert (result.returncode, result.stdout, result.stderr) == (0, b"2\ttwo\n", b"")


def test_one_liner_error_names_the_command_line() -> None:
    result = kllvm("-e", "print(nope)")
    assert result.returncode == 1
    assert result.stderr.startswith(b"(command line):1:7: error: undefined variable 'nope'\n")


def test_run_with_arguments() -> None:
    result = kllvm("run", "samples/args.kp", "a", "12")
    assert result.returncode == 0
    assert result.stdout == b"".join(b"hello, a (%d)\n" % i for i in range(1, 13))


def test_run_arguments_number_or_string(tmp_path: Path) -> None:
    script = tmp_path / "a.kp"
    script.write_text("print(arg[0], arg[1] + 1, arg[2] .. '!', arg[3])\n")
    result = kllvm("run", str(script), "41", "x")
    assert result.stdout == f"{script}\t42\tx!\tnil\n".encode()


def test_output_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = kllvm("run", "-o", str(out), "samples/helloworld.kp")
    if result.returncode == 2:  # `run FILE -o OUT`: options after the script
        result = kllvm("run", "samples/helloworld.kp", "-o", str(out))
    assert result.returncode == 0
    assert result.stdout == b""
    assert out.read_bytes() == b"Hello World! I am ktap\n"


def test_output_file_with_one_liner_and_errors_still_on_stderr(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    result = kllvm("-o", str(out), "-e", 'print("kept"); print(1 / 0)')
    assert result.returncode == 1
    assert result.stdout == b""
    assert out.read_bytes() == b"kept\n"
    assert b"error: divide 0 arith operation" in result.stderr


def test_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.kp"
    result = kllvm("run", str(missing))
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert str(missing) in lines[0] and "error" in lines[0]
    assert "No such file" in lines[0]


def test_directory_instead_of_a_file(tmp_path: Path) -> None:
    result = kllvm("run", str(tmp_path))
    assert result.returncode == 1
    assert len(result.stderr.decode().splitlines()) == 1
    assert_no_traceback(result)


# ------------------------------------------------------------------ dump


def test_dump_ast() -> None:
    result = kllvm("dump", "--emit=ast", "samples/helloworld.kp")
    assert result.returncode == 0
    assert result.stdout == b'(call print ("Hello World! I am ktap"))\n' or \
        result.stdout.startswith(b"(")
    assert b"print" in result.stdout and b"Hello World! I am ktap" in result.stdout


def test_dump_types(tmp_path: Path) -> None:
    script = tmp_path / "t.kp"
    script.write_text('var n = 1\nvar s = "x"\nvar t = {}\nt[1] = s\n')
    result = kllvm("dump", "--emit=types", str(script))
    assert result.returncode == 0
    assert result.stdout.decode().splitlines() == [
        "table t @3:9: [int] str (user)",
        "function main (user)",
        "  n @1:5: int",
        "  s @2:5: str",
        "  t @3:5: table#0[int]str",
    ]


def test_dump_ir() -> None:
    result = kllvm("dump", "--emit=ir", "samples/fibonacci.kp")
    assert result.returncode == 0
    text = result.stdout.decode()
    assert text.startswith("module main=main\n")
    assert "function main(" in text and "function fib@" in text


def test_dump_of_a_bad_script_is_a_compile_error(tmp_path: Path) -> None:
    script = tmp_path / "bad.kp"
    script.write_text("print(\n")
    result = kllvm("dump", "--emit=ir", str(script))
    assert result.returncode == 1
    assert ERROR_LINE.match(result.stderr.decode())


def test_closure_updating_its_parameter_dumps(tmp_path: Path) -> None:
    # Once an internal error (BUG-1: a captured variable's register clashing with its load
    # temporary), which `dump` showed as a traceback (BUG-5).
    script = tmp_path / "closure.kp"
    script.write_text("function mk(n) { return function () { n = n + 1; return n } }\n"
                      "print(mk(0)())\n")
    result = kllvm("dump", "--emit=ir", str(script))
    assert (result.returncode, result.stderr) == (0, b"")
    assert result.stdout.startswith(b"module main=main\n")


# No known program makes the compiler fail any more, so the IR verifier is made to fail.
FAILING_VERIFIER = ("import sys\n"
                    "import kllvm.driver\n"
                    "kllvm.driver.verify_module = lambda module: ['forced problem']\n"
                    "from kllvm.cli import main\n"
                    "sys.exit(main())\n")


@pytest.mark.parametrize("emit", ["ir", "types"])
def test_internal_error_is_not_a_traceback(tmp_path: Path, emit: str) -> None:
    script = tmp_path / "hello.kp"
    script.write_text('print("hi")\n')
    result = subprocess.run([sys.executable, "-c", FAILING_VERIFIER, "dump", f"--emit={emit}",
                             str(script)], cwd=ROOT, capture_output=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr == (b"kllvm: internal compiler error, please report: "
                             b"IR verification failed:\nforced problem\n")


# ------------------------------------------------------------------ python -m kllvm == kllvm


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="no kllvm console script")
@pytest.mark.parametrize("args", [["run", "samples/printf.kp"], ["-e", "print(1 / 0)"]])
def test_console_script_equals_python_m(args: list[str]) -> None:
    module = kllvm(*args)
    script = subprocess.run([str(CONSOLE_SCRIPT), *args], cwd=ROOT, capture_output=True,
                            timeout=60, check=False)
    assert (script.returncode, script.stdout, script.stderr) == (
        module.returncode, module.stdout, module.stderr)


# ------------------------------------------------------------------ malformed input


def _mutations(text: str) -> list[str]:
    """Deterministic ways to break a script, each of which is surely not valid ktap."""
    code_lines = [line for line in text.splitlines(keepends=True)
                  if "(" in line and not line.lstrip().startswith("#")]
    last = code_lines[-1]
    paren = text.rindex(last) + last.index("(")  # the first '(' of the last call line
    out = [
        text[: paren + 1],                                 # truncated inside a call
        text[: paren + 1] + " $ " + text[paren + 1:],      # a character ktap does not know
        text[:paren] + " ) " + text[paren:],               # a stray ')'
    ]
    if "}" in text:
        brace = text.rindex("}")
        out.append(text[:brace] + text[brace + 1:])        # an unclosed brace
    else:
        out.append(text + "\nvar = 1\n")                 # a declaration without a name
    return out


def malformed_corpus() -> list[tuple[str, str]]:
    corpus: list[tuple[str, str]] = []
    for sample in sorted(SAMPLES.glob("*.kp")):
        for index, text in enumerate(_mutations(sample.read_text())):
            corpus.append((f"{sample.stem}-{index}", text))
    corpus += [
        ("empty-call", "print(\n"),
        ("else-if", "if (1) { } else if (2) { }\n"),
        ("c-for", "for (i = 0; i < 3; i += 1) { }\n"),
        ("float", "print(1.5)\n"),
        ("unfinished-long-string", "print([[abc)\n"),
        ("garbage-bytes", "\x01\x02\x03 print(1)\n"),
        ("lone-ampersand", "var a = 1 & 2\n"),
    ]
    return corpus


def test_malformed_corpus_is_big_enough() -> None:
    assert len(malformed_corpus()) >= 30


def test_malformed_scripts_never_show_a_traceback(tmp_path: Path) -> None:
    corpus = malformed_corpus()
    paths = []
    for name, text in corpus:
        path = tmp_path / f"{name}.kp"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    workers = max(2, min(8, os.cpu_count() or 2))
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda p: kllvm("run", str(p)), paths))
    failures = []
    for (name, _), result in zip(corpus, results, strict=True):
        stderr = result.stderr.decode("utf-8", "replace")
        if (b"Traceback" in result.stderr or result.returncode != 1
                or not ERROR_LINE.match(stderr)):
            failures.append(f"{name}: exit {result.returncode}\n{stderr}")
    assert not failures, "\n".join(failures)
