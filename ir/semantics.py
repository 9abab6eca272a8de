"""ktap's run-time rules shared by the interpreter and the BPF lowering: messages, limits,
capacities.

Both `ir.interp` and `backend.lower` raise the same errors with the same words and count
against the same budgets; they take them from here so that neither depends on the other.
"""

from __future__ import annotations

from ir.values import DEFAULT_TABLE_CAPACITY

MAX_CALL_DEPTH = 200
LOOP_LIMIT = 100_000

ARITH_NON_NUMBER = "Cannot make arith operation"
DIVIDE_BY_ZERO = "divide 0 arith operation"
MOD_BY_ZERO = "mod 0 arith operation"
COMPARE_NON_NUMBER = "compare with non-number"
NEGATE_NON_NUMBER = "use '-' operator on non-number"
CONCAT_NON_STRING = "cannot concat non-string"
TABLE_NIL_INDEX = "table nil index"
ADD_NON_NUMBER_VALUE = "use '+=' operator on non-number value"
ADD_NON_NUMBER = "use '+=' on non-number"
FOR_NON_NUMBER = "'for' init/limit/step value must be a number"
CALL_NON_FUNCTION = "attempt to call nil function"
STACK_OVERFLOW = "stack overflow"
LOOP_OVER_BUDGET = f"loop execute count exceed max limit({LOOP_LIMIT})"
INVALID_EVENT_CONTEXT = "invalid event context"


def bad_argument(index: int) -> str:
    """A built-in given a value of the wrong type as its argument `index` (from 1)."""
    return f"wrong type of argument {index}"


def table_capacity(narr: int, nrec: int) -> int:
    """`table.new(narr, nrec)` holds narr + nrec entries; (0, 0) is the default (§7)."""
    capacity = max(narr, 0) + max(nrec, 0)
    return capacity or DEFAULT_TABLE_CAPACITY
