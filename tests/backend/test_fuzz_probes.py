"""Generated probe scripts, well-formed and slightly malformed, compiled all the way to
a BPF object (against a fake tracefs): each gives an ELF object or a located
`file:line:col: error:` diagnostic, never another exception.

The scripts come from a seeded generator over the language's constructs that reach
probe bodies: tables and globals, arithmetic (`/` and `%` included), strings, print and
printf, if/while, functions, filters, argN, pid/tid/execname/probename. A malformed
case then breaks one thing: a mismatched type, an unknown field or name, an operator a
filter lacks, a string longer than --strlen, a deleted or truncated token.
"""

from __future__ import annotations

import functools
import random
import re
from dataclasses import dataclass, field

from fake_tracefs import FakeTracefs

from backend.providers.catalog import TracepointCatalog
from frontend.diagnostics import CompileError, Source
from kllvm.driver import compile_script

CASES = 500
STRLEN = 64


def _fmt(ident: int, fields: list[tuple[str, int, int, int]]) -> str:
    lines = [f"\tfield:{decl};\toffset:{off};\tsize:{size};\tsigned:{signed};"
             for decl, off, size, signed in fields]
    header = [("unsigned short common_type", 0, 2, 0), ("unsigned char common_flags", 2, 1, 0),
              ("unsigned char common_preempt_count", 3, 1, 0), ("int common_pid", 4, 4, 1)]
    head = [f"\tfield:{d};\toffset:{o};\tsize:{s};\tsigned:{g};" for d, o, s, g in header]
    return f"name: x\nID: {ident}\nformat:\n" + "\n".join(head) + "\n\n" + "\n".join(lines) \
        + '\n\nprint fmt: ""\n'


NR = ("int __syscall_nr", 8, 4, 1)
# Each event: its format, and its fields as (name, "int" or "str").
EVENTS: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {
    ("syscalls", "sys_enter_getpid"): (_fmt(1, [NR]), [("__syscall_nr", "int")]),
    ("syscalls", "sys_enter_close"): (
        _fmt(2, [NR, ("unsigned int fd", 16, 8, 0)]),
        [("__syscall_nr", "int"), ("fd", "int")]),
    ("syscalls", "sys_exit_read"): (
        _fmt(3, [NR, ("long ret", 16, 8, 1)]), [("__syscall_nr", "int"), ("ret", "int")]),
    ("sched", "sched_switch"): (
        _fmt(4, [("char prev_comm[16]", 8, 16, 0), ("pid_t prev_pid", 24, 4, 1),
                 ("char next_comm[16]", 28, 16, 0), ("pid_t next_pid", 44, 4, 1)]),
        [("prev_comm", "str"), ("prev_pid", "int"), ("next_comm", "str"),
         ("next_pid", "int")]),
    ("sched", "sched_process_exec"): (
        _fmt(5, [("__data_loc char[] filename", 8, 4, 0), ("pid_t pid", 12, 4, 1)]),
        [("filename", "loc"), ("pid", "int")]),
}
CATALOG_FORMATS = {k: v[0] for k, v in EVENTS.items()}


