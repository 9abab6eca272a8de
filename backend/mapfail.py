"""A map the kernel refused to create, explained at the script line that asked for it.

libbpf names the map and the errno (`map 't0_t': failed to create: ... (-7)`); the
manifest knows which table, with which capacity and layouts, each map serves. A table's
map is reported at the table's creation (`{}` or `table.new(...)`) with what it asked
for; kllvm's own maps (strings scratch, ring buffer, global sections) without a line.
"""

from __future__ import annotations

import errno

from backend import layout as lay
from backend import manifest as mf
from backend.loader import MapFailure
from frontend.diagnostics import Diagnostic, Source, render
from ir import ops

# The kernel's per-entry bookkeeping of a preallocated hash map (struct htab_elem),
# for an estimate of the memory a table asks for.
HASH_ELEM_OVERHEAD = 48

HINTS = {
    errno.E2BIG: "the kernel limits a map's number of entries (hash maps: 2^31) and the "
                 "size of its keys and values (per-CPU values: 32 KB)",
    errno.ENOMEM: "the kernel could not allocate the map's memory",
}


def table_memory(info: mf.TableInfo, strlen: int, cpus: int) -> int:
    """About how many bytes of kernel memory a table's map preallocates."""
    key = lay.size_of(info.key, strlen)
    value = lay.size_of(info.value, strlen) * (cpus if info.percpu else 1)
    return info.capacity * (key + value + HASH_ELEM_OVERHEAD)


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} bytes"
    size = n / 1024
    for unit in ("KB", "MB", "GB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def message(source: Source, module: ops.Module, manifest: mf.Manifest, failure: MapFailure,
            cpus: int) -> str:
    """The rendered error for `failure`."""
    hint = HINTS.get(failure.error)
    for info in manifest.tables:
        if failure.map not in (info.map, info.slots):
            continue
        what = "map" if failure.map == info.map else "per-CPU counter slots"
        key, value = lay.size_of(info.key, manifest.strlen), lay.size_of(info.value,
                                                                         manifest.strlen)
        text = (f"the kernel cannot create the {what} of table '{info.name}' "
                f"({info.capacity} entries of {key}-byte keys and {value}-byte values, about "
                f"{_size(table_memory(info, manifest.strlen, cpus))}): {failure.reason}")
        hints = tuple(h for h in (hint, "give table.new a smaller size, or a smaller "
                                        "--strlen for string keys and values") if h)
        return render(source, Diagnostic(module.tables[info.site].span, text, hints=hints))

    owner = {mf.RINGBUF: "kllvm's ring buffer (print and printf records)",
             "kllvm_scratch": "the per-CPU scratch map of the strings probes make "
                              f"({manifest.strlen} bytes each: try a smaller --strlen)"}
    what = owner.get(failure.map, f"map '{failure.map}' (kllvm's global variables or "
                                  "constants: try a smaller --strlen)")
    text = f"{source.name}: error: the kernel cannot create {what}: {failure.reason}\n"
    return text + (f"hint: {hint}\n" if hint else "")
