"""bcc's C library (libbcc, through Debian's python3-bpfcc), which resolves uprobe symbols
and attaches perf events: loaded on first use, with a clear error when it is missing."""

from __future__ import annotations

import errno
import importlib
from types import ModuleType

INSTALL_HINT = "install Debian's python3-bpfcc (apt-get install python3-bpfcc)"


def libbcc() -> ModuleType:
    """`bcc.libbcc` (its `lib` is libbcc.so); OSError saying which package to install
    when the Python module or the library is missing."""
    try:
        module = importlib.import_module("bcc.libbcc")
    except ImportError:
        raise OSError(errno.ENOENT, f"bcc's Python module is missing: {INSTALL_HINT}") from None
    except OSError as e:  # the module is there, libbcc.so is not (ctypes.CDLL failed)
        raise OSError(errno.ENOENT, f"libbcc cannot be loaded ({e}): {INSTALL_HINT}") from None
    return module
