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
from frontend.tapsetpath import SearchPath
from ir.records import Format, Records
from kllvm import BUNDLED_TAPSETS, __version__, cache
from kllvm.output import OutputError

EMIT_STAGES = ("ast", "types", "ir", "llvm", "asm")


COMMANDS = ("run", "build", "dump", "list", "bench")
# The options of `kllvm` itself; any other first argument starts `run`: `kllvm x.kp`,
# `kllvm -d 1 x.kp`, `kllvm -e PROGRAM` and a `#!/usr/bin/env kllvm` script.
TOP_LEVEL = ("-h", "--help", "--version")
STDIN = "-"  # `kllvm run -`: the script comes from standard input
STDIN_NAME = "<stdin>"
SIGPIPE_STATUS = 141  # 128 + SIGPIPE, what shells report for a writer whose reader left


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kllvm",
        description="Compile ktap tracing scripts to eBPF through LLVM and run them live.",
        epilog="'kllvm SCRIPT [ARGS]' and 'kllvm -e PROGRAM [ARGS]' are short for "
        "'kllvm run SCRIPT [ARGS]' and 'kllvm run -e PROGRAM [ARGS]', so a script whose "
        "first line is '#!/usr/bin/env kllvm' runs when made executable. "
        "After '--' comes a command to run and trace: 'kllvm run x.kp -- ls -l'.",
    )
    parser.add_argument("--version", action="version", version=f"kllvm {__version__}",
                        help="print kllvm's version and exit")
    commands = parser.add_subparsers(dest="command")

    run = commands.add_parser(
        "run", help="compile and run a script (or a built artifact)",
        description="Compile a ktap script to eBPF and run it: its main chunk, then its "
        "probes until Ctrl-C, -d, exit() or the end of -- CMD, then trace_end.",
        epilog="After '--' comes a command to run and trace, started before the probes "
        "attach and stopped with the run: 'kllvm run x.kp -- ls -l'. Exit status: 0, the "
        "command's own, 1 on an error, 2 on a malformed option, 126/127 when the command "
        "cannot run, 130 after Ctrl-C outside tracing, 141 when the output's reader left.")
    run.add_argument("-e", dest="program", metavar="PROGRAM",
                     help="run a one-line PROGRAM instead of a script file")
    run.add_argument("--interp", action="store_true",
                     help="run the probe bodies in kllvm's interpreter in user space (a "
                     "generic BPF program sends each event); tracepoints and syscalls only")
    run.add_argument("script", nargs="?",
                     help="a .kp script, an artifact written by 'kllvm build', or '-' "
                     "to read the script from standard input")
    run.add_argument("args", nargs="*", help="script arguments: arg[1], arg[2], ...")
    _run_options(run)

    build = commands.add_parser(
        "build", help="compile a script to a reusable artifact",
        description="Compile a script to an artifact (BPF object, manifest, user-space IR) "
        "that 'kllvm run OUT' runs without compiling again.")
    build.add_argument("script", help="the .kp script to compile")
    build.add_argument("-o", dest="output", required=True, metavar="OUT",
                       help="the artifact file to write")
    _strlen_option(build)

    dump = commands.add_parser(
        "dump", help="print the result of one compiler stage",
        description="Print what one stage of the compiler makes of a script.")
    dump.add_argument("--emit", choices=EMIT_STAGES, default="ir",
                      help="the stage: the syntax tree, the inferred types, the typed IR, "
                      "the LLVM IR or the BPF instructions (default: ir)")
    dump.add_argument("script", help="the .kp script")
    _strlen_option(dump)

    listing = commands.add_parser(
        "list", help="list the tracepoints and events a pattern matches",
        description="List the tracepoints and dynamic events that PATTERN matches "
        "(ktap's globs: 'sched:*', 'syscalls:sys_enter_open*', comma lists; a PATTERN "
        "without ':' is an event name in any system), or the functions of a binary that "
        "a uprobe can name ('probe:/bin/bash:read*'). Without PATTERN, every tracepoint.")
    pattern = listing.add_argument("pattern", nargs="?", metavar="PATTERN",
                                   help="what to list (default: every tracepoint, '*:*')")
    pattern.completer = _complete_events  # type: ignore[attr-defined]  # argcomplete's
    listing.add_argument("-v", "--verbose", action="store_true",
                         help="show each event's fields: argN number, ktap type, C type "
                         "and name")
    _format_option(listing, "one JSON object per event")

    bench = commands.add_parser(
        "bench", help="measure the cost per event of the compiled and interpreter paths",
        description="Run CMD with no probes, then traced by SCRIPT compiled to BPF, then "
        "with SCRIPT's probe bodies in the interpreter (--interp), and print the events "
        "seen, the events lost and the cost each path added per event: the workload's "
        "extra CPU time plus kllvm's own. Without '-- CMD', trace the whole system for "
        "-d SECONDS (default 1) and charge the time in the BPF programs instead.")
    bench.add_argument("script", help="the .kp script")
    bench.add_argument("-d", "--duration", type=_duration, metavar="SECONDS",
                       help="without CMD: how long to trace on each path")
    _format_option(bench, "one JSON object")
    _strlen_option(bench)
    return parser


