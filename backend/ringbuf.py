"""Read a BPF ring buffer with libbpf's `ring_buffer__*`, one callback per record."""

from __future__ import annotations

import ctypes as ct
from collections.abc import Callable

from backend.loader import RINGBUF_SAMPLE_FN, Map, lib

Callback = Callable[[bytes], None]


class RingBuffer:
    """Calls `callback(record_bytes)` for each record, from `poll`/`consume`.

    An exception raised by the callback stops the current poll and is
    re-raised from it (libbpf stops consuming on a negative return).
    """

    def __init__(self, ring_map: Map, callback: Callback) -> None:
        self._callback = callback
        self._error: BaseException | None = None
        # Referenced for as long as libbpf may call it.
        self._sample = RINGBUF_SAMPLE_FN(self._on_sample)
        self._handle: int | None = lib().ring_buffer__new(ring_map.fd, self._sample, None, None)
        if not self._handle:
            raise OSError(ct.get_errno(), f"ring_buffer__new on map {ring_map.name}")

    def _on_sample(self, _ctx: int, data: int, size: int) -> int:
        try:
            self._callback(ct.string_at(data, size))
        except BaseException as exc:  # exceptions must not unwind into C
            self._error = exc
            return -1
        return 0

    def _check(self, rc: int, what: str) -> int:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if rc < 0 and rc != -4:  # -EINTR: a signal arrived, not an error
            raise OSError(-rc, f"ring_buffer__{what}")
        return max(rc, 0)

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise ValueError("ring buffer is closed")
        return self._handle

    def poll(self, timeout_ms: int) -> int:
        """Wait up to `timeout_ms` for records; returns how many were handled."""
        return self._check(lib().ring_buffer__poll(self.handle, timeout_ms), "poll")

    def consume(self) -> int:
        """Handle every available record without waiting."""
        return self._check(lib().ring_buffer__consume(self.handle), "consume")

    def close(self) -> None:
        if self._handle is not None:
            lib().ring_buffer__free(self._handle)
            self._handle = None

    def __enter__(self) -> RingBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
