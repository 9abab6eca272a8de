"""Flags and numbers of the kernel's BPF ABI (linux/bpf.h, errno.h) that both the code
generator and the runtime use: kept apart from `helpers`, whose LLVM signatures need
llvmlite, so that running a built artifact does not import it."""

# Flags of the map helpers and of bpf_get_stackid (linux/bpf.h).
BPF_ANY = 0
BPF_NOEXIST = 1
BPF_EXIST = 2
BPF_F_SKIP_FIELD_MASK = 0xFF
BPF_F_USER_STACK = 1 << 8
BPF_F_FAST_STACK_CMP = 1 << 9
BPF_F_REUSE_STACKID = 1 << 10
BPF_F_CURRENT_CPU = 0xFFFFFFFF
BPF_F_MMAPABLE = 1 << 10  # a map flag: user space may mmap an array map
EEXIST = 17
ENOMEM = 12
