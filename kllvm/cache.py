"""The compile cache: the artifact of each script run, so that its next run starts like
an artifact (no parsing, no LLVM).

Where: `$XDG_CACHE_HOME/kllvm`, else `~/.cache/kllvm`. kllvm runs as root and runs what it
finds there, so the folder is used only when frontend/trusted.py trusts it (every folder on
its path a real folder of root or kllvm's user that no one else may write, no link
followed) and it is kllvm's user's own. Otherwise the cache is not used, with a warning.
Entries are opened without following links and must be regular files of kllvm's user;
each is a full artifact, checked whole like any other (a digest, typed decoding, the object
cross-checked), so a damaged entry is found, ignored and replaced.

The key is everything that decides the artifact: the script's name and text, the options
that change the compiled code (--strlen), the tapset path and every tapset on it (by path,
size and modification time), the compiler itself (every file of its packages,
by path, size and modification time), and the kernel's events (the boot, the list of
events and of dynamic events, which fix what the probes expand to and the fields' layout).

Writes are atomic: a private temporary file in the folder, renamed over the entry.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from backend.artifact import MAX_SIZE, Artifact, ArtifactError
from frontend import trusted
from frontend.diagnostics import Source
from frontend.tapsetpath import SearchPath

# Part of the key: a change of the entry's form invalidates every entry.
CACHE_FORMAT = 1
_PACKAGES = ("frontend", "ir", "backend", "kllvm")
_ROOT = Path(__file__).resolve().parents[1]
# The kernel's facts the expansion of probes and the layout of records depend on.
_KERNEL_FILES = ("/proc/sys/kernel/random/boot_id", "/proc/sys/kernel/osrelease",
                 "/sys/kernel/tracing/available_events", "/sys/kernel/tracing/dynamic_events")
_ENTRY_SUFFIX = ".kpa"


class CacheUnsafe(Exception):
    """The cache folder is not one only kllvm's user controls."""


@dataclass(frozen=True)
class Cache:
    """An open, checked cache folder."""

    folder: str
    dir_fd: int

    def close(self) -> None:
        os.close(self.dir_fd)


def folder_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG rule: a relative path is invalid and is ignored.
    root = Path(base) if base.startswith("/") else Path.home() / ".cache"
    return root / "kllvm"


def open_cache(path: Path | None = None) -> Cache:
    """The cache folder, created if missing (with ~/.cache), opened after checking every
    folder on the way (frontend/trusted.py). Raises CacheUnsafe."""
    path = folder_path() if path is None else path
    try:
        return Cache(str(path), trusted.open_folder(path, create=2, private=True))
    except trusted.Untrusted as e:
        raise CacheUnsafe(str(e)) from None


def key(source: Source, strlen: int, tapset_path: SearchPath | None = None) -> str:
    digest = hashlib.sha256()
    for part in (f"kllvm-cache {CACHE_FORMAT}", source.name, source.text, str(strlen),
                 _tapsets_identity(tapset_path or SearchPath()), _compiler_identity(),
                 _kernel_identity()):
        data = part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


def _tapsets_identity(tapset_path: SearchPath) -> str:
    """Every tapset on the path, used or not (which are used is known only after parsing),
    by path, size and modification time, and the path itself."""
    lines = [f"{folder} {origin}" for folder, origin in tapset_path.folders]
    for path in tapset_path.files():
        try:
            info = os.stat(path)
        except OSError as e:
            lines.append(f"{path} unreadable {e.errno}")
            continue
        lines.append(f"{path} {info.st_size} {info.st_mtime_ns}")
    return "\n".join(lines)


def _compiler_identity() -> str:
    """Every file of kllvm's packages by path, size and modification time: a changed
    compiler (an upgrade, an edit of a checkout) never reuses an entry of the old one."""
    lines = []
    for package in _PACKAGES:
        for folder, subfolders, files in os.walk(_ROOT / package):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__")
            for name in sorted(files):
                if name.endswith((".py", ".json", ".lark")):
                    info = os.stat(os.path.join(folder, name))
                    lines.append(f"{folder}/{name} {info.st_size} {info.st_mtime_ns}")
    return "\n".join(lines)


def _kernel_identity() -> str:
    parts = []
    for name in _KERNEL_FILES:
        try:
            with open(name, "rb") as f:
                parts.append(hashlib.sha256(f.read()).hexdigest())
        except OSError as e:
            parts.append(f"unreadable {e.errno}")
    return " ".join(parts)


def load(cache: Cache, entry_key: str) -> Artifact | None:
    """The cached artifact, or None when there is none or it is damaged or foreign (it is
    then rebuilt and replaced)."""
    name = entry_key + _ENTRY_SUFFIX
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=cache.dir_fd)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            return None
        data = f.read(MAX_SIZE + 1)  # a larger one is refused by the check below
    try:
        return Artifact.loads(data)
    except ArtifactError:
        return None


def store(cache: Cache, entry_key: str, artifact: Artifact) -> None:
    """Writes the entry atomically (a private temporary file, renamed over the entry).
    Raises OSError, with nothing left behind."""
    name = entry_key + _ENTRY_SUFFIX
    temporary = f".{name}.{os.getpid()}.{os.urandom(4).hex()}"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                 dir_fd=cache.dir_fd)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(artifact.dumps())
        os.rename(temporary, name, src_dir_fd=cache.dir_fd, dst_dir_fd=cache.dir_fd)
    except BaseException:
        os.unlink(temporary, dir_fd=cache.dir_fd)
        raise