def _complete_events(prefix: str, **_: object) -> list[str]:
    """Shell completion of `kllvm list PATTERN`: the tracepoints (tracefs needs root)."""
    from backend import tracefs

    try:
        events = tracefs.available_events()
    except (OSError, tracefs.TracefsError):
        return []
    return [f"{s}:{e}" for s, e in events if f"{s}:{e}".startswith(prefix)]


def _complete(parser: argparse.ArgumentParser) -> None:
    """Bash completion through argcomplete, when the shell asks for it (it sets
    _ARGCOMPLETE); otherwise argcomplete is not even imported. Enable it with
    `eval "$(register-python-argcomplete kllvm)"`."""
    if "_ARGCOMPLETE" in os.environ:
        import argcomplete

        argcomplete.autocomplete(parser)


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
    parser.add_argument("-I", dest="include", action="append", default=[], metavar="DIR",
                        help="look for tapsets (foo.kp for the library foo) in DIR first; "
                        "then in $KLLVM_TAPSET_PATH, then among kllvm's own")


def _tapset_path(options: argparse.Namespace) -> SearchPath:
    """-I folders, then KLLVM_TAPSET_PATH's (colon-separated), then the bundled ones."""
    folders = [(Path(folder), "-I") for folder in options.include]
    folders += [(Path(folder), "KLLVM_TAPSET_PATH")
                for folder in os.environ.get("KLLVM_TAPSET_PATH", "").split(":") if folder]
    folders.append((BUNDLED_TAPSETS, "bundled with kllvm"))
    return SearchPath(tuple((folder.absolute(), origin) for folder, origin in folders))


def _run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="do not print 'Tracing... Hit Ctrl-C to end.'")
    parser.add_argument("-o", "--output", metavar="FILE", help="write output to FILE")
    parser.add_argument("-d", "--duration", type=_duration, metavar="SECONDS",
                        help="stop tracing after SECONDS")
    parser.add_argument("-p", "--pid", type=_pid, help="trace only process PID")
    parser.add_argument("--flamegraph", metavar="FILE.svg",
                        help="when tracing ends, write an SVG flame graph of the "
                             "stack-keyed tables to FILE.svg")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show the full verifier log on rejections")
    parser.add_argument("--no-cache", action="store_true",
                        help="compile the script afresh, without the compile cache "
                        "(~/.cache/kllvm)")
    _format_option(parser, "one object with a 'type' per record, table, warning and error")
    _strlen_option(parser)


def _format_option(parser: argparse.ArgumentParser, json_is: str) -> None:
    parser.add_argument("-f", "--format", choices=[f.value for f in Format],
                        default=Format.TEXT.value,
                        help=f"output as text, as newline-delimited JSON ({json_is}), or "
                        "folded: text, with print_hist of stack-keyed tables as folded stacks "
                        "(flamegraph.pl, inferno, speedscope)")


def _split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """Splits off `-- CMD ARGS`, the command to run and trace."""
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def _read_source(path: str) -> Source:
    if path == STDIN:
        data = sys.stdin.buffer.read() if sys.stdin is not None else b""
        return Source(STDIN_NAME, data.decode("utf-8", errors="surrogateescape"))
    try:
        return Source(path, Path(path).read_text(encoding="utf-8", errors="surrogateescape"))
    except OSError as e:
        hint = ""
        if isinstance(e, FileNotFoundError) and "/" not in path and "." not in path:
            # `kllvm lsit`: a mistyped command reads as a script name
            hint = f" (nor is it a command: {', '.join(COMMANDS)})"
        raise SystemExit(f"kllvm: error: cannot read '{path}': {e.strerror}{hint}") from None