@dataclass
class Gen:
    """One script in the making: the top-level names it declared, by type."""

    rng: random.Random
    ints: list[str] = field(default_factory=lambda: ["n"])
    strs: list[str] = field(default_factory=lambda: ["s"])
    int_tables: list[str] = field(default_factory=lambda: ["t"])
    str_tables: list[str] = field(default_factory=lambda: ["names"])
    functions: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)  # int argN of the probe being written
    str_args: list[str] = field(default_factory=list)
    locals: list[str] = field(default_factory=list)
    depth: int = 0
    argstr: bool = False  # the probe has a tracepoint record to print

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    # -- expressions

    def int_expr(self, depth: int = 0) -> str:
        r = self.rng.random()
        if depth > 2 or r < 0.3:
            return self.pick([str(self.rng.randint(0, 300)), self.pick(self.ints), "pid",
                              "tid", "cpu", "uid", "gettimeofday_us()", *self.args,
                              *self.locals,
                              f"{self.pick(self.int_tables)}[{self.rng.randint(0, 9)}]"])
        if r < 0.75:
            op = self.pick(["+", "-", "*", "/", "%"])
            right = self.int_expr(depth + 1) if op in "+-*" else \
                self.pick([str(self.rng.randint(1, 9)), self.int_expr(depth + 1)])
            return f"({self.int_expr(depth + 1)} {op} {right})"
        if r < 0.85 and self.functions:
            return f"{self.pick(self.functions)}({self.int_expr(depth + 1)})"
        return f"(- {self.int_expr(depth + 1)})"  # `--` would start a comment

    def str_expr(self) -> str:
        return self.pick(["execname", "probename", '"lit"', '"a b c"', self.pick(self.strs),
                          f"{self.pick(self.str_tables)}[{self.int_expr(2)}]",
                          *self.str_args])

    def cond(self, depth: int = 0) -> str:
        r = self.rng.random()
        if depth < 2 and r < 0.2:
            return f"{self.cond(depth + 1)} {self.pick(['&&', '||'])} {self.cond(depth + 1)}"
        if r < 0.35:
            return f"{self.str_expr()} {self.pick(['==', '!='])} {self.str_expr()}"
        if r < 0.45:
            return f"!({self.cond(depth + 1)})"
        if r < 0.55:
            return f"{self.pick(self.int_tables)}[{self.int_expr(2)}] == nil"
        op = self.pick(["==", "!=", "<", "<=", ">", ">="])
        return f"{self.int_expr(1)} {op} {self.int_expr(1)}"

    # -- statements

    def stmt(self) -> str:
        r = self.rng.random()
        if self.depth < 2 and r < 0.12:
            self.depth += 1
            body = self.block()
            other = f" else {self.block()}" if self.rng.random() < 0.5 else ""
            self.depth -= 1
            return f"if ({self.cond()}) {body}{other}"
        if self.depth < 2 and r < 0.16:
            self.depth += 1
            # Bounded by a local: the verifier cannot see the end of a loop on
            # globals (tests/kernel/test_fuzz_probes_verifier.py).
            w = f"w{self.rng.randrange(1000)}"
            loop = f"var {w} = 0; while ({w} < {self.rng.randint(0, 4)}) {{ {w} = {w} + 1; " \
                   f"{self.stmt()} }}"
            self.depth -= 1
            return loop
        if r < 0.3:
            return f"{self.pick(self.ints)} += {self.int_expr()}"
        if r < 0.45:
            return f"{self.pick(self.int_tables)}[{self.key()}] += {self.int_expr()}"
        if r < 0.5:
            return f"{self.pick(self.int_tables)}[{self.key()}] = {self.int_expr()}"
        if r < 0.52:
            return f"counts[{self.str_expr()}] += {self.int_expr(1)}"
        if r < 0.58:
            return f"{self.pick(self.str_tables)}[{self.int_expr(2)}] = {self.str_expr()}"
        if r < 0.63:
            return f"{self.pick(self.strs)} = {self.str_expr()}"
        if r < 0.73:
            values = [self.pick([self.int_expr(1), self.str_expr()])
                      for _ in range(self.rng.randint(0, 3))]
            if self.argstr and self.rng.random() < 0.3:
                values.append("argstr")
            return f"print({', '.join(values)})"
        if r < 0.82:
            return f'printf("%d %s %5d|%-3s|\\n", {self.int_expr(1)}, {self.str_expr()}, ' \
                   f"{self.int_expr(1)}, {self.str_expr()})"
        if r < 0.9 and self.depth == 0:  # a local of the whole body
            name = f"v{len(self.locals)}"
            line = f"var {name} = {self.int_expr()}"
            self.locals.append(name)
            return line
        if r < 0.92:
            return "exit()"
        return f"{self.pick(self.str_tables)}[{self.key()}] = nil"

    def key(self) -> str:
        return self.int_expr(2)

    def block(self) -> str:
        return "{ " + "; ".join(self.stmt() for _ in range(self.rng.randint(1, 3))) + " }"

    # -- probes

    def filter(self, fields: list[tuple[str, str]]) -> str:
        if self.rng.random() < 0.5:
            return ""
        parts = []
        for _ in range(self.rng.randint(1, 2)):
            name, kind = self.rng.choice([*fields, ("common_pid", "int")])
            if kind == "str":
                parts.append(f'{name} {self.pick(["==", "!="])} "{self.pick(["sh", "ba*"])}"')
            elif kind == "int":
                op = self.pick(["==", "!=", "<", "<=", ">", ">="])
                parts.append(f"{name} {op} {self.rng.randint(-3, 5000)}")
        return f" /{' && '.join(parts)}/" if parts else ""

    def probe(self) -> str:
        self.locals = []
        self.argstr = False
        if self.rng.random() < 0.15:
            self.args, self.str_args = [], []
            head = f"profile-{self.rng.randint(1, 50)}ms"
        else:
            events = self.rng.sample(sorted(EVENTS), self.rng.randint(1, 2))
            kinds = [[k for _, k in EVENTS[e][1]] for e in events]
            # argN of the first event, when every event agrees on its type.
            first = kinds[0]
            agreed = [(f"arg{i}", k) for i, k in enumerate(first)
                      if all(len(o) > i and o[i] == k for o in kinds)]
            self.args = [a for a, k in agreed if k == "int"]
            self.str_args = [a for a, k in agreed if k == "str"]
            self.argstr = True
            fields = [f for f in EVENTS[events[0]][1]
                      if all(f in EVENTS[e][1] for e in events)]
            head = "trace " + ", ".join(f"{s}:{e}" for s, e in events) + self.filter(fields)
        body = "\n".join("  " + self.stmt() for _ in range(self.rng.randint(1, 8)))
        return f"{head} {{\n{body}\n}}"

    def script(self) -> str:
        # Tables written in the main chunk: one only read in probes still has a type.
        parts = ["var n = 0", 'var s = ""', "var t = {}", "var names = {}", "t[0] = 0",
                 'names[0] = "init"', "var counts = {}"]
        if self.rng.random() < 0.4:
            parts.append(f"var big = table.new({self.rng.randint(1, 5000)})\nbig[1] = 1")
            self.int_tables.append("big")
        if self.rng.random() < 0.4:
            parts.append("function inc(x) { return x + 1 }")
            self.functions.append("inc")
        parts += [self.probe() for _ in range(self.rng.randint(1, 3))]
        if self.rng.random() < 0.5:
            parts.append("trace_end { print(n, s, len(t)) }")
        return "\n".join(parts) + "\n"


