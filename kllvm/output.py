"""Where a script's output goes (standard output or `-o FILE`), with failures to write
it (a full disk, /dev/full) reported as such rather than as a crash."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer


class OutputError(Exception):
    """The script's output cannot be written; the message is for the user."""


class _Guarded(io.RawIOBase):
    """The raw stream under the output's buffer (so only flushes pay for the check):
    write errors become OutputError, except a reader that went away, which stays a
    BrokenPipeError and ends a run quietly (see kllvm.cli)."""

    def __init__(self, target: io.FileIO | BinaryIO, label: str, owned: bool) -> None:
        super().__init__()
        self.target = target
        self.label = label
        self.owned = owned  # closed with this stream (not so standard output)

    def writable(self) -> bool:
        return True

    def write(self, data: ReadableBuffer) -> int:
        # The buffer above hands over memoryviews of its own storage, not only bytes.
        try:
            written = self.target.write(data)
            if not isinstance(self.target, io.FileIO):
                self.target.flush()  # a replaced sys.stdout: its buffer is not ours
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(f"cannot write to {self.label}: {e.strerror}") from None
        return memoryview(data).nbytes if written is None else written

    def close(self) -> None:
        if self.owned and not self.closed:
            self.target.close()
        super().close()


def _stdout() -> _Guarded:
    sys.stdout.flush()  # anything printed before goes first
    try:
        target: io.FileIO | BinaryIO = io.FileIO(sys.stdout.fileno(), "wb", closefd=False)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: no descriptor
        target = sys.stdout.buffer  # replaced in process, as the tests of samples do
    return _Guarded(target, "standard output", owned=False)


def open_file(path: str, what: str) -> io.FileIO:
    """Creates or truncates `path` for writing; a clear error if that is impossible."""
    try:
        return io.FileIO(path, "wb")
    except OSError as e:
        raise OutputError(f"cannot write {what} '{path}': {e.strerror}") from None


@contextlib.contextmanager
def script_output(path: str | None) -> Iterator[BinaryIO]:
    """The script's output, flushed at the end; after a failure, what can still be
    written is, and the rest is dropped (never flushed again at exit)."""
    if path is None:
        raw = _stdout()
    else:
        raw = _Guarded(open_file(path, "output file"), f"'{path}'", owned=True)
    out = io.BufferedWriter(raw)
    try:
        yield out
        out.flush()  # a failure here is reported
    finally:
        with contextlib.suppress(OSError, OutputError):
            out.flush()
        raw.close()  # the buffer, closed over a closed stream, is not flushed again
