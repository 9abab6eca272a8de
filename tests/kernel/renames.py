"""Renames its thread N times (prctl PR_SET_NAME, each a task:task_rename event) and exits:
a traced `-- CMD`."""

import ctypes
import sys

PR_SET_NAME = 15
libc = ctypes.CDLL(None)
for i in range(int(sys.argv[1])):
    libc.prctl(PR_SET_NAME, f"renamed{i}".encode(), 0, 0, 0)
