"""A command prefix that runs a command as root with tracefs out of reach: in a private
mount namespace, /sys/kernel/tracing is an empty tmpfs whose `available_events` is a
folder, so that any read of tracefs fails (and kllvm does not mount a tracefs there, as it
does on a fresh machine). Unlike running as user nobody, it works wherever the clone lives
(nobody may not be able to read it)."""

from __future__ import annotations

HIDDEN_TRACEFS = (
    "unshare", "--mount", "--propagation", "private", "sh", "-c",
    "mount -t tmpfs kllvm-test /sys/kernel/tracing"
    " && mkdir /sys/kernel/tracing/available_events && exec \"$@\"",
    "sh",
)
