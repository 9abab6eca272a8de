"""What pytest collects under a folder, asked of a separate pytest process: lets a test check
that data-driven collectors (tests/programs, tests/ir/golden) turn every piece of data into a
test item, whatever subset of the suite the current run selected."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def collected_ids(folder: Path) -> list[str]:
    """The node ids `pytest --collect-only` finds under FOLDER, relative to the repository."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         str(folder.relative_to(ROOT))],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    # The listing ends with a blank line and the "N tests collected" summary.
    return [line for line in listing.splitlines() if "::" in line]
