"""Integer literals of any length, read without tripping over Python's int() digit limit."""

from __future__ import annotations

# More than 22 significant digits in base 8 or above is at least 8**22 == 2**66: past every
# 64-bit range, so such a literal needs no exact value (and int() refuses over 4300 digits).
_SIGNIFICANT_DIGITS = 22
ABOVE_64_BITS = 2**66


def bounded_int(digits: str, base: int) -> int:
    """int(digits, base) for base 8, 10 or 16, or ABOVE_64_BITS if the value is at least that."""
    significant = digits.lstrip("0")
    if len(significant) > _SIGNIFICANT_DIGITS:
        return ABOVE_64_BITS
    return int(significant or "0", base)