def _run(source: Source, args: list[str], command: list[str],
         options: argparse.Namespace) -> int:
    """A built artifact runs as it is; a script is compiled first. Only then is the
    compiler (lark, llvmlite) imported: kllvm.runner never imports it."""
    from backend.artifact import Artifact, is_artifact
    from kllvm import runner

    if is_artifact(source.text):
        if getattr(options, "interp", False):
            raise SystemExit("kllvm: error: --interp runs a script, not a built artifact")
        return runner.run_artifact(source, args, command, options)
    tapset_path = _tapset_path(options)
    if getattr(options, "interp", False):
        from kllvm import interprun

        guest, generic = interprun.compile_interp(source, options.strlen, tapset_path)
        return runner.run_compiled(generic.compilation.source, generic.compilation.module,
                                   generic.manifest, generic.object, args, command, options,
                                   guest)
    entries = _open_cache(options)
    entry_key = None
    if entries is not None:
        entry_key = cache.key(source, options.strlen, tapset_path)
        cached = cache.load(entries, entry_key)
        if cached is not None:
            return runner.run_built(cached, args, command, options)
    from kllvm import compiler

    build = compiler.compile_script(source, options.strlen, tapset_path=tapset_path)
    # The compiled script's Source: with the text of the tapsets linked in.
    linked = build.compilation.source
    if entries is not None and entry_key is not None and build.object is not None:
        try:
            cache.store(entries, entry_key,
                        Artifact(linked, build.manifest, build.object, build.compilation.module))
        except OSError as e:  # the run goes on without
            _report(options).message("warning", "cannot write the compile cache entry in "
                                     f"{entries.folder}: {e.strerror}")
    return runner.run_compiled(linked, build.compilation.module, build.manifest, build.object,
                               args, command, options)


def _open_cache(options: argparse.Namespace) -> cache.Cache | None:
    """The compile cache, or None with --no-cache or when its folder is not safe to use."""
    if options.no_cache:
        return None
    try:
        return cache.open_cache()
    except cache.CacheUnsafe as e:
        _report(options).message("warning", f"compile cache not used: {e} (--no-cache says "
                                 "not to use it)")
        return None


def _report(options: argparse.Namespace) -> Records:
    """Where kllvm's own warnings go: stderr, as text or JSON lines (-f json)."""
    return Records(None, Format(getattr(options, "format", Format.TEXT)))


def main(argv: Sequence[str] | None = None) -> int:
    args, command = _split_command(list(sys.argv[1:] if argv is None else argv))
    if args and args[0] not in COMMANDS and args[0] not in TOP_LEVEL:
        args.insert(0, "run")
    parser = _parser()
    _complete(parser)
    options = parser.parse_args(args)
    # Errors from here on: text, or JSON lines under `-f json`.
    report = _report(options)
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
        if options.command == "list":
            from backend.listing import ListError
            from kllvm import listcmd

            try:
                return listcmd.run(options.pattern, options.verbose, sys.stdout, report.json)
            except ListError as e:
                report.message("error", str(e))
                return 1
        if options.command == "bench":
            from kllvm import bench

            try:
                result = bench.bench(_read_source(options.script), command, options.duration,
                                     options.strlen, _tapset_path(options))
            except KeyboardInterrupt:
                return 130
            bench.write(result, Format(options.format), sys.stdout)
            return 0
        if options.command == "dump":
            from kllvm import dumping

            sys.stdout.write(dumping.dump(_read_source(options.script), options.emit,
                                          options.strlen, _tapset_path(options)))
            return 0
        if options.command == "build":
            from kllvm import compiler

            compiler.build(_read_source(options.script), options.output, options.strlen,
                           _tapset_path(options))
            return 0
    except CompileError as e:
        if e.source is not None and e.diagnostics:
            for diagnostic in e.diagnostics:
                report.diagnostic(e.source, diagnostic)
        else:
            report.rendered_error(e.rendered)
        return 1
    except OutputError as e:
        report.message("error", str(e))
        return 1
    except InternalError as e:
        if report.json:
            report.message("error", f"internal compiler error, please report: {e}")
        else:
            sys.stderr.write(f"kllvm: internal compiler error, please report: {e}\n")
        return 1
    except SystemExit as e:
        # A clear one-line error ("kllvm: error: cannot read ...") raised on the way.
        if not isinstance(e.code, str):
            raise
        report.message("error", e.code.removeprefix("kllvm: error: "))
        return 1
    except BrokenPipeError:
        # Whoever read the output has gone (`kllvm run x | head`): stop quietly, as a
        # process killed by SIGPIPE would, once the session has detached its probes.
        # Python would otherwise complain when it flushes stdout again at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return SIGPIPE_STATUS
    except Exception as e:  # noqa: BLE001 - a compiler bug must not look like a crash
        report.message("error", f"internal error, please report: {type(e).__name__}: {e}")
        return 1
    parser.print_usage(sys.stderr)
    return 2
