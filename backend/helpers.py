"""BPF helper functions: their kernel ids and LLVM signatures.

Only this module and `bpfbuilder` know helper ids. Ids come from the kernel's
`__BPF_FUNC_MAPPER` list in `linux/bpf.h` and are ABI, so they never change.
Pointers are `i8*` because the kernel's prototypes take `void *`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from llvmlite import ir

I8 = ir.IntType(8)
I32 = ir.IntType(32)
I64 = ir.IntType(64)
VOIDP = I8.as_pointer()


@dataclass(frozen=True)
class HelperSig:
    """A BPF helper: its kernel id and its LLVM signature."""

    id: int
    ret: ir.Type
    args: tuple[ir.Type, ...]

    def function_type(self) -> ir.FunctionType:
        return ir.FunctionType(self.ret, self.args)


class Helper(Enum):
    """Each member's value is its signature; `Helper.X.value.id` is the kernel id."""

    MAP_LOOKUP_ELEM = HelperSig(1, VOIDP, (VOIDP, VOIDP))
    MAP_UPDATE_ELEM = HelperSig(2, I64, (VOIDP, VOIDP, VOIDP, I64))
    MAP_DELETE_ELEM = HelperSig(3, I64, (VOIDP, VOIDP))
    KTIME_GET_NS = HelperSig(5, I64, ())
    GET_PRANDOM_U32 = HelperSig(7, I64, ())
    GET_SMP_PROCESSOR_ID = HelperSig(8, I64, ())
    GET_CURRENT_PID_TGID = HelperSig(14, I64, ())
    GET_CURRENT_UID_GID = HelperSig(15, I64, ())
    GET_CURRENT_COMM = HelperSig(16, I64, (VOIDP, I64))
    PERF_EVENT_OUTPUT = HelperSig(25, I64, (VOIDP, VOIDP, I64, VOIDP, I64))
    GET_STACKID = HelperSig(27, I64, (VOIDP, VOIDP, I64))
    GET_CURRENT_TASK = HelperSig(35, I64, ())
    SEND_SIGNAL = HelperSig(109, I64, (I64,))
    PROBE_READ_USER = HelperSig(112, I64, (VOIDP, I64, VOIDP))
    PROBE_READ_KERNEL = HelperSig(113, I64, (VOIDP, I64, VOIDP))
    PROBE_READ_USER_STR = HelperSig(114, I64, (VOIDP, I64, VOIDP))
    PROBE_READ_KERNEL_STR = HelperSig(115, I64, (VOIDP, I64, VOIDP))
    KTIME_GET_BOOT_NS = HelperSig(125, I64, ())
    RINGBUF_OUTPUT = HelperSig(130, I64, (VOIDP, VOIDP, I64, I64))
    RINGBUF_RESERVE = HelperSig(131, VOIDP, (VOIDP, I64, I64))
    RINGBUF_SUBMIT = HelperSig(132, ir.VoidType(), (VOIDP, I64))
    RINGBUF_DISCARD = HelperSig(133, ir.VoidType(), (VOIDP, I64))
    GET_FUNC_IP = HelperSig(173, I64, (VOIDP,))
    GET_ATTACH_COOKIE = HelperSig(174, I64, (VOIDP,))
    STRNCMP = HelperSig(182, I64, (VOIDP, I64, VOIDP))
