"""kllvm: ktap scripts compiled ahead of time to eBPF through LLVM."""

from pathlib import Path

__version__ = "0.1.0"  # the one place of the version (pyproject.toml reads it)

# The tapsets installed with kllvm (package data), last on every tapset path.
BUNDLED_TAPSETS = Path(__file__).resolve().with_name("tapsets")
