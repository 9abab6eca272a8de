"""Files kllvm may trust while it runs as root: found without following links, in folders
no other user can change.

kllvm runs the code it reads (tapsets) and the artifacts it caches with root's privileges,
so a file is trusted only when every folder on its path, from `/`, is a real folder (each
opened with O_NOFOLLOW relative to the one before: no symbolic link is followed, and no
folder can be swapped between the check and the use), owned by root or by kllvm's user, and
writable by no one else — except a sticky folder such as /tmp, whose entries others can
neither replace nor rename — and the file itself is a regular file of root or kllvm's user
that no one else may write.

Hand-written: no library does this walk for Python.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


class Untrusted(Exception):
    """The path is not one only root and kllvm's user control; the message says why."""


def open_folder(path: Path, *, create: int = 0, private: bool = False) -> int:
    """A file descriptor of the folder `path`, checked all the way from `/`. The last
    `create` folders of the path are made (mode 0700) when missing; a `private` folder must
    belong to kllvm's user itself. Raises Untrusted."""
    if not path.is_absolute():
        raise Untrusted(f"{path}: not an absolute path")
    euid = os.geteuid()
    fd = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    walked = Path("/")
    try:
        _check_folder(fd, walked, euid)
        parts = path.parts[1:]
        for i, name in enumerate(parts):
            if name in (".", ".."):
                raise Untrusted(f"{path}: '{name}' in the path")
            walked = walked / name
            child = _open_child(fd, name, walked, create=i >= len(parts) - create)
            os.close(fd)
            fd = child
            _check_folder(fd, walked, euid, private=private and i == len(parts) - 1)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_file(path: Path, max_bytes: int) -> bytes:
    """The contents of the file `path`, after checking it and its folders. Raises
    Untrusted (also when it is larger than `max_bytes`)."""
    folder = open_folder(path.parent)
    try:
        try:
            fd = os.open(path.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK,
                         dir_fd=folder)
        except OSError as e:
            raise Untrusted(f"{path}: {e.strerror} (a symbolic link is not followed)") from None
    finally:
        os.close(folder)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise Untrusted(f"{path} is not a regular file")
        if info.st_uid not in (0, os.geteuid()):
            raise Untrusted(f"{path} belongs to user {info.st_uid}")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Untrusted(f"{path} is writable by other users")
        if info.st_size > max_bytes:
            raise Untrusted(f"{path} is larger than {max_bytes >> 20} MiB")
        return f.read(max_bytes + 1)


def _open_child(parent: int, name: str, path: Path, *, create: bool) -> int:
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except FileNotFoundError:
        if not create:
            raise Untrusted(f"{path}: no such folder") from None
    except OSError as e:
        raise Untrusted(f"{path}: {e.strerror} (a symbolic link is not followed)") from None
    try:
        os.mkdir(name, 0o700, dir_fd=parent)
    except FileExistsError:
        pass  # made meanwhile by another process: it is checked like any other
    except OSError as e:
        raise Untrusted(f"cannot create {path}: {e.strerror}") from None
    try:
        return os.open(name, _FOLDER_FLAGS, dir_fd=parent)
    except OSError as e:
        raise Untrusted(f"{path}: {e.strerror}") from None


def _check_folder(fd: int, path: Path, euid: int, *, private: bool = False) -> None:
    info = os.fstat(fd)
    if info.st_uid not in (0, euid):
        raise Untrusted(f"{path} belongs to user {info.st_uid}")
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if private and (writable_by_others or info.st_uid != euid):
        raise Untrusted(f"{path} must belong to user {euid} and be writable by no one else")
    if writable_by_others and not info.st_mode & stat.S_ISVTX:
        raise Untrusted(f"{path} is writable by other users")
