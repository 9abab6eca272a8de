"""A tracefs without a kernel, for compiling probes in tests: formats by (system, event)."""

from __future__ import annotations


class FakeTracefs:
    """`backend.tracefs.Host` over given format texts; `dynamic` events are the ones
    made at run time (kprobe, uprobe, synthetic events)."""

    def __init__(self, formats: dict[tuple[str, str], str],
                 dynamic: frozenset[tuple[str, str]] = frozenset()) -> None:
        self.formats = formats
        self.dynamic = dynamic

    def available_events(self) -> list[tuple[str, str]]:
        return list(self.formats)

    def read_format(self, system: str, event: str) -> str:
        return self.formats[(system, event)]

    def dynamic_events(self) -> set[tuple[str, str]]:
        return set(self.dynamic)
