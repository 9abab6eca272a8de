"""Providers: what each kind of probe means, one module per kind, in the spirit of ply's
providers. A provider expands a probe's eventdef against the host (tracefs, which tests
fake), says which probe-local values its events have and their types (argN), plans the
BPF programs and their attach points, emits the part of a program's prologue that
depends on the kind (which probename an event has), and attaches and detaches.

- `base`: the interfaces and the program plan they share (`ProgramSpec`).
- `catalog`: the tracepoints of the host, read lazily from tracefs.
- `tracepoint` (with raw tracepoints), `raw_syscalls`, `kprobe`, `uprobe` (both reading
  registers through `registers`), `profile` (perf timers), `tick` (user-space timers).
- `registry`: which provider serves which spec, probe kind and attach kind.

Nothing here imports llvmlite: the run-time side (attach, detach, checking an artifact's
attach points) is in the same modules, and running a built artifact imports no compiler.
Prologues are emitted through `base.Emitter`, which backend.lower implements.

To add a provider: its eventdef spec in frontend/eventdef.py (parsing; ir/printer.py
prints it); a module here with a class that is an `EventSource` (or a target hook called
by an existing expansion, like kprobe and uprobe), a `Planner` and, for a new way of
attaching, an `Attacher` whose `attach_kinds` are new members of manifest.AttachKind
(bump backend/artifact.VERSION); then list it in `registry` (expansion dispatch, the
planners' order, the attachers). A new kind of statement (not an eventdef) is a new
ir.ops.ProbeKind. A new prologue primitive goes into `base.Emitter` and backend.lower.
"""
