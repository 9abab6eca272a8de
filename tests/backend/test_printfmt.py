"""backend.printfmt: an event's print fmt applied to field values (no kernel needed)."""

from __future__ import annotations

import pytest

from backend import printfmt

FIELDS: dict[str, int | bytes] = {"pid": 42, "neg": -1, "fd": 3, "state": 0x101,
                                  "comm": b"ls", "name": b"/bin/ls"}


def lookup(name: str, text: bool) -> int | bytes:
    del text
    if name not in FIELDS:
        raise printfmt.Unsupported(name)
    return FIELDS[name]


@pytest.mark.parametrize(("fmt", "out"), [
    ('"filename=%s pid=%d", __get_str(name), REC->pid', b"filename=/bin/ls pid=42"),
    ('"fd: 0x%08lx", ((unsigned long)(REC->fd))', b"fd: 0x00000003"),
    ('"%u %x %lu %llx %c%%", REC->neg, REC->neg, REC->neg, REC->pid, 65',
     b"4294967295 ffffffff 18446744073709551615 2a A%"),
    ('"%-4s|%5d|", REC->comm, REC->pid', b"ls  |   42|"),
    ('"%s", REC->pid > 1 ? "a" : "b"', None),  # '>' is not evaluated: the fallback's job
    ('"%s", REC->fd ? "yes" : "no"', b"yes"),
    ('"%d", (REC->pid + 8) * 2 - (1 << 2)', b"96"),
    ('"%s", __print_symbolic(REC->fd, { 1, "one" }, { 3, "three" })', b"three"),
    ('"%s", __print_flags(REC->state & 0xff, "|", { 1, "S" }, { 2, "D" })', b"S"),
    ('"%s", __print_flags(REC->state, "|", { 1, "S" })', b"S|0x100"),
    ('"%pS", REC->pid', None),
    ('"%d", REC->missing', None),
    ('"%d %d", REC->pid', None),
])
def test_render(fmt: str, out: bytes | None) -> None:
    if out is None:
        with pytest.raises(printfmt.Unsupported):
            printfmt.render(fmt, lookup)
    else:
        assert printfmt.render(fmt, lookup) == out
