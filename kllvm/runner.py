"""Runs a compiled script: the main chunk in the interpreter, then (with probes) the live
BPF session, then trace_end. Renders run-time errors like compile errors."""

from __future__ import annotations

import argparse
import sys
from typing import BinaryIO

from frontend.sexpr import dump as dump_ast
from ir.interp import Interpreter, RuntimeEnv
from ir.printer import print_module
from ir.values import ExitRequest, KtapRuntimeError
from kllvm import driver
from kllvm.diagnostics import Diagnostic, Source, render
from kllvm.typesdump import dump_types


def report_runtime_error(source: Source, error: KtapRuntimeError) -> None:
    if error.span is not None:
        sys.stderr.write(render(source, Diagnostic(error.span, error.message)))
    else:
        sys.stderr.write(f"{source.name}: error: {error.message}\n")


def run_script(source: Source, args: list[str], command: list[str],
               options: argparse.Namespace) -> int:
    compilation = driver.compile_source(source)
    out: BinaryIO = (open(options.output, "wb") if options.output  # noqa: SIM115
                     else sys.stdout.buffer)
    try:
        env = RuntimeEnv(out=out, script=source.name, argv=args)
        interpreter = Interpreter(compilation.module, env)
        try:
            interpreter.run_main()
        except ExitRequest:
            pass
        except KtapRuntimeError as e:
            out.flush()
            report_runtime_error(source, e)
            if e.fatal:
                return 1
        if env.probes:
            out.flush()
            first = env.probes[0][0]
            sys.stderr.write(render(source, Diagnostic(
                first.span, "probes need the BPF backend, which is not available yet")))
            return 1
        if env.trace_end is not None:
            try:
                interpreter.call(env.trace_end, [])
            except ExitRequest:
                pass
            except KtapRuntimeError as e:
                out.flush()
                report_runtime_error(source, e)
                if e.fatal:
                    return 1
        return 0
    finally:
        out.flush()
        if options.output:
            out.close()


def dump(source: Source, stage: str) -> str:
    if stage == "ast":
        return dump_ast(driver.parse_source(source)) + "\n"
    compilation = driver.compile_source(source)
    if stage == "types":
        return dump_types(compilation)
    if stage == "ir":
        return print_module(compilation.module)
    raise SystemExit(f"kllvm: error: --emit={stage} needs the BPF backend (not available yet)")


def build(source: Source, output: str) -> None:
    del source, output
    raise SystemExit("kllvm: error: 'build' needs the BPF backend (not available yet)")
