"""Bash completion (argcomplete) and the `--help` of every command, as a user gets them."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kllvm import cli

ROOT = Path(__file__).resolve().parents[2]


def complete(line: str, tmp_path: Path) -> list[str]:
    """What bash completion offers for `line` (the cursor at its end): the protocol of
    argcomplete's bash hook, with the answer written to a file instead of fd 8."""
    answer = tmp_path / "completions"
    env = {**os.environ, "_ARGCOMPLETE": "1", "_ARGCOMPLETE_IFS": "\n", "COMP_LINE": line,
           "COMP_POINT": str(len(line)), "_ARGCOMPLETE_STDOUT_FILENAME": str(answer)}
    done = subprocess.run([sys.executable, "-m", "kllvm"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (0, ""), done.stderr
    return [c.strip() for c in answer.read_text().split("\n") if c.strip()]


def test_commands_complete(tmp_path: Path) -> None:
    assert complete("kllvm l", tmp_path) == ["list"]
    assert set(complete("kllvm ", tmp_path)) >= set(cli.COMMANDS)


def test_options_and_choices_complete(tmp_path: Path) -> None:
    assert "--format" in complete("kllvm run --f", tmp_path)
    assert complete("kllvm run -f j", tmp_path) == ["json"]
    assert complete("kllvm dump --emit ", tmp_path) == list(cli.EMIT_STAGES)


def test_script_files_complete(tmp_path: Path) -> None:
    assert complete("kllvm run samples/hellow", tmp_path) == ["samples/helloworld.kp"]


@pytest.mark.needs_root
def test_list_completes_tracepoints(tmp_path: Path) -> None:
    assert complete("kllvm list sched:sched_swi", tmp_path) == ["sched:sched_switch"]


def subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_every_command_has_one() -> None:
    assert sorted(subparsers()) == sorted(cli.COMMANDS)


@pytest.mark.parametrize("command", cli.COMMANDS)
def test_help_of_every_command_lists_every_option_with_an_explanation(command: str) -> None:
    done = subprocess.run([sys.executable, "-m", "kllvm", command, "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith(f"usage: kllvm {command} ")
    for action in subparsers()[command]._actions:
        assert action.help and action.help != argparse.SUPPRESS, action
        names = action.option_strings or [action.metavar or action.dest]
        for name in names:
            assert str(name) in done.stdout, name
        first_words = " ".join(action.help.split()[:3])
        assert first_words in " ".join(done.stdout.split()), action.help


def test_top_level_help_names_every_command_and_the_short_forms() -> None:
    done = subprocess.run([sys.executable, "-m", "kllvm", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    for command in cli.COMMANDS:
        assert command in text
    assert "--version" in text and "#!/usr/bin/env kllvm" in text