# Statements that are fine in the main chunk but not all in a probe body, or that test
# the edges of what a probe can do.
ODD = ["print(t)", 's = execname .. "x"', "for (k, v in pairs(t)) { n += v }",
       "n += rec(3)", "print(table.new(3))", "n = 1 == 1", "printf(s)", "print(arg9)",
       "repeat n += 1 until (n > 3)", "for (i = 1, 10) { n += i }", "print(1 / 0, 7 % 0)",
       "print(9223372036854775807 + 1, (-9223372036854775807 - 1) / -1)", "delete(t)",
       "var f = function (a) { return a }", "print(stack())", 'printf("%d %s\\n", "x")',
       "t[execname] += 1", "names[1] += 1", "n = nil", "print(nil, true)",
       "while (n < 0) { n += 1 }"]
RECURSIVE = "function rec(x) { if (x > 0) { return rec(x - 1) } return 0 }\n"

_TOKEN = re.compile(r"[A-Za-z_0-9]+|\"(?:\\.|[^\"\\\n])*\"|\S")


def malform(rng: random.Random, text: str) -> str:
    """Breaks one thing in a well-formed script."""
    tokens = list(_TOKEN.finditer(text))
    match rng.randrange(13):
        case 0:  # a string key in an int-keyed table, or the reverse
            return text.replace("t[", 't["k"] = 1; t[', 1)
        case 1:
            return text.replace("{\n", "{\n  n = execname\n", 1)
        case 2:
            return text.replace("trace ", "trace nosuch:event, ", 1)
        case 3:
            return text.replace("{\n", "{\n  print(arg9, nosuchvar)\n", 1)
        case 4:
            return text.replace("{\n", '{\n  print("' + "x" * STRLEN + '")\n', 1)
        case 5:
            return text.replace("{\n", "{\n  print(arg7, common_flags)\n", 1)
        case 6:
            return text.replace("{\n", "{\n  print(1 / 0, t[nil])\n", 1)
        case 8:
            return text.replace("trace sched:sched_process_exec", "trace sched:sched_process_exec"
                                " /filename == \"x\" || common_flags > 1/", 1)
        case 9:
            return text.replace("trace sched:sched_switch", "trace sched:sched_switch "
                                "/prev_comm < 3 && next_comm == 7/", 1)
        case 10 | 11:
            return RECURSIVE + text.replace("{\n", "{\n  " + rng.choice(ODD) + "\n", 1)
        case 7:
            m = rng.choice(tokens)
            return text[:m.start()] + text[m.end():]
        case _:
            return text[:rng.randrange(1, len(text))]


LOCATED = re.compile(r"fz\.kp:\d+:\d+: (error|warning): ")


@dataclass(frozen=True)
class Outcome:
    seed: int
    text: str
    problem: str | None  # None: an object, or a located diagnostic
    object: bytes | None


def outcome(seed: int, text: str) -> Outcome:
    catalog = TracepointCatalog(FakeTracefs(CATALOG_FORMATS))
    try:
        build = compile_script(Source("fz.kp", text), STRLEN, catalog=catalog)
    except CompileError as e:
        problem = None if LOCATED.match(e.rendered) else f"unlocated: {e.rendered[:300]}"
        return Outcome(seed, text, problem, None)
    except Exception as e:  # noqa: BLE001 - exactly what the test looks for
        return Outcome(seed, text, f"{type(e).__name__}: {e}"[:300], None)
    if build.object is not None and build.object[:4] != b"\x7fELF":
        return Outcome(seed, text, "not an ELF object", None)
    return Outcome(seed, text, None, build.object)  # None: truncated to no probe


def case(seed: int) -> str:
    """Script `seed`: odd seeds are malformed."""
    rng = random.Random(seed)
    text = Gen(rng).script()
    return malform(rng, text) if seed % 2 else text


@functools.cache
def outcomes() -> tuple[Outcome, ...]:
    return tuple(outcome(seed, case(seed)) for seed in range(CASES))


def test_generated_probe_scripts_compile_or_report_a_location() -> None:
    failures = [o for o in outcomes() if o.problem is not None]
    report = "\n\n".join(f"seed {o.seed}: {o.problem}\n{o.text}" for o in failures[:5])
    assert not failures, f"{len(failures)} of {CASES} cases failed:\n{report}"


def test_the_generator_makes_objects_and_errors() -> None:
    """Both outcomes are common: the fuzz test exercises codegen, not only the checks."""
    objects = sum(o.object is not None for o in outcomes())
    assert CASES // 4 <= objects <= CASES * 3 // 4
