"""The `kllvm` command: run, build and dump ktap scripts."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from backend.layout import DEFAULT_STRLEN, MAX_STRLEN, MIN_STRLEN
from frontend.diagnostics import CompileError, InternalError, Source
from kllvm.output import OutputError

EMIT_STAGES = ("ast", "types", "ir", "llvm", "asm")


COMMANDS = ("run", "build", "dump")
SIGPIPE_STATUS = 141  # 128 + SIGPIPE, what shells report for a writer whose reader left


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kllvm",
        description="Compile ktap tracing scripts to eBPF through LLVM and run them live.",
        epilog="'kllvm -e PROGRAM [ARGS]' is short for 'kllvm run -e PROGRAM [ARGS]'. "
        "After '--' comes a command to run and trace: 'kllvm run x.kp -- ls -l'.",
    )
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser("run", help="compile and run a script (or a built artifact)")
    run.add_argument("-e", dest="program", metavar="PROGRAM",
                     help="run a one-line PROGRAM instead of a script file")
    run.add_argument("script", nargs="?",
                     help="a .kp script, or an artifact written by 'kllvm build'")
    run.add_argument("args", nargs="*", help="script arguments: arg[1], arg[2], ...")
    _run_options(run)

    build = commands.add_parser("build", help="compile a script to a reusable artifact")
    build.add_argument("script")
    build.add_argument("-o", dest="output", required=True, metavar="OUT")
    _strlen_option(build)

    dump = commands.add_parser("dump", help="print the result of one compiler stage")
    dump.add_argument("--emit", choices=EMIT_STAGES, default="ir")
    dump.add_argument("script")
    _strlen_option(dump)
    return parser


def _strlen(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not MIN_STRLEN <= value <= MAX_STRLEN or value % 8:
        raise argparse.ArgumentTypeError(
            f"{value}: must be a multiple of 8 from {MIN_STRLEN} to {MAX_STRLEN}")
    return value


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text}: must be a finite number of seconds, "
                                         "0 or more")
    return value


def _pid(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value}: a process id is 1 or more")
    return value


def _strlen_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strlen", type=_strlen, default=DEFAULT_STRLEN, metavar="BYTES",
                        help="capacity of strings in probes, with their NUL "
                        f"(default {DEFAULT_STRLEN})")


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not print 'Tracing... Hit Ctrl-C to end.'")
    parser.add_argument("-o", "--output", metavar="FILE", help="write output to FILE")
    parser.add_argument("-d", "--duration", type=_duration, metavar="SECONDS",
                        help="stop tracing after SECONDS")
    parser.add_argument("-p", "--pid", type=_pid, help="trace only process PID")
    parser.add_argument("-f", "--format", choices=("hist", "folded"), default="hist",
                        help="how print_hist shows stack-keyed tables: ktap's histogram, "
                             "or folded stacks (flamegraph.pl, inferno, speedscope)")
    parser.add_argument("--flamegraph", metavar="FILE.svg",
                        help="when tracing ends, write an SVG flame graph of the "
                             "stack-keyed tables to FILE.svg")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the full verifier log on rejections")
    _strlen_option(parser)


def _split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """Splits off `-- CMD ARGS`, the command to run and trace."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def _read_source(path: str) -> Source:
    try:
        return Source(path, Path(path).read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError as e:
        raise SystemExit(f"kllvm: error: cannot read '{path}': {e.strerror}") from None


def _run(source: Source, args: list[str], command: list[str],
         options: argparse.Namespace) -> int:
    """A built artifact runs as it is; a script is compiled first. Only then is the
    compiler (lark, llvmlite) imported: kllvm.runner never imports it."""
    from backend.artifact import is_artifact
    from kllvm import runner

    if is_artifact(source.text):
        return runner.run_artifact(source, args, command, options)
    from kllvm import compiler

    build = compiler.compile_script(source, options.strlen)
    return runner.run_compiled(source, build.compilation.module, build.manifest, build.object,
                               args, command, options)


def main(argv: Sequence[str] | None = None) -> int:
    args, command = _split_command(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] not in COMMANDS and "-e" in args:
        args.insert(0, "run")
    parser = _parser()
    options = parser.parse_args(args)
    try:
        if options.command == "run":
            if options.pid is not None and command:
                parser.error("-p PID and -- CMD choose the process to trace: give one")
            if options.program is not None:
                script_args = [options.script, *options.args] if options.script else options.args
                source = Source("(command line)", options.program)
            elif options.script is not None:
                script_args, source = options.args, _read_source(options.script)
            else:
                parser.error("run needs a script or -e PROGRAM")
            return _run(source, script_args, command, options)
        if options.command in ("dump", "build"):
            from kllvm import compiler
        if options.command == "dump":
            sys.stdout.write(compiler.dump(_read_source(options.script), options.emit,
                                         options.strlen))
            return 0
        if options.command == "build":
            compiler.build(_read_source(options.script), options.output, options.strlen)
            return 0
    except CompileError as e:
        sys.stderr.write(e.rendered)
        return 1
    except OutputError as e:
        sys.stderr.write(f"kllvm: error: {e}\n")
        return 1
    except InternalError as e:
        sys.stderr.write(f"kllvm: internal compiler error, please report: {e}\n")
        return 1
    except BrokenPipeError:
        # Whoever read the output has gone (`kllvm run x | head`): stop quietly, as a
        # process killed by SIGPIPE would, once the session has detached its probes.
        # Python would otherwise complain when it flushes stdout again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS
    except Exception as e:  # noqa: BLE001 - a compiler bug must not look like a crash
        sys.stderr.write(f"kllvm: internal error, please report: {type(e).__name__}: {e}\n")
        return 1
    parser.print_usage(sys.stderr)
    return 2
