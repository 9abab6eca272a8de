"""Load BPF ELF objects with libbpf (through ctypes), attach programs, reach maps.

libbpf does the real work: BTF maps, global-data maps, relocations, func and
line info, links. This module adds the Python side: captured libbpf logs
(a failed load raises `LoadError` carrying the whole verifier log), map access
by name, and live global variables through an mmap of their section's map.

The ctypes prototypes are transcribed from libbpf 1.1's headers (Debian ships
no Python binding for libbpf). Every handle is an opaque pointer; errors
follow libbpf 1.x: a NULL pointer or a negative int, with errno set.
"""

from __future__ import annotations

import contextlib
import ctypes as ct
import errno
import functools
import mmap
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass

# ---------------------------------------------------------------------------
# libbpf declarations

c_void_p = ct.c_void_p
c_char_p = ct.c_char_p
c_int = ct.c_int
c_uint = ct.c_uint
c_size_t = ct.c_size_t

# int (*libbpf_print_fn_t)(enum libbpf_print_level, const char *fmt, va_list ap);
# va_list decays to a pointer in a parameter list on x86-64.
PRINT_FN = ct.CFUNCTYPE(c_int, c_int, c_void_p, c_void_p)

# int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size);
RINGBUF_SAMPLE_FN = ct.CFUNCTYPE(c_int, c_void_p, c_void_p, c_size_t)

LIBBPF_WARN, LIBBPF_INFO, LIBBPF_DEBUG = 0, 1, 2
BTF_KIND_VAR = 14
BTF_KIND_DATASEC = 15


class OpenOpts(ct.Structure):
    """The leading fields of `struct bpf_object_open_opts`; libbpf accepts a
    shorter struct because `sz` says how much of it the caller knows."""

    _fields_ = [("sz", c_size_t), ("object_name", c_char_p)]


class UprobeOpts(ct.Structure):
    """`struct bpf_uprobe_opts` (libbpf 1.1): the cookie is read by bpf_get_attach_cookie
    in the program; `func_name` stays NULL (kllvm resolves the offset itself)."""

    _fields_ = [("sz", c_size_t), ("ref_ctr_offset", c_size_t), ("bpf_cookie", ct.c_uint64),
                ("retprobe", ct.c_bool), ("func_name", c_char_p)]


class TracepointOpts(ct.Structure):
    """`struct bpf_tracepoint_opts` (libbpf 1.1): the cookie is read by
    bpf_get_attach_cookie in the program."""

    _fields_ = [("sz", c_size_t), ("bpf_cookie", ct.c_uint64)]


class RawTracepointAttr(ct.Structure):
    """The BPF_RAW_TRACEPOINT_OPEN member of the kernel's `union bpf_attr`, with the
    cookie that Linux 6.10 added. libbpf 1.1 (Debian 12) cannot pass that cookie: its
    `bpf_raw_tracepoint_open_opts` came in a later release, so kllvm makes this one
    bpf(2) call itself."""

    _fields_ = [("name", ct.c_uint64), ("prog_fd", ct.c_uint32), ("_pad", ct.c_uint32),
                ("cookie", ct.c_uint64)]


BPF_RAW_TRACEPOINT_OPEN = 17  # enum bpf_cmd
BPF_LINK_CREATE = 28  # enum bpf_cmd
BPF_TRACE_UPROBE_MULTI = 48  # enum bpf_attach_type (Linux 6.6)
BPF_F_UPROBE_MULTI_RETURN = 1


class UprobeMultiAttr(ct.Structure):
    """The BPF_LINK_CREATE member of `union bpf_attr` for a uprobe_multi link (Linux
    6.6): one link attaches a program to many offsets of one binary, each with its
    cookie, and detaching it waits for the kernel once, not once per offset. libbpf 1.1
    has no call for it."""

    _fields_ = [("prog_fd", ct.c_uint32), ("target_fd", ct.c_uint32),
                ("attach_type", ct.c_uint32), ("link_flags", ct.c_uint32),
                ("path", ct.c_uint64), ("offsets", ct.c_uint64),
                ("ref_ctr_offsets", ct.c_uint64), ("cookies", ct.c_uint64),
                ("cnt", ct.c_uint32), ("flags", ct.c_uint32), ("pid", ct.c_uint32),
                ("_pad", ct.c_uint32)]
SYS_BPF = {"x86_64": 321, "aarch64": 280}


