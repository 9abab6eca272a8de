"""kllvm: ktap scripts compiled ahead of time to eBPF through LLVM."""

__version__ = "0.1.0"  # the one place of the version (pyproject.toml reads it)
