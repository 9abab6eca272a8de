"""kllvm: ktap scripts compiled to eBPF through LLVM, run live."""

from pathlib import Path

# The tapsets installed with kllvm (package data), last on every tapset path.
BUNDLED_TAPSETS = Path(__file__).resolve().with_name("tapsets")
