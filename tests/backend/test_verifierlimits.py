"""Hints for the verifier's complexity limits; other rejections get none."""

from backend.verifierlimits import explain


def test_limits_are_explained() -> None:
    assert "8192 pending branches" in str(explain("The sequence of 8193 jumps is too complex."))
    assert "1,000,000 instructions" in str(
        explain("BPF program is too large. Processed 1000001 insn"))


def test_other_rejections_get_no_hint() -> None:
    assert explain("R1 invalid mem access 'map_value_or_null'") is None
