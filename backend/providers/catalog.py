"""The host's tracepoints, as the providers expand patterns against them: read from
tracefs (or a fake `tracefs.Host` in tests) lazily and once."""

from __future__ import annotations

from backend import syscalls, tracefs
from backend.events import ProviderError
from backend.tracefs import EventFormat
from frontend.eventdef import TracepointSpec

# A probe matching at least this many syscall tracepoints of one kind is served from
# raw_syscalls (see backend.providers.raw_syscalls). Below it, per-syscall tracepoints are
# cheaper: a raw_syscalls program runs on every system call of the machine.
RAW_SYSCALLS_MIN = 8


class TracepointCatalog:
    """Reads tracefs lazily and once: the event list and each needed format."""

    def __init__(self, host: tracefs.Host | None = None) -> None:
        self._host = host or tracefs.TracefsHost()
        self._events: list[tuple[str, str]] | None = None
        self._set: set[tuple[str, str]] | None = None
        self._formats: dict[tuple[str, str], EventFormat] = {}
        self._dynamic: set[tuple[str, str]] | None = None
        self.raw_syscalls_min = RAW_SYSCALLS_MIN
        self.syscall_numbers = syscalls.syscall_numbers()

    def expand(self, spec: TracepointSpec) -> list[tuple[str, str]]:
        if self._events is None:
            try:
                self._events = tracefs.available_events(self._host)
            except (OSError, tracefs.TracefsError) as e:
                raise ProviderError(spec.span, (
                    f"cannot read the list of tracepoints ({e}); tracing needs root "
                    "privileges: run kllvm as root")) from None
        exact = (spec.system_glob, spec.event_glob)
        if not any(c in "".join(exact) for c in "*?[\\"):  # no glob: skip the scan
            return [exact] if exact in self._event_set() else []
        return sorted((s, e) for s, e in self._events
                      if tracefs.strglobmatch(s, spec.system_glob)
                      and tracefs.strglobmatch(e, spec.event_glob))

    def _event_set(self) -> set[tuple[str, str]]:
        if self._set is None:
            self._set = set(self._events or ())
        return self._set

    def has(self, system: str, event: str) -> bool:
        return self._events is not None and (system, event) in self._events

    def is_dynamic(self, system: str, event: str) -> bool:
        if self._dynamic is None:
            self._dynamic = self._host.dynamic_events()
        return (system, event) in self._dynamic

    def format(self, system: str, event: str) -> EventFormat:
        key = (system, event)
        if key not in self._formats:
            self._formats[key] = tracefs.event_format(system, event, self._host)
        return self._formats[key]
