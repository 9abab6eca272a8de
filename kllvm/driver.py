"""The compiler's pipeline: `PASSES`, the named passes from a script to a BPF object and
its manifest, run in order over one `State`; a phase that recorded errors stops it there.

parse → resolve → lower (to IR) → infer (types, without events) → expand (the probes'
events) → retype (argN from the events, same module) → check (probe-context rules) →
place → verify (the IR) → plan (programs, attach points, argstr formats, print and
fault ids) → lower-bpf (LLVM IR) → codegen
(the object). `kllvm dump --emit=STAGE` runs the passes up to that stage's (`DUMP_AFTER`).
"""

from __future__ import annotations

import dataclasses
import enum
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from backend import codegen
from backend.events import (
    ProbeEvents,
    ProviderError,
    arg_indices,
    context_names,
    kernel_reach,
    make_arg_types,
)
from backend.layout import DEFAULT_STRLEN
from backend.lower import LowerError, ModuleLowering
from backend.manifest import Manifest
from backend.plan import Plan, plan
from backend.providers.catalog import TracepointCatalog
from backend.providers.registry import probe_events
from frontend import ast
from frontend.diagnostics import (
    CompileError,
    Diagnostic,
    DiagnosticSink,
    InternalError,
    Source,
)
from frontend.parser import parse
from frontend.scope import Resolution, resolve
from frontend.tapsetpath import SearchPath
from frontend.tapsets import link
from ir import ops
from ir.checks import check_module
from ir.infer import ArgTypes, Solution, apply, infer
from ir.lower_ast import lower
from ir.placement import place
from ir.printcheck import check_prints
from ir.verify import verify_module
from kllvm import BUNDLED_TAPSETS


@dataclass
class Compilation:
    """What `compile_source` returns: the AST, its names resolved, and the checked, typed IR."""

    source: Source
    chunk: ast.Chunk
    resolution: Resolution
    module: ops.Module
    solution: Solution


@dataclass
class Build:
    """A compiled script: the typed IR, and the manifest and BPF object for the runtime."""

    compilation: Compilation
    manifest: Manifest
    lowering: ModuleLowering | None  # None when no probe runs in the kernel
    object: bytes | None


@dataclass(frozen=True)
class Front:
    """A parsed, name-resolved script (what lowering reads, and changes neither)."""

    chunk: ast.Chunk
    resolution: Resolution


def no_event_types(function: str, index: int) -> None:
    del function, index


def default_tapset_path() -> SearchPath:
    """The tapset path with no -I and no KLLVM_TAPSET_PATH: the bundled tapsets."""
    return SearchPath(((BUNDLED_TAPSETS, "bundled with kllvm"),))


@dataclass
class State:
    """What the passes have made so far. Options first, then each pass's product, set by
    that pass (None before it runs)."""

    source: Source
    strlen: int = DEFAULT_STRLEN
    catalog: TracepointCatalog | None = None
    # Expand every kernel probe (run, build), or only those whose types depend on their
    # events (dump --emit=ir|types: no tracefs, no root, for the others).
    every_probe: bool = True
    # argN types given by the caller instead of from expanded events (tests).
    given_arg_types: ArgTypes | None = None
    null_checks: bool = True
    # Where the tapsets the script uses are looked for (-I, KLLVM_TAPSET_PATH, bundled).
    tapset_path: SearchPath = field(default_factory=default_tapset_path)
    chunk: ast.Chunk | None = None
    resolution: Resolution | None = None
    module: ops.Module | None = None
    solution: Solution | None = None
    events: dict[str, ProbeEvents] = field(default_factory=dict)
    plan: Plan | None = None
    lowering: ModuleLowering | None = None
    object: bytes | None = None

    def sink(self) -> DiagnosticSink:
        return DiagnosticSink(self.source)

    @property
    def typed(self) -> ops.Module:
        assert self.module is not None, "the IR pass has not run"
        return self.module

    def compilation(self) -> Compilation:
        assert self.chunk is not None and self.resolution is not None
        assert self.solution is not None
        return Compilation(self.source, self.chunk, self.resolution, self.typed,
                           self.solution)

    def build(self) -> Build:
        manifest = self.lowering.manifest if self.lowering else Manifest(self.strlen)
        return Build(self.compilation(), manifest, self.lowering, self.object)