class BTFType(ct.Structure):
    _fields_ = [("name_off", ct.c_uint32), ("info", ct.c_uint32), ("size", ct.c_uint32)]


class BTFVarSecinfo(ct.Structure):
    _fields_ = [("type", ct.c_uint32), ("offset", ct.c_uint32), ("size", ct.c_uint32)]


_PROTOTYPES: dict[str, tuple[object, list[object]]] = {
    "libbpf_set_print": (c_void_p, [PRINT_FN]),
    "libbpf_num_possible_cpus": (c_int, []),
    "bpf_object__open_mem": (c_void_p, [c_void_p, c_size_t, ct.POINTER(OpenOpts)]),
    "bpf_object__load": (c_int, [c_void_p]),
    "bpf_object__close": (None, [c_void_p]),
    "bpf_object__btf": (c_void_p, [c_void_p]),
    "bpf_object__find_program_by_name": (c_void_p, [c_void_p, c_char_p]),
    "bpf_object__next_program": (c_void_p, [c_void_p, c_void_p]),
    "bpf_object__find_map_by_name": (c_void_p, [c_void_p, c_char_p]),
    "bpf_object__next_map": (c_void_p, [c_void_p, c_void_p]),
    "bpf_program__name": (c_char_p, [c_void_p]),
    "bpf_program__section_name": (c_char_p, [c_void_p]),
    "bpf_program__fd": (c_int, [c_void_p]),
    "bpf_program__attach": (c_void_p, [c_void_p]),
    "bpf_program__attach_tracepoint": (c_void_p, [c_void_p, c_char_p, c_char_p]),
    "bpf_program__attach_tracepoint_opts": (c_void_p, [c_void_p, c_char_p, c_char_p,
                                                       ct.POINTER(TracepointOpts)]),
    "bpf_program__attach_raw_tracepoint": (c_void_p, [c_void_p, c_char_p]),
    # (prog, pid_t pid, const char *binary_path, size_t func_offset, opts)
    "bpf_program__attach_uprobe_opts": (c_void_p, [c_void_p, c_int, c_char_p, c_size_t,
                                                   ct.POINTER(UprobeOpts)]),
    "bpf_program__attach_perf_event": (c_void_p, [c_void_p, c_int]),
    "bpf_link__destroy": (c_int, [c_void_p]),
    "bpf_map__name": (c_char_p, [c_void_p]),
    "bpf_map__fd": (c_int, [c_void_p]),
    "bpf_map__type": (c_int, [c_void_p]),
    "bpf_map__key_size": (ct.c_uint32, [c_void_p]),
    "bpf_map__value_size": (ct.c_uint32, [c_void_p]),
    "bpf_map__max_entries": (ct.c_uint32, [c_void_p]),
    "bpf_map__map_flags": (ct.c_uint32, [c_void_p]),
    "bpf_map__set_max_entries": (c_int, [c_void_p, ct.c_uint32]),
    "bpf_program__set_expected_attach_type": (c_int, [c_void_p, c_int]),
    "bpf_map__set_initial_value": (c_int, [c_void_p, c_void_p, c_size_t]),
    "bpf_map__initial_value": (c_void_p, [c_void_p, ct.POINTER(c_size_t)]),
    "bpf_map_lookup_elem": (c_int, [c_int, c_void_p, c_void_p]),
    "bpf_map_update_elem": (c_int, [c_int, c_void_p, c_void_p, ct.c_uint64]),
    "bpf_map_delete_elem": (c_int, [c_int, c_void_p]),
    "bpf_map_get_next_key": (c_int, [c_int, c_void_p, c_void_p]),
    # (fd, in_batch, out_batch, keys, values, __u32 *count, const opts *)
    "bpf_map_lookup_batch": (c_int, [c_int, c_void_p, c_void_p, c_void_p, c_void_p,
                                     ct.POINTER(ct.c_uint32), c_void_p]),
    "btf__find_by_name_kind": (ct.c_int32, [c_void_p, c_char_p, ct.c_uint32]),
    "btf__type_by_id": (ct.POINTER(BTFType), [c_void_p, ct.c_uint32]),
    "btf__name_by_offset": (c_char_p, [c_void_p, ct.c_uint32]),
    "ring_buffer__new": (c_void_p, [c_int, RINGBUF_SAMPLE_FN, c_void_p, c_void_p]),
    "ring_buffer__poll": (c_int, [c_void_p, c_int]),
    "ring_buffer__consume": (c_int, [c_void_p]),
    "ring_buffer__free": (None, [c_void_p]),
}


