"""`kllvm build` artifacts: everything `kllvm run` needs, with no compiling left to do.

One JSON document: the script (for diagnostics), the manifest, the BPF object and the
user-space IR. The IR is a pickle (base64) of the typed module: its object graph is built
deterministically, so the same script gives the same bytes, but it is only readable by
the same kllvm version, which the artifact records and checks.
"""

from __future__ import annotations

import base64
import json
import pickle
from dataclasses import dataclass

from backend.manifest import Manifest
from ir import ops
from kllvm.diagnostics import Source

MAGIC = "kllvm-artifact"
VERSION = 1


class ArtifactError(Exception):
    pass


@dataclass
class Artifact:
    source: Source
    manifest: Manifest
    object: bytes
    module: ops.Module

    def dumps(self) -> bytes:
        document = {
            "format": MAGIC,
            "version": VERSION,
            "script": {"name": self.source.name, "text": self.source.text},
            "manifest": self.manifest.to_json(),
            "object": base64.b64encode(self.object).decode(),
            "module": base64.b64encode(pickle.dumps(self.module, protocol=5)).decode(),
        }
        return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes | str) -> Artifact:
        document = json.loads(data)
        if document.get("format") != MAGIC or document.get("version") != VERSION:
            raise ArtifactError("not a kllvm artifact of this version; rebuild it")
        script = document["script"]
        module = pickle.loads(base64.b64decode(document["module"]))  # noqa: S301 - our own
        return cls(Source(script["name"], script["text"]),
                   Manifest.from_json(document["manifest"]),
                   base64.b64decode(document["object"]), module)


def is_artifact(text: str) -> bool:
    return text.lstrip().startswith("{") and f'"format": "{MAGIC}"' in text[:200_000]
