"""The `-- CMD` a run traces. It is forked before the probes attach and held until they
are; it never outlives kllvm (a parent-death signal, set before it waits), and when
tracing stops first kllvm ends it: SIGTERM, then SIGKILL after a grace period."""

from __future__ import annotations

import ctypes as ct
import errno
import os
import select
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TERM_GRACE_S = 1.5  # how long a command may take to go after SIGTERM before SIGKILL
NOT_FOUND = 127  # the exit statuses of shells for a command that cannot start
NOT_EXECUTABLE = 126
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_WAIT_STEP_S = 0.01
_RELEASE = b"x"
_READY = b"r"
# The signals that stop a run (backend.runtime handles them). The held command gets their
# defaults back before it waits: a Python handler there would run kllvm's code in the child.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# Python ignores these for itself; an ignored signal stays ignored across exec, and the
# command must get SIGPIPE as usual (`subprocess` restores them the same way).
_PYTHON_IGNORES = (signal.SIGPIPE, signal.SIGXFSZ)


class CommandError(Exception):
    """The command cannot start; `status` is what a shell would exit with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def check_runnable(name: str) -> None:
    """Fails early, before anything is loaded, on a command that cannot start."""
    if shutil.which(name) is not None:
        return
    if "/" not in name:
        raise CommandError(f"cannot run '{name}': command not found", NOT_FOUND)
    if not os.path.exists(name):
        raise CommandError(f"cannot run '{name}': no such file", NOT_FOUND)
    why = "is a directory" if os.path.isdir(name) else "permission denied"
    raise CommandError(f"cannot run '{name}': {why}", NOT_EXECUTABLE)


def exit_status(wait_status: int) -> int:
    """A wait status as a shell reports it: the exit code, or 128+N after signal N."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


@dataclass
class TracedCommand:
    pid: int
    _release_fd: int | None
    # The command's exit status (as `exit_status` gives it) once it ended by itself;
    # None while it runs or when kllvm ended it.
    status: int | None = None
    _done: bool = False

    @classmethod
    def start(cls, argv: list[str]) -> TracedCommand:
        """Forks the command, held on a pipe until `release`. Returns once the child is
        tied to kllvm's life, so that none of its set-up calls happen while the probes
        attach (they trace it: tests count its system calls)."""
        prctl = ct.CDLL(None, use_errno=True).prctl  # looked up before the fork
        # The parent-death signal comes when the thread that forked ends: this is the
        # main thread, which lives as long as kllvm.
        parent = os.getpid()
        release_r, release_w = os.pipe()  # both pipes close on exec
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(release_w)
                os.close(ready_r)
                _hold_then_exec(prctl, parent, ready_w, release_r, argv)
            finally:
                os._exit(NOT_EXECUTABLE)  # never back into kllvm's code
        os.close(release_r)
        os.close(ready_w)
        ready = os.read(ready_r, 1)
        os.close(ready_r)
        command = cls(pid, release_w)
        if ready != _READY:
            command.end(threading.Event())
            raise CommandError(f"cannot run '{argv[0]}': cannot tie it to kllvm's life "
                               "(prctl PR_SET_PDEATHSIG failed)", NOT_EXECUTABLE)
        return command

    @property
    def held(self) -> bool:
        return self._release_fd is not None

    def release(self) -> None:
        if self._release_fd is not None:
            os.write(self._release_fd, _RELEASE)
            self._close_pipe()

    def ended(self) -> bool:
        """True once the command has exited (its status is then recorded)."""
        if self._done:
            return True
        pid, wait_status = os.waitpid(self.pid, os.WNOHANG)
        if pid == 0:
            return False
        self._done, self.status = True, exit_status(wait_status)
        return True

    def end(self, hurry: threading.Event) -> None:
        """Ends the command if it is still there. A held one is killed at once: it must
        not run untraced. A running one gets SIGTERM, then SIGKILL after TERM_GRACE_S or
        as soon as `hurry` is set (a second Ctrl-C)."""
        if self._done:
            return
        if self.held:
            self._kill_and_reap(signal.SIGKILL)
            return
        os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE_S
        while time.monotonic() < deadline and not hurry.is_set():
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid != 0:
                self._done = True
                return
            time.sleep(_WAIT_STEP_S)
        self._kill_and_reap(signal.SIGKILL)

    def _kill_and_reap(self, signum: int) -> None:
        os.kill(self.pid, signum)
        os.waitpid(self.pid, 0)
        self._done = True
        self._close_pipe()

    def _close_pipe(self) -> None:
        if self._release_fd is not None:
            os.close(self._release_fd)
            self._release_fd = None


class TracedProcess:
    """The process `-p PID` traces, through a pidfd: it cannot be confused with a later
    process of the same id, and it becomes readable when the process exits, which ends
    the run as the exit of a `-- CMD` does."""

    def __init__(self, pid: int) -> None:
        """CommandError (status 1) if there is no such process."""
        self.pid = pid
        try:
            self._fd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            raise CommandError(f"-p {pid}: no such process", 1) from None

    def ended(self) -> bool:
        if self._fd is None:
            return True
        readable, _, _ = select.select([self._fd], [], [], 0)
        return bool(readable)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _hold_then_exec(prctl: Callable[..., int], parent: int, ready: int, release: int,
                    argv: list[str]) -> None:
    """In the child: die with kllvm, say so, wait for the release, become the command.
    After `ready` only the read and the exec itself are traced."""
    for signum in (*STOP_SIGNALS, *_PYTHON_IGNORES):
        signal.signal(signum, signal.SIG_DFL)
    if prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # no way to tie it to kllvm: better not to run it at all
    if os.getppid() != parent:
        return  # kllvm died before the signal was set
    os.write(ready, _READY)
    if os.read(release, 1) != _RELEASE:
        return  # the pipe closed unreleased: kllvm gave up or died while attaching
    try:
        os.execvp(argv[0], argv)
    except OSError as e:
        sys.stderr.write(f"kllvm: error: cannot run '{argv[0]}': {e.strerror}\n")
        sys.stderr.flush()
        os._exit(NOT_FOUND if e.errno == errno.ENOENT else NOT_EXECUTABLE)
