"""User-space values in the kernel's bytes: strings fit with their NUL, or are cut."""

from __future__ import annotations

import pytest

from backend import layout as lay


@pytest.mark.parametrize(("layout", "value", "cut"), [
    ("str", b"x" * 15, False),  # 15 bytes and the NUL fill 16
    ("str", b"x" * 16, True),
    ("opt:str", b"x" * 16, True),
    ("opt:str", None, False),
    ("int", 1 << 40, False),
])
def test_a_string_is_cut_when_its_nul_does_not_fit(layout: str, value: object,
                                                   cut: bool) -> None:
    assert lay.is_cut(layout, value, 16) is cut
    data = lay.encode(layout, value, 16)
    assert (lay.decode(layout, data, 16) != value) is cut
