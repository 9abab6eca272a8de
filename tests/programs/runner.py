"""Runs a .kpt case through the real CLI entry point (`kllvm.cli.main`, in process) and
compares its stdout, stderr and exit status with the case's expectations."""

from __future__ import annotations

import difflib
import io
import re
import sys
import tempfile
from pathlib import Path

from kllvm import cli
from tests.programs.kpt import Case

SCRIPT_NAME = "(script)"


class CaseFailure(AssertionError):
    """A case's output or status is not the expected one (the message says how)."""


def run_cli(argv: list[str]) -> tuple[int, bytes, bytes]:
    """Runs `kllvm ARGV` in this process; returns (exit status, stdout, stderr)."""
    out, err = io.BytesIO(), io.BytesIO()
    out_text = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape",
                                write_through=True)
    err_text = io.TextIOWrapper(err, encoding="utf-8", errors="surrogateescape",
                                write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out_text, err_text
    try:
        try:
            status = cli.main(argv)
        except SystemExit as e:  # argparse usage errors, unreadable files
            if isinstance(e.code, str):
                err_text.write(e.code + "\n")
                status = 1
            else:
                status = 0 if e.code is None else e.code
        out_text.flush()
        err_text.flush()
    finally:
        sys.stdout, sys.stderr = saved
    return status, out.getvalue(), err.getvalue()


def run_case(case: Case, workdir: Path) -> tuple[int, bytes, bytes]:
    """Runs the case (its script written into WORKDIR); the script's path reads `(script)`."""
    if case.sections.get("mode", "").strip() == "-e":
        return run_cli(["-e", case.source.removesuffix("\n"), *case.args])
    script = workdir / "script.kp"
    script.write_text(case.source, encoding="utf-8")
    status, out, err = run_cli(["run", str(script), *case.args])
    path, name = str(script).encode(), SCRIPT_NAME.encode()
    return status, out.replace(path, name), err.replace(path, name)


def _text(data: bytes) -> str:
    return data.decode("utf-8", "backslashreplace")


def _diff(stream: str, expected: bytes, actual: bytes) -> str:
    # repr() per line shows tabs, escapes and trailing spaces, which the cases often test.
    lines = difflib.unified_diff(
        [repr(line) for line in _text(expected).splitlines(keepends=True)],
        [repr(line) for line in _text(actual).splitlines(keepends=True)],
        f"expected {stream}", f"actual {stream}", lineterm="")
    return f"{stream} differs:\n" + "\n".join(lines)


def _match_lines(patterns: bytes, actual: bytes, stream: str) -> None:
    expected_lines = patterns.decode().splitlines()
    actual_lines = _text(actual).splitlines()
    if len(actual_lines) != len(expected_lines):
        raise CaseFailure(f"{stream}: {len(actual_lines)} lines, expected "
                          f"{len(expected_lines)}:\n{_text(actual)}")
    for pattern, line in zip(expected_lines, actual_lines, strict=True):
        if not re.fullmatch(pattern, line):
            raise CaseFailure(f"{stream}: {line!r} does not match {pattern!r}")


def check_output(case: Case, actual: bytes, stream: str) -> None:
    if (patterns := case.expected(f"{stream}-re")) is not None:
        _match_lines(patterns, actual, stream)
    elif stream == "stderr" and (needles := case.expected("stderr-has")) is not None:
        for needle in needles.decode().splitlines():
            if not re.search(needle, _text(actual), re.MULTILINE):
                raise CaseFailure(f"stderr lacks {needle!r}:\n{_text(actual)}")
    else:
        expected = case.expected(stream) or b""
        if actual != expected:
            raise CaseFailure(_diff(stream, expected, actual))


def check_case(case: Case) -> None:
    """Runs the case in a fresh private folder; CaseFailure when anything differs."""
    with tempfile.TemporaryDirectory(prefix="kllvm-kpt-") as workdir:
        status, out, err = run_case(case, Path(workdir))
    if b"Traceback" in err:
        raise CaseFailure(f"a Python traceback on stderr:\n{_text(err)}")
    check_output(case, out, "stdout")
    check_output(case, err, "stderr")
    if status != case.exit:
        stderr = f"\nstderr:\n{_text(err)}" if err else ""
        raise CaseFailure(f"exit status {status}, expected {case.exit}{stderr}")
