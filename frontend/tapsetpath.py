"""The tapset search path: folders looked in, in order, for the tapset `foo.kp` of the
library table `foo`. Apart from frontend/tapsets.py, which links them, so that the command
line can build the path without importing the parser."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".kp"


@dataclass(frozen=True)
class SearchPath:
    """Where tapsets are looked for, in order, each folder with where it came from (`-I`,
    `KLLVM_TAPSET_PATH`, bundled with kllvm)."""

    folders: tuple[tuple[Path, str], ...] = ()

    def find(self, library: str) -> Path | None:
        for folder, _ in self.folders:
            candidate = folder / (library + SUFFIX)
            if candidate.exists() or candidate.is_symlink():
                return candidate
        return None

    def described(self) -> str:
        if not self.folders:
            return "no tapset folder is given"
        return "looked in " + ", ".join(f"{folder} ({origin})" for folder, origin in self.folders)

    def files(self) -> list[Path]:
        """Every tapset on the path (for the compile cache's key)."""
        found = []
        for folder, _ in self.folders:
            try:
                found.extend(sorted(p for p in folder.iterdir() if p.suffix == SUFFIX))
            except OSError:
                continue  # a folder that is missing or unreadable provides no tapset
        return found