@functools.cache
def lib() -> ct.CDLL:
    """libbpf with every function kllvm calls declared (others stay undeclared)."""
    so = ct.CDLL("libbpf.so.1", use_errno=True)
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(so, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return so


@functools.cache
def libc() -> ct.CDLL:
    so = ct.CDLL("libc.so.6", use_errno=True)
    so.vsnprintf.restype = c_int
    so.vsnprintf.argtypes = [c_void_p, c_size_t, c_void_p, c_void_p]
    so.syscall.restype = ct.c_long
    return so


# ---------------------------------------------------------------------------
# libbpf's log

_VA_LIST_BYTES = 32  # >= sizeof(va_list): 24 on x86-64, 32 on aarch64


def _vformat(fmt: int, ap: int) -> str:
    """printf-format one libbpf message whose arguments are in a va_list.

    A va_list can be consumed only once. On these ABIs va_copy is a plain copy
    of the struct, so copying its bytes lets vsnprintf measure, then format.
    """
    copy = (ct.c_char * _VA_LIST_BYTES)()
    ct.memmove(copy, ap, _VA_LIST_BYTES)
    size = libc().vsnprintf(None, 0, fmt, copy) + 1
    buf = ct.create_string_buffer(size)
    libc().vsnprintf(buf, size, fmt, ap)
    return buf.value.decode(errors="replace")


@dataclass(frozen=True)
class LibbpfMessage:
    """One message from libbpf's print hook, captured to explain a failed open or load."""

    level: int  # LIBBPF_WARN, LIBBPF_INFO or LIBBPF_DEBUG
    text: str


class _PrintRouter:
    """libbpf has one process-wide print hook; this routes its messages to the
    innermost active capture, or to standard error when nobody captures (not through the
    logging module: importing it costs ~4 ms of every start, for a message seldom seen)."""

    def __init__(self) -> None:
        self._captures: list[list[LibbpfMessage]] = []
        # Kept referenced for the life of the process: libbpf calls it any time.
        self._callback = PRINT_FN(self._print)
        lib().libbpf_set_print(self._callback)

    def _print(self, level: int, fmt: int, ap: int) -> int:
        message = LibbpfMessage(level, _vformat(fmt, ap))
        if self._captures:
            self._captures[-1].append(message)
        elif level == LIBBPF_WARN:
            sys.stderr.write(f"libbpf: {message.text.rstrip()}\n")
        return 0

    @contextlib.contextmanager
    def capture(self, sink: list[LibbpfMessage]) -> Iterator[None]:
        self._captures.append(sink)
        try:
            yield
        finally:
            self._captures.pop()


@functools.cache
def _router() -> _PrintRouter:
    return _PrintRouter()


# libbpf's report of a map the kernel refused to create, with the negative errno.
_MAP_FAILED = re.compile(r"map '(?P<map>[^']+)': failed to create: .*\((?P<rc>-\d+)\)")


@dataclass(frozen=True)
class MapFailure:
    """The kernel refused to create a map while loading: its name and the errno."""

    map: str
    error: int  # a positive errno: E2BIG, ENOMEM, EINVAL, ...

    @property
    def reason(self) -> str:
        name = errno.errorcode.get(self.error, str(self.error))
        return f"{os.strerror(self.error)} ({name})"


_LOG_BEGIN = "-- BEGIN PROG LOAD LOG --\n"
_LOG_END = "-- END PROG LOAD LOG --"


class LoadError(Exception):
    """The object did not load. `log` is the kernel verifier's log when a
    program was rejected, otherwise libbpf's warnings; `messages` is all of
    libbpf's output for the load."""

    def __init__(self, summary: str, log: str, messages: list[LibbpfMessage],
                 map_failure: MapFailure | None = None) -> None:
        super().__init__(summary)
        self.summary = summary
        self.log = log
        self.messages = messages
        # Set when no program was rejected: the kernel refused a map.
        self.map_failure = map_failure

    def __str__(self) -> str:
        tail = self.log.rstrip().splitlines()[-12:]
        return "\n".join([self.summary, *tail])

    @classmethod
    def from_messages(cls, what: str, messages: list[LibbpfMessage]) -> LoadError:
        warnings = [m.text for m in messages if m.level == LIBBPF_WARN]
        text = "".join(warnings)
        begin = text.find(_LOG_BEGIN)
        if begin >= 0:
            end = text.find(_LOG_END, begin)
            log_text = text[begin + len(_LOG_BEGIN): end if end >= 0 else None]
        else:
            log_text = text
        summary = next((w.strip() for w in warnings if "failed" in w), what)
        failed = None if begin >= 0 else next(
            (m for m in map(_MAP_FAILED.search, warnings) if m is not None), None)
        failure = None if failed is None else MapFailure(failed["map"], -int(failed["rc"]))
        return cls(summary, log_text, messages, failure)


class AttachError(OSError):
    pass


def _errno_error(cls: type[OSError], what: str) -> OSError:
    err = ct.get_errno()
    return cls(err, f"{what}: {os.strerror(err)}")


# ---------------------------------------------------------------------------
# links, programs, maps, global data


class Link:
    """An attachment; `destroy()` detaches (idempotent).

    `slow_to_detach`: detaching waits for an RCU grace period in the kernel (perf-event
    tracepoints: ~55 ms each, serialised), which the runtime tells the user about."""

    def __init__(self, handle: int, description: str, slow_to_detach: bool = False) -> None:
        self._handle: int | None = handle
        self.description = description
        self.slow_to_detach = slow_to_detach

    def _release(self, handle: int) -> None:
        lib().bpf_link__destroy(handle)

    def destroy(self) -> None:
        if self._handle is not None:
            self._release(self._handle)
            self._handle = None

    @property
    def active(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()

    def __repr__(self) -> str:
        return f"Link({self.description!r}, active={self.active})"


class FdLink(Link):
    """A link that the kernel handed out as a file descriptor, outside libbpf."""

    def _release(self, handle: int) -> None:
        os.close(handle)


class Program:
    def __init__(self, owner: BPFObject, handle: int) -> None:
        self._owner = owner
        self._handle = handle
        self.name = lib().bpf_program__name(handle).decode()
        self.section = lib().bpf_program__section_name(handle).decode()

    @property
    def fd(self) -> int:
        fd: int = lib().bpf_program__fd(self._handle)  # restype c_int
        return fd

    def _link(self, what: str, attach: functools.partial[int | None],
              slow_to_detach: bool = False) -> Link:
        messages: list[LibbpfMessage] = []
        with _router().capture(messages):
            handle = attach()
        self._owner.messages.extend(messages)
        if not handle:
            raise _errno_error(AttachError, f"attaching {self.name} to {what}")
        link = Link(handle, f"{self.name} → {what}", slow_to_detach)
        self._owner.links.append(link)
        return link

    def attach(self) -> Link:
        """Attach where the ELF section name says (libbpf's auto-attach)."""
        return self._link(self.section, functools.partial(lib().bpf_program__attach,
                                                          self._handle))

    def attach_tracepoint(self, category: str, event: str) -> Link:
        return self._link(f"tracepoint {category}:{event}", functools.partial(
            lib().bpf_program__attach_tracepoint, self._handle, category.encode(),
            event.encode()), slow_to_detach=True)

    def attach_tracepoint_cookie(self, category: str, event: str, cookie: int) -> Link:
        opts = TracepointOpts(ct.sizeof(TracepointOpts), cookie)
        return self._link(f"tracepoint {category}:{event}", functools.partial(
            lib().bpf_program__attach_tracepoint_opts, self._handle, category.encode(),
            event.encode(), ct.byref(opts)), slow_to_detach=True)

    def attach_raw_tracepoint(self, event: str) -> Link:
        return self._link(f"raw_tracepoint {event}", functools.partial(
            lib().bpf_program__attach_raw_tracepoint, self._handle, event.encode()))

    def attach_raw_tracepoint_cookie(self, event: str, cookie: int) -> Link:
        """Attach to the raw tracepoint `event` (a `raw_tracepoint/` program), with the
        cookie that bpf_get_attach_cookie returns in it. Detaching one is quick."""
        name = ct.create_string_buffer(event.encode())
        attr = RawTracepointAttr(ct.addressof(name), self.fd, 0, cookie)
        fd = libc().syscall(ct.c_long(SYS_BPF[os.uname().machine]),
                            ct.c_long(BPF_RAW_TRACEPOINT_OPEN), ct.byref(attr),
                            ct.c_uint(ct.sizeof(attr)))
        if fd < 0:
            raise _errno_error(AttachError, f"attaching {self.name} to raw tracepoint {event}")
        link = FdLink(fd, f"{self.name} → raw tracepoint {event}")
        self._owner.links.append(link)
        return link

    def attach_uprobe(self, path: str, offset: int, pid: int = -1,
                      retprobe: bool = False, cookie: int = 0) -> Link:
        """`offset` is the function's file offset in `path`; pid -1 means all; `cookie`
        is what bpf_get_attach_cookie returns in the program. Detaching one waits for
        the kernel (~0.1 s here): the runtime detaches many at once."""
        kind = "uretprobe" if retprobe else "uprobe"
        opts = UprobeOpts(ct.sizeof(UprobeOpts), 0, cookie, retprobe, None)
        return self._link(f"{kind} {path}+{offset:#x}", functools.partial(
            lib().bpf_program__attach_uprobe_opts, self._handle, pid, path.encode(), offset,
            ct.byref(opts)), slow_to_detach=True)

    def set_uprobe_multi(self) -> None:
        """Load this program to attach as a uprobe_multi link (`attach_uprobe_multi`);
        only before the object is loaded."""
        if lib().bpf_program__set_expected_attach_type(self._handle,
                                                       BPF_TRACE_UPROBE_MULTI) < 0:
            raise _errno_error(OSError, f"setting {self.name}'s attach type")

    def attach_uprobe_multi(self, path: str, offsets: list[int], cookies: list[int],
                            retprobe: bool = False, pid: int = -1) -> Link:
        """One link for every file offset of `path` (loaded with `set_uprobe_multi`),
        each with its cookie for bpf_get_attach_cookie; pid -1 means all."""
        count = len(offsets)
        path_buf = ct.create_string_buffer(path.encode())
        offset_array = (ct.c_uint64 * count)(*offsets)
        cookie_array = (ct.c_uint64 * count)(*cookies)
        attr = UprobeMultiAttr(self.fd, 0, BPF_TRACE_UPROBE_MULTI, 0,
                               ct.addressof(path_buf), ct.addressof(offset_array), 0,
                               ct.addressof(cookie_array), count,
                               BPF_F_UPROBE_MULTI_RETURN if retprobe else 0,
                               0 if pid < 0 else pid, 0)
        fd = libc().syscall(ct.c_long(SYS_BPF[os.uname().machine]),
                            ct.c_long(BPF_LINK_CREATE), ct.byref(attr),
                            ct.c_uint(ct.sizeof(attr)))
        if fd < 0:
            raise _errno_error(AttachError, f"attaching {self.name} to {count} uprobes in "
                                            f"{path}")
        link = FdLink(fd, f"{self.name} → {count} uprobes in {path}")
        self._owner.links.append(link)
        return link

    def attach_perf_event(self, perf_fd: int) -> Link:
        """Attach to an open perf event; the link owns and closes `perf_fd`."""
        return self._link(f"perf event fd {perf_fd}", functools.partial(
            lib().bpf_program__attach_perf_event, self._handle, perf_fd))


# Map types whose lookups return one value per possible CPU.
_PERCPU_MAP_TYPES = {5, 6, 10}  # PERCPU_HASH, PERCPU_ARRAY, LRU_PERCPU_HASH


@dataclass(frozen=True)
class Map:
    """A live map. Keys and values are raw bytes; per-CPU maps return all
    CPUs' values concatenated, each padded to 8 bytes (`cpu_stride`)."""

    name: str
    fd: int
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int

    @classmethod
    def _from_handle(cls, handle: int) -> Map:
        b = lib()
        return cls(b.bpf_map__name(handle).decode(), b.bpf_map__fd(handle),
                   b.bpf_map__type(handle), b.bpf_map__key_size(handle),
                   b.bpf_map__value_size(handle), b.bpf_map__max_entries(handle),
                   b.bpf_map__map_flags(handle))

    @property
    def percpu(self) -> bool:
        return self.type in _PERCPU_MAP_TYPES

    @property
    def cpu_stride(self) -> int:
        return (self.value_size + 7) & ~7

    @property
    def lookup_size(self) -> int:
        return self.cpu_stride * possible_cpus() if self.percpu else self.value_size

    def _key(self, key: bytes) -> ct.Array[ct.c_char]:
        if len(key) != self.key_size:
            raise ValueError(f"map {self.name}: key is {len(key)} bytes, not {self.key_size}")
        return ct.create_string_buffer(key, len(key))

    def lookup(self, key: bytes) -> bytes | None:
        value = ct.create_string_buffer(self.lookup_size)
        if lib().bpf_map_lookup_elem(self.fd, self._key(key), value) < 0:
            if ct.get_errno() == 2:  # ENOENT
                return None
            raise _errno_error(OSError, f"lookup in map {self.name}")
        return value.raw

    def update(self, key: bytes, value: bytes, flags: int = 0) -> None:
        if len(value) != self.lookup_size:
            raise ValueError(f"map {self.name}: value is {len(value)} bytes, "
                             f"not {self.lookup_size}")
        buf = ct.create_string_buffer(value, len(value))
        if lib().bpf_map_update_elem(self.fd, self._key(key), buf, flags) < 0:
            raise _errno_error(OSError, f"update of map {self.name}")

    def delete(self, key: bytes) -> bool:
        """True if the key was there."""
        if lib().bpf_map_delete_elem(self.fd, self._key(key)) < 0:
            if ct.get_errno() == 2:
                return False
            raise _errno_error(OSError, f"delete in map {self.name}")
        return True

    def keys(self) -> Iterator[bytes]:
        prev: ct.Array[ct.c_char] | None = None
        nxt = ct.create_string_buffer(self.key_size)
        while lib().bpf_map_get_next_key(self.fd, prev, nxt) == 0:
            yield nxt.raw
            prev = ct.create_string_buffer(nxt.raw, self.key_size)

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Entries deleted while iterating are skipped."""
        for key in self.keys():
            value = self.lookup(key)
            if value is not None:
                yield key, value

    def lookup_batch(self, chunk: int = 256) -> list[tuple[bytes, bytes]]:
        """All entries through BPF_MAP_LOOKUP_BATCH (hash and array maps)."""
        keys = ct.create_string_buffer(self.key_size * chunk)
        values = ct.create_string_buffer(self.lookup_size * chunk)
        # The batch cursor is opaque; hash maps use a u32 bucket, arrays a key.
        cursor_size = max(self.key_size, 8)
        in_batch: ct.Array[ct.c_char] | None = None
        out_batch = ct.create_string_buffer(cursor_size)
        result: list[tuple[bytes, bytes]] = []
        while True:
            count = ct.c_uint32(chunk)
            rc = lib().bpf_map_lookup_batch(self.fd, in_batch, out_batch, keys, values,
                                            ct.byref(count), None)
            err = ct.get_errno() if rc < 0 else 0
            if rc < 0 and err != 2:
                raise _errno_error(OSError, f"batch lookup in map {self.name}")
            ks, vs = self.key_size, self.lookup_size
            result += [(keys.raw[i * ks:(i + 1) * ks], values.raw[i * vs:(i + 1) * vs])
                       for i in range(count.value)]
            if rc < 0:  # ENOENT: that was the last batch
                return result
            in_batch = ct.create_string_buffer(out_batch.raw, cursor_size)


@functools.cache
def possible_cpus() -> int:
    # A negative count is libbpf's error (errno set), not a count: sizing per-CPU buffers and
    # map entries with it would go wrong far from here. Errors are not cached.
    cpus: int = lib().libbpf_num_possible_cpus()  # restype c_int
    if cpus <= 0:
        raise _errno_error(OSError, "libbpf cannot count the possible CPUs")
    return cpus


class MappedArray:
    """An array map made with BPF_F_MMAPABLE, mapped into this process: elements are
    read and written in place, with no syscall."""

    def __init__(self, bpf_map: Map) -> None:
        self.map = bpf_map
        self.stride = bpf_map.cpu_stride  # the kernel pads elements to 8 bytes
        page = mmap.PAGESIZE
        length = (self.stride * bpf_map.max_entries + page - 1) // page * page
        self._mm = mmap.mmap(bpf_map.fd, length, mmap.MAP_SHARED,
                             mmap.PROT_READ | mmap.PROT_WRITE)

    def read_all(self) -> bytes:
        return self._mm[:self.stride * self.map.max_entries]

    def read(self, index: int) -> bytes:
        start = index * self.stride
        return self._mm[start:start + self.map.value_size]

    def write(self, index: int, data: bytes) -> None:
        if len(data) != self.map.value_size:
            raise ValueError(f"map {self.map.name}: value is {len(data)} bytes, "
                             f"not {self.map.value_size}")
        start = index * self.stride
        self._mm[start:start + len(data)] = data

    def close(self) -> None:
        self._mm.close()


class GlobalSection:
    """A global-data section (`.data`, `.bss`, `.rodata`) of a loaded object,
    mapped into this process: reads and writes are live, no syscalls."""

    def __init__(self, section: str, bpf_map: Map, variables: dict[str, tuple[int, int]],
                 writable: bool) -> None:
        self.section = section
        self.map = bpf_map
        self.variables = variables
        page = mmap.PAGESIZE
        length = (bpf_map.value_size + page - 1) // page * page
        prot = mmap.PROT_READ | (mmap.PROT_WRITE if writable else 0)
        self._mm = mmap.mmap(bpf_map.fd, length, mmap.MAP_SHARED, prot)

    def _span(self, name: str) -> tuple[int, int]:
        try:
            return self.variables[name]
        except KeyError:
            raise KeyError(f"no variable {name!r} in {self.section}") from None

    def read(self, name: str) -> bytes:
        offset, size = self._span(name)
        return self._mm[offset:offset + size]

    def write(self, name: str, data: bytes) -> None:
        offset, size = self._span(name)
        if len(data) != size:
            raise ValueError(f"{name} is {size} bytes, got {len(data)}")
        self._mm[offset:offset + size] = data

    def read_int(self, name: str, signed: bool = False) -> int:
        return int.from_bytes(self.read(name), "little", signed=signed)

    def write_int(self, name: str, value: int, signed: bool = False) -> None:
        self.write(name, value.to_bytes(self._span(name)[1], "little", signed=signed))

    def close(self) -> None:
        self._mm.close()


# ---------------------------------------------------------------------------
# objects


class BPFObject:
    """An ELF object opened by libbpf; `load()` creates maps and loads programs.

    Links made through its programs and mapped global sections are released
    by `close()`.
    """

    def __init__(self, handle: int, name: str, image: ct.Array[ct.c_char]) -> None:
        self._handle: int | None = handle
        self.name = name
        self._image = image  # libbpf may refer to the ELF image until load
        self.messages: list[LibbpfMessage] = []
        self.links: list[Link] = []
        self._sections: dict[str, GlobalSection] = {}
        self._arrays: dict[str, MappedArray] = {}
        self.loaded = False

    @classmethod
    def open(cls, obj: bytes, name: str) -> BPFObject:
        """`name` prefixes libbpf's internal map names (`<name>.data`)."""
        image = ct.create_string_buffer(obj, len(obj))
        opts = OpenOpts(ct.sizeof(OpenOpts), name.encode())
        messages: list[LibbpfMessage] = []
        with _router().capture(messages):
            handle = lib().bpf_object__open_mem(image, len(obj), ct.byref(opts))
        if not handle:
            raise LoadError.from_messages(f"cannot open BPF object {name}: "
                                          f"{os.strerror(ct.get_errno())}", messages)
        bpf_obj = cls(handle, name, image)
        bpf_obj.messages += messages
        return bpf_obj

    @property
    def handle(self) -> int:
        if self._handle is None:
            raise ValueError(f"BPF object {self.name} is closed")
        return self._handle

    @property
    def warnings(self) -> list[str]:
        """libbpf's warnings so far (for example BTF that the kernel refused)."""
        return [m.text.rstrip() for m in self.messages if m.level == LIBBPF_WARN]

    def load(self) -> None:
        messages: list[LibbpfMessage] = []
        with _router().capture(messages):
            rc = lib().bpf_object__load(self.handle)
        self.messages += messages
        if rc < 0:
            raise LoadError.from_messages(f"loading {self.name} failed: {os.strerror(-rc)}",
                                          messages)
        self.loaded = True

    # -- programs and maps ---------------------------------------------------

    def program(self, name: str) -> Program:
        handle = lib().bpf_object__find_program_by_name(self.handle, name.encode())
        if not handle:
            raise KeyError(f"no program {name!r} in {self.name}")
        return Program(self, handle)

    def programs(self) -> list[Program]:
        result = []
        handle = lib().bpf_object__next_program(self.handle, None)
        while handle:
            result.append(Program(self, handle))
            handle = lib().bpf_object__next_program(self.handle, handle)
        return result

    def _map_handle(self, name: str) -> int:
        # libbpf also finds internal maps by their section name (".data").
        # restype c_void_p: ctypes gives None for NULL
        handle: int | None = lib().bpf_object__find_map_by_name(self.handle, name.encode())
        if not handle:
            raise KeyError(f"no map {name!r} in {self.name}")
        return handle

    def map(self, name: str) -> Map:
        return Map._from_handle(self._map_handle(name))

    def set_max_entries(self, name: str, max_entries: int) -> None:
        """Resize a map; only before `load()`."""
        if self.loaded:
            raise ValueError("set_max_entries() must be called before load()")
        if lib().bpf_map__set_max_entries(self._map_handle(name), max_entries) < 0:
            raise _errno_error(OSError, f"resizing map {name}")

    def mapped_array(self, name: str) -> MappedArray:
        """The live, memory-mapped array map `name` (made with BPF_F_MMAPABLE)."""
        if not self.loaded:
            raise ValueError("mapped_array() needs a loaded object")
        if name not in self._arrays:
            self._arrays[name] = MappedArray(self.map(name))
        return self._arrays[name]

    def maps(self) -> list[Map]:
        result = []
        handle = lib().bpf_object__next_map(self.handle, None)
        while handle:
            result.append(Map._from_handle(handle))
            handle = lib().bpf_object__next_map(self.handle, handle)
        return result

    # -- global data ---------------------------------------------------------

    def section_variables(self, section: str) -> dict[str, tuple[int, int]]:
        """name → (offset, size) of each variable in a data section, from BTF."""
        btf = lib().bpf_object__btf(self.handle)
        if not btf:
            raise KeyError(f"{self.name} has no BTF")
        type_id = lib().btf__find_by_name_kind(btf, section.encode(), BTF_KIND_DATASEC)
        if type_id < 0:
            raise KeyError(f"no section {section!r} in {self.name}")
        datasec = lib().btf__type_by_id(btf, type_id)
        vlen = datasec.contents.info & 0xFFFF
        secinfos = ct.cast(ct.addressof(datasec.contents) + ct.sizeof(BTFType),
                           ct.POINTER(BTFVarSecinfo * vlen)).contents
        return {
            lib().btf__name_by_offset(btf, lib().btf__type_by_id(btf, s.type)
                                      .contents.name_off).decode(): (s.offset, s.size)
            for s in secinfos
        }

    def _section_of(self, variable: str) -> tuple[str, tuple[int, int]]:
        for section in (".data", ".bss", ".rodata"):
            with contextlib.suppress(KeyError):
                span = self.section_variables(section).get(variable)
                if span is not None:
                    return section, span
        raise KeyError(f"no global variable {variable!r} in {self.name}")

    def set_global(self, variable: str, data: bytes) -> None:
        """Set a global's initial value; only before `load()` (also `.rodata`)."""
        if self.loaded:
            raise ValueError("set_global() must be called before load(); "
                             "use global_section() afterwards")
        section, (offset, size) = self._section_of(variable)
        if len(data) != size:
            raise ValueError(f"{variable} is {size} bytes, got {len(data)}")
        handle = self._map_handle(section)
        length = c_size_t()
        current = lib().bpf_map__initial_value(handle, ct.byref(length))
        image = bytearray(ct.string_at(current, length.value))
        image[offset:offset + size] = data
        buf = ct.create_string_buffer(bytes(image), len(image))
        if lib().bpf_map__set_initial_value(handle, buf, len(image)) < 0:
            raise _errno_error(OSError, f"setting initial value of {section}")

    def global_section(self, section: str) -> GlobalSection:
        """The live, memory-mapped `.data`/`.bss`/`.rodata` (read-only) section."""
        if not self.loaded:
            raise ValueError("global_section() needs a loaded object")
        if section not in self._sections:
            self._sections[section] = GlobalSection(
                section, self.map(section), self.section_variables(section),
                writable=section != ".rodata")
        return self._sections[section]

    # -- lifetime ------------------------------------------------------------

    def close(self) -> None:
        for link in self.links:
            link.destroy()
        self.links.clear()
        for sec in self._sections.values():
            sec.close()
        self._sections.clear()
        for array in self._arrays.values():
            array.close()
        self._arrays.clear()
        if self._handle is not None:
            lib().bpf_object__close(self._handle)
            self._handle = None

    def __enter__(self) -> BPFObject:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
