"""What the kernel verifier's complexity limits mean for a script.

A probe body that the verifier gives up on is not wrong, only too much for it: it
follows every path through the program, loops iteration by iteration, and stops at
1,000,000 checked instructions or 8,192 pending branches. Its own words for that
("The sequence of 8193 jumps is too complex") say nothing of what to change.
"""

from __future__ import annotations

import re

LIMITS = [
    (re.compile(r"The sequence of \d+ jumps is too complex"),
     "the verifier follows each path of the program and gives up after 8192 pending "
     "branches; a loop whose iterations it cannot see repeat is followed iteration by "
     "iteration: shorten the loop, or split the probe body into several probes"),
    (re.compile(r"BPF program is too large\. Processed \d+ insn"),
     "the verifier gives up after following 1,000,000 instructions along all paths of the "
     "program: shorten loops, or split the probe body into several probes on the event"),
    (re.compile(r"program is too large \(\d+ insn\)|too many instructions"),
     "the probe compiles to more BPF instructions than the kernel loads (1,000,000): "
     "split the probe body into several probes on the event"),
    (re.compile(r"combined stack size of \d+ calls is \d+\. Too large"),
     "the program needs more than the kernel's 512 bytes of stack"),
]


def explain(reason: str) -> str | None:
    """A hint for a verifier rejection that comes from its limits, else None."""
    return next((text for pattern, text in LIMITS if pattern.search(reason)), None)
