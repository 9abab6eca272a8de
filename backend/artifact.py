"""`kllvm build` artifacts: everything `kllvm run` needs, with no compiling left to do.

One JSON document: the script (for diagnostics), the manifest, the BPF object and the
user-space IR (backend.irjson: plain data, which reading cannot turn into code), with a
SHA-256 digest over the four. The same script gives the same bytes. The IR's form follows
kllvm's own classes, so an artifact is read only by the kllvm version that wrote it,
which it records and checks.

An artifact is code that runs as root. Reading one checks, before anything of it is
used: the digest (which catches damage, not malice: anyone can recompute it), then every
field of the IR and the manifest, and the object against the manifest
(backend.artifactcheck). Whatever fails is an ArtifactError, never a crash.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend import irjson
from backend.manifest import RINGBUF, AttachKind, Manifest
from frontend.diagnostics import Source
from ir import ops

MAGIC = "kllvm-artifact"
VERSION = 6  # 3: digest, typed manifest, the IR as a flat object table (backend.irjson);
# 4: ProbeDecl.kind and AttachPoint.kind are enums (ir.ops.ProbeKind, manifest.AttachKind);
# 5: spans name their file (Span.file: code from tapsets), the script part holds the
# text of the tapsets linked in; the manifest's cut sites (manifest.Cut), stack maps
# (Manifest.stacks) and stack types;
# 6: argstr event formats carry the event's print fmt (backend.argstr.EventDesc)
PARTS = ("script", "manifest", "object", "module")
MAX_SIZE = 256 << 20  # bytes of JSON; `trace *:*` makes under 1 MiB
BANNER_NAMES = 4  # names shown per list in the banner before "..."


class ArtifactError(Exception):
    pass


@dataclass
class Artifact:
    source: Source
    manifest: Manifest
    object: bytes
    module: ops.Module

    def dumps(self) -> bytes:
        # json and base64 are imported here, not above: `kllvm run script.kp` imports this
        # module to tell scripts from artifacts, and json costs ~1 ms of every start.
        import base64
        import json

        document = {
            "script": {"name": self.source.name, "text": self.source.text,
                       "tapsets": dict(self.source.tapsets)},
            "manifest": self.manifest.to_json(),
            "object": base64.b64encode(self.object).decode(),
            "module": irjson.encode(self.module),
        }
        document.update(format=MAGIC, version=VERSION, digest=digest_of(document))
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes | str) -> Artifact:
        """The artifact in `data`, checked whole; an ArtifactError says what is wrong."""
        from backend import manifest as mf
        from backend.artifactcheck import CheckError

        try:
            return cls._loads(data)
        except (irjson.IRDecodeError, mf.ManifestError, CheckError) as e:
            raise ArtifactError(f"damaged artifact: {e}") from None
        except RecursionError:
            raise ArtifactError("damaged artifact: nested too deeply") from None
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ArtifactError(f"damaged artifact ({type(e).__name__}: {e})") from None

    @classmethod
    def _loads(cls, data: bytes | str) -> Artifact:
        import base64  # see dumps
        import binascii
        import json

        from backend import artifactcheck

        if len(data) > MAX_SIZE:
            raise ArtifactError(f"damaged artifact: larger than {MAX_SIZE >> 20} MiB")
        document = json.loads(data)
        if (type(document) is not dict or document.get("format") != MAGIC
                or document.get("version") != VERSION):
            raise ArtifactError("not a kllvm artifact of this version; rebuild it")
        if set(document) != {"format", "version", "digest", *PARTS}:
            raise ArtifactError("damaged artifact: it does not have the parts of one")
        if document["digest"] != digest_of(document):
            raise ArtifactError("damaged artifact: its digest does not match its contents")
        script = document["script"]
        if (type(script) is not dict or set(script) != {"name", "text", "tapsets"}
                or type(script["name"]) is not str or type(script["text"]) is not str
                or type(script["tapsets"]) is not dict
                or not all(type(text) is str for text in script["tapsets"].values())):
            raise ArtifactError("damaged artifact: bad script")
        source = Source(script["name"], script["text"], tuple(sorted(script["tapsets"].items())))
        manifest = Manifest.from_json(document["manifest"])
        if type(document["object"]) is not str:
            raise ArtifactError("damaged artifact: bad BPF object")
        try:
            image = base64.b64decode(document["object"], validate=True)
        except binascii.Error:
            raise ArtifactError("damaged artifact: bad BPF object") from None
        module, instances = irjson.decode_with_instances(document["module"], ops.Module)
        artifactcheck.check_module(module, instances, source)
        artifactcheck.check_manifest(manifest, module)
        artifactcheck.check_object(manifest, image)
        return cls(source, manifest, image, module)


def digest_of(document: dict[str, object]) -> str:
    """SHA-256 over the parts in one canonical JSON form (so indenting does not count)."""
    import hashlib
    import json

    parts = {name: document.get(name) for name in PARTS}
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def is_artifact(text: str) -> bool:
    return text.lstrip().startswith("{") and f'"format": "{MAGIC}"' in text[:200_000]


def banner(built: Artifact) -> str:
    """What running the artifact will attach, said before it does: the programs, the
    events they attach to and the maps, each as a count and the first few names."""
    manifest = built.manifest
    programs = [p.name for p in manifest.programs]
    events = list(dict.fromkeys(
        f"every {point.target} ns" if point.kind is AttachKind.PERF else point.target
        for program in manifest.programs for point in program.attach))
    maps = [RINGBUF] + [name for table in manifest.tables
                               for name in (table.map, table.slots) if name is not None]
    return (f"kllvm: artifact of {built.source.name} (runs as root): may attach "
            f"{_listed(programs, 'program')} to {_listed(events, 'event')}, "
            f"with {_listed(maps, 'map')}.\n")


def _listed(names: list[str], noun: str) -> str:
    shown = ", ".join(names[:BANNER_NAMES])
    more = f", ... ({len(names) - BANNER_NAMES} more)" if len(names) > BANNER_NAMES else ""
    plural = noun if len(names) == 1 else noun + "s"
    return f"{len(names)} {plural} ({shown}{more})" if names else f"no {plural}"
