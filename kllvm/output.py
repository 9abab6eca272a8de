"""Where a script's output goes (standard output or `-o FILE`), with failures to write
it (a full disk, /dev/full) reported as such rather than as a crash."""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Iterator
from typing import BinaryIO


class OutputError(Exception):
    """The script's output cannot be written; the message is for the user."""


class ScriptOutput(io.BufferedWriter):
    """A buffered writer whose write errors become OutputError. A reader that went away
    stays a BrokenPipeError: that ends a run quietly (see kllvm.cli)."""

    def __init__(self, raw: io.RawIOBase, label: str) -> None:
        super().__init__(raw)
        self.label = label

    def write(self, data: bytes) -> int:  # type: ignore[override]
        try:
            return super().write(data)
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(f"cannot write to {self.label}: {e.strerror}") from None

    def flush(self) -> None:
        try:
            super().flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            raise OutputError(f"cannot write to {self.label}: {e.strerror}") from None


class _Forward(io.RawIOBase):
    """Standard output when it is not a file descriptor (replaced in process, as the
    tests of samples do); closing this leaves sys.stdout open."""

    def __init__(self, target: BinaryIO) -> None:
        super().__init__()
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.target.write(data)
        self.target.flush()
        return len(data)


def _stdout() -> io.RawIOBase:
    sys.stdout.flush()  # anything printed before goes first
    try:
        return io.FileIO(sys.stdout.fileno(), "wb", closefd=False)
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation: no descriptor
        return _Forward(sys.stdout.buffer)


def open_file(path: str, what: str) -> io.FileIO:
    """Creates or truncates `path` for writing; a clear error if that is impossible."""
    try:
        return io.FileIO(path, "wb")
    except OSError as e:
        raise OutputError(f"cannot write {what} '{path}': {e.strerror}") from None


@contextlib.contextmanager
def script_output(path: str | None) -> Iterator[ScriptOutput]:
    """The script's output, flushed at the end; after a failure, what can still be
    written is, and the rest is dropped (never flushed again at exit)."""
    if path is None:
        out = ScriptOutput(_stdout(), "standard output")
    else:
        out = ScriptOutput(open_file(path, "output file"), f"'{path}'")
    try:
        yield out
        out.flush()  # a failure here is reported
    finally:
        with contextlib.suppress(OSError, OutputError):
            out.flush()
        out.raw.close()
