"""The loader's handling of libbpf's error returns, with libbpf replaced by a fake."""

from __future__ import annotations

import ctypes as ct
import errno
from collections.abc import Iterator

import pytest

from backend import loader


class _FailingLibbpf:
    """libbpf as it answers when /sys/devices/system/cpu/possible cannot be read."""

    def libbpf_num_possible_cpus(self) -> int:
        ct.set_errno(errno.ENOENT)
        return -errno.ENOENT


@pytest.fixture
def failing_libbpf(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    loader.possible_cpus.cache_clear()
    monkeypatch.setattr(loader, "lib", _FailingLibbpf)
    yield
    loader.possible_cpus.cache_clear()


def test_possible_cpus_error_is_raised_not_returned_as_a_count(failing_libbpf: None) -> None:
    with pytest.raises(OSError, match="cannot count the possible CPUs") as raised:
        loader.possible_cpus()
    assert raised.value.errno == errno.ENOENT
