"""The compile cache: the artifact of each script run, so that its next run starts like
an artifact (no parsing, no LLVM).

Where: `$XDG_CACHE_HOME/kllvm`, else `~/.cache/kllvm`. kllvm runs as root and runs what it
finds there, so the folder is trusted only when every folder on its path, from `/`, is a
real folder (no symbolic link is followed: each is opened with O_NOFOLLOW relative to the
one before), owned by root or by kllvm's user, and writable by no one else — except a
sticky folder such as /tmp, whose entries others cannot replace. Otherwise the cache is
not used, with a warning. Entries are opened the same way and must be regular files of
kllvm's user; each is a full artifact, checked whole like any other (a digest, typed
decoding, the object cross-checked), so a damaged entry is found, ignored and replaced.

The key is everything that decides the artifact: the script's name and text, the options
that change the compiled code (--strlen), the compiler itself (every file of its packages,
by path, size and modification time), and the kernel's events (the boot, the list of
events and of dynamic events, which fix what the probes expand to and the fields' layout).

Writes are atomic: a private temporary file in the folder, renamed over the entry.

Hand-written: the walk that checks the folder's path (no library does it for Python).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from backend.artifact import MAX_SIZE, Artifact, ArtifactError
from frontend.diagnostics import Source

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
    """The cache folder, created if missing, opened after checking every folder on the way.
    Raises CacheUnsafe."""
    path = folder_path() if path is None else path
    if not path.is_absolute():
        raise CacheUnsafe(f"{path}: not an absolute path")
    euid = os.geteuid()
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    walked = Path("/")
    try:
        _check_folder(fd, walked, euid)
        parts = path.parts[1:]
        for i, name in enumerate(parts):
            if name in (".", ".."):
                raise CacheUnsafe(f"{path}: '{name}' in the path")
            walked = walked / name
            last = i == len(parts) - 1
            # Only kllvm's own folders are made: ~/.cache and the kllvm folder in it.
            child = _open_folder(fd, name, walked, create=i >= len(parts) - 2)
            os.close(fd)
            fd = child
            _check_folder(fd, walked, euid, private=last)
    except BaseException:
        os.close(fd)
        raise
    return Cache(str(path), fd)


def _open_folder(parent: int, name: str, path: Path, *, create: bool) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
    try:
        return os.open(name, flags, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise CacheUnsafe(f"{path}: no such folder") from None
    except OSError as e:
        raise CacheUnsafe(f"{path}: {e.strerror} (a symbolic link is not followed)") from None
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass  # another kllvm made it meanwhile: it is checked like any other
    except OSError as e:
        raise CacheUnsafe(f"cannot create {path}: {e.strerror}") from None
    try:
        return os.open(name, flags, dir_fd=parent)
    except OSError as e:
        raise CacheUnsafe(f"{path}: {e.strerror}") from None


def _check_folder(fd: int, path: Path, euid: int, *, private: bool = False) -> None:
    info = os.fstat(fd)
    if info.st_uid not in (0, euid):
        raise CacheUnsafe(f"{path} belongs to user {info.st_uid}")
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if private and (writable_by_others or info.st_uid != euid):
        raise CacheUnsafe(f"{path} must belong to user {euid} and be writable by no one "
                          "else")
    if writable_by_others and not info.st_mode & stat.S_ISVTX:
        raise CacheUnsafe(f"{path} is writable by other users")


def key(source: Source, strlen: int) -> str:
    digest = hashlib.sha256()
    for part in (f"kllvm-cache {CACHE_FORMAT}", source.name, source.text, str(strlen),
                 _compiler_identity(), _kernel_identity()):
        data = part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "little") + data)
    return digest.hexdigest()


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
    """Writes the entry atomically; a failure is a warning, never the run's failure."""
    name = entry_key + _ENTRY_SUFFIX
    temporary = f".{name}.{os.getpid()}.{os.urandom(4).hex()}"
    try:
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600,
                     dir_fd=cache.dir_fd)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(artifact.dumps())
            os.rename(temporary, name, src_dir_fd=cache.dir_fd, dst_dir_fd=cache.dir_fd)
        except BaseException:
            os.unlink(temporary, dir_fd=cache.dir_fd)
            raise
    except OSError as e:
        warn(f"cannot write the compile cache entry in {cache.folder}: {e.strerror}")


def warn(message: str) -> None:
    sys.stderr.write(f"kllvm: warning: {message}\n")
