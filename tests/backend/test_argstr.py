"""argstr rendering from an event format (no kernel needed)."""

from __future__ import annotations

import struct

from backend import argstr
from backend.layout import RawEvent, argstr_layout, decode_many, size_of
from backend.manifest import Manifest
from backend.tracefs import parse_format
from ir.values import ArgstrValue

EXEC = """name: sched_process_exec
ID: 365
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:char comm[8];	offset:16;	size:8;	signed:1;
	field:u16 ports[2];	offset:24;	size:4;	signed:0;
	field:int __internal;	offset:28;	size:4;	signed:1;

print fmt: "filename=%s pid=%d", __get_str(filename), REC->pid
"""


def test_render_fields_by_kind() -> None:
    desc = argstr.EventDesc.of(parse_format("sched", "sched_process_exec", EXEC))
    assert (desc.fixed_size, desc.dynamic) == (24, True)
    name = b"/bin/ls\0"
    loc = (len(name) << 16) | 32  # the data right after the fixed part
    record = struct.pack("<IiHH", loc, -5, 0, 0)
    record = record[:8] + b"ls\0\0\0\0\0\0" + struct.pack("<HH", 80, 443) + b"\0" * 4 + name
    # The print fmt, as the kernel's trace file shows it.
    assert argstr.render(desc, record) == b"sched_process_exec: filename=/bin/ls pid=-5"
    # A print fmt printfmt cannot evaluate falls back to name=value pairs.
    odd = argstr.EventDesc(desc.system, desc.event, desc.fields, '"%d", strlen(REC->comm)')
    assert argstr.render(odd, record) == (
        b"sched_process_exec: filename=/bin/ls pid=-5 comm=ls ports={80, 443}")
    assert argstr.copy_sizes([desc]) == (24, argstr.DYNAMIC_BYTES)


def test_manifest_decodes_records_into_argstr_values() -> None:
    desc = argstr.EventDesc.of(parse_format("sched", "sched_process_exec", EXEC))
    manifest = Manifest(16, names=["other", "sched_process_exec"],
                        events={"sched_process_exec": desc.to_json()})
    layouts = ["int", argstr_layout(24)]
    body = struct.pack("<q", 7) + (1).to_bytes(8, "little") + struct.pack("<Ii", 0, 42)
    body += b"\0" * 16
    assert size_of(layouts[1], 16) == 32
    assert decode_many(layouts, body, 16) == [7, RawEvent(1, body[16:])]
    assert manifest.decode(layouts, body) == [
        7, ArgstrValue(b"sched_process_exec: filename= pid=42")]
    again = Manifest.from_json(manifest.to_json())
    assert again.decode(layouts, body) == manifest.decode(layouts, body)