def _gate(sink: DiagnosticSink) -> None:
    if sink.has_errors:
        raise CompileError.of(sink.source, sink.diagnostics)


def _parse(state: State) -> None:
    sink = state.sink()
    state.chunk = parse(state.source, sink)
    _gate(sink)


def _link(state: State) -> None:
    assert state.chunk is not None
    sink = state.sink()
    linked = link(state.chunk, state.source, sink, state.tapset_path)
    # From here on the script's Source carries the tapsets' text, for every diagnostic.
    state.source = sink.source = dataclasses.replace(state.source, tapsets=tuple(
        sorted((path, tapset.text) for path, tapset in linked.tapsets.items())))
    state.chunk = linked.chunk
    _gate(sink)


def _resolve(state: State) -> None:
    assert state.chunk is not None
    sink = state.sink()
    state.resolution = resolve(state.chunk, sink)
    _gate(sink)


def _lower(state: State) -> None:
    assert state.chunk is not None and state.resolution is not None
    sink = state.sink()
    state.module = lower(state.chunk, state.resolution, sink)
    _gate(sink)


def _infer(state: State) -> None:
    """Types without the events (or with the caller's argN types): enough for the
    providers, which read the probes' call targets from the IR."""
    state.solution = infer(state.typed, state.given_arg_types or no_event_types)
    apply(state.typed, state.solution)


def kernel_probes(module: ops.Module) -> list[ops.ProbeDecl]:
    return [p for p in module.probes if p.kind.runs_in_kernel]


def reads_args(module: ops.Module, probe: ops.ProbeDecl) -> bool:
    """Whether the probe's body, or a function it calls, reads argN: only then do the
    types of the IR depend on the events the probe expands to."""
    return bool(arg_indices(context_names(module, kernel_reach(module, probe.function))))


def _expand(state: State) -> None:
    if state.given_arg_types is not None:
        return
    module = state.typed
    probes = [p for p in kernel_probes(module) if state.every_probe or reads_args(module, p)]
    if not probes:
        return
    state.catalog = state.catalog or TracepointCatalog()
    try:
        state.events = {p.function: probe_events(module, p, state.catalog) for p in probes}
    except ProviderError as e:
        raise e.compile_error(state.source) from None


def _retype(state: State) -> None:
    """Inference again, on the same module, when some probe reads argN."""
    if any(found.arg_types for found in state.events.values()):
        state.solution = infer(state.typed, make_arg_types(state.typed, state.events))
        apply(state.typed, state.solution)


def _check(state: State) -> None:
    assert state.solution is not None
    sink = state.sink()
    check_module(state.typed, state.solution, sink)
    check_prints(state.typed, sink)
    _gate(sink)


def _place(state: State) -> None:
    place(state.typed)


def _verify(state: State) -> None:
    problems = verify_module(state.typed)
    if problems:
        raise InternalError("IR verification failed:\n" + "\n".join(problems))


def _plan(state: State) -> None:
    """The programs, their attach points and probename table, planned by the providers;
    the event formats argstr needs, read here (lowering reads no tracefs)."""
    if state.typed.probes:
        state.plan = plan(state.typed, state.events.values(), state.catalog)


def _lower_bpf(state: State) -> None:
    """The plan lowered to LLVM IR. Scripts whose only probes are `tick-N` get a module
    too (without programs): the live runtime runs their ticks, with the banner, -d and
    signals of any session."""
    if state.plan is None:
        return
    try:
        state.lowering = ModuleLowering(state.typed, state.source.name, state.source.text,
                                        state.strlen, state.null_checks,
                                        dict(state.source.tapsets))
        state.lowering.lower_programs(state.plan)
    except LowerError as e:
        raise CompileError.of(state.source, [Diagnostic(e.span, e.message)]) from None


