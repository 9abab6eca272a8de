"""Markers shared by the whole suite.

`needs_root`: the test loads BPF programs, reads tracefs or attaches probes, which only root
(CAP_BPF, CAP_PERFMON) may do. Such tests are skipped for other users who run pytest by hand;
the README's test command (scripts/test.sh) refuses to run at all without root, so a green
suite has always run them.
"""

from __future__ import annotations

import os

import pytest

NEEDS_ROOT = pytest.mark.skip(reason="needs root: loads BPF programs and attaches probes")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_root: loads BPF programs, reads tracefs or attaches probes")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    del config
    if os.geteuid() == 0:
        return
    for item in items:
        if item.get_closest_marker("needs_root") is not None:
            item.add_marker(NEEDS_ROOT)
