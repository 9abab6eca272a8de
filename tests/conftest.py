"""Markers shared by the whole suite.

`needs_root`: the test loads BPF programs, reads tracefs or attaches probes, which only root
(CAP_BPF, CAP_PERFMON) may do. Such tests are skipped for other users who run pytest by hand;
the README's test command (scripts/test.sh) refuses to run at all without root, so a green
suite has always run them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

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


@pytest.fixture(scope="session", autouse=True)
def private_compile_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every `kllvm` the tests start caches into a folder of this session, not the user's
    ~/.cache: a run of the suite neither depends on nor leaves entries from another."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before