def _codegen(state: State) -> None:
    if state.lowering is not None:
        state.object = codegen.compile_object(state.lowering.bpf)


@dataclass(frozen=True)
class Pass:
    """One step of the pipeline; it raises CompileError when the script has errors."""

    name: str
    run: Callable[[State], None]


PASSES: tuple[Pass, ...] = (
    Pass("parse", _parse),
    Pass("link", _link),
    Pass("resolve", _resolve),
    Pass("lower", _lower),
    Pass("infer", _infer),
    Pass("expand", _expand),
    Pass("retype", _retype),
    Pass("check", _check),
    Pass("place", _place),
    Pass("verify", _verify),
    Pass("plan", _plan),
    Pass("lower-bpf", _lower_bpf),
    Pass("codegen", _codegen),
)


class Stage(enum.Enum):
    """What `kllvm dump --emit` prints."""

    AST = "ast"
    TYPES = "types"
    IR = "ir"
    LLVM = "llvm"
    ASM = "asm"


# The pass after which each stage's product is complete (asm: the LLVM module, which
# codegen turns into assembly instead of an object).
DUMP_AFTER = {Stage.AST: "parse", Stage.TYPES: "verify", Stage.IR: "verify",
              Stage.LLVM: "lower-bpf", Stage.ASM: "lower-bpf"}


def run(state: State, until: str = PASSES[-1].name) -> State:
    """Runs the passes in order up to and including `until`."""
    if until not in {p.name for p in PASSES}:
        raise ValueError(f"no pass named {until!r}")
    with _no_cycle_collection():
        for step in PASSES:
            step.run(state)
            if step.name == until:
                break
    return state


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Compiling builds a large graph of objects that all stay alive, and next to no cyclic
    garbage (a 10,000-line script: 6 objects). The cycle collector's full passes rescan the
    whole graph, so with it on a 10,000-line script took ~1.9x longer per line than a
    1,000-line one; without it, the same per line."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- the entry points other modules and the tests use


def parse_source(source: Source) -> ast.Chunk:
    chunk = run(State(source), "parse").chunk
    assert chunk is not None
    return chunk


def front(source: Source) -> Front:
    state = run(State(source), "resolve")
    assert state.chunk is not None and state.resolution is not None
    return Front(state.chunk, state.resolution)


def compile_source(source: Source, arg_types: ArgTypes = no_event_types) -> Compilation:
    """Source → AST → names → IR → types → checks → placement, with the given argN
    types (no event is expanded). Raises CompileError."""
    return run(State(source, given_arg_types=arg_types), "verify").compilation()


def compile_typed(source: Source, catalog: TracepointCatalog | None = None,
                  every_probe: bool = True, tapset_path: SearchPath | None = None,
                  ) -> tuple[Compilation, dict[str, ProbeEvents]]:
    """The checked, typed IR, with argN typed from the events the probes attach to, and
    those events by probe function. With `every_probe` False only the probes whose
    types depend on their events are expanded."""
    state = run(State(source, catalog=catalog, every_probe=every_probe,
                      tapset_path=tapset_path or default_tapset_path()), "verify")
    return state.compilation(), state.events


def compile_script(source: Source, strlen: int = DEFAULT_STRLEN,
                   catalog: TracepointCatalog | None = None, null_checks: bool = True,
                   tapset_path: SearchPath | None = None) -> Build:
    """Raises CompileError for everything the user can fix, verifier rejections aside."""
    state = State(source, strlen=strlen, catalog=catalog, null_checks=null_checks,
                  tapset_path=tapset_path or default_tapset_path())
    return run(state).build()
