"""`kllvm build` artifacts: everything `kllvm run` needs, with no compiling left to do.

One JSON document: the script (for diagnostics), the manifest, the BPF object and the
user-space IR (backend.irjson: plain data, which reading cannot turn into code). The
same script gives the same bytes. The IR's form follows kllvm's own classes, so an
artifact is read only by the kllvm version that wrote it, which it records and checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from backend import irjson
from backend.manifest import Manifest
from ir import ops
from kllvm.diagnostics import Source

MAGIC = "kllvm-artifact"
VERSION = 3  # 3: the IR as a flat object table (backend.irjson)


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
            "format": MAGIC,
            "version": VERSION,
            "script": {"name": self.source.name, "text": self.source.text},
            "manifest": self.manifest.to_json(),
            "object": base64.b64encode(self.object).decode(),
            "module": irjson.encode(self.module),
        }
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes | str) -> Artifact:
        import base64  # see dumps
        import json

        try:
            document = json.loads(data)
            if document.get("format") != MAGIC or document.get("version") != VERSION:
                raise ArtifactError("not a kllvm artifact of this version; rebuild it")
            module = irjson.decode(document["module"])
            if not isinstance(module, ops.Module):
                raise ArtifactError("damaged artifact: its IR is not a module")
            script = document["script"]
            return cls(Source(script["name"], script["text"]),
                       Manifest.from_json(document["manifest"]),
                       base64.b64decode(document["object"]), module)
        except irjson.IRDecodeError as e:
            raise ArtifactError(f"damaged artifact: {e}") from None
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise ArtifactError(f"damaged artifact ({type(e).__name__}: {e})") from None


def is_artifact(text: str) -> bool:
    return text.lstrip().startswith("{") and f'"format": "{MAGIC}"' in text[:200_000]
