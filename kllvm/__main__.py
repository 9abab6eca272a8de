"""`python -m kllvm` and the `kllvm` command."""

import gc
import sys


def run() -> int:
    # Start-up: no collections while the modules load (they only allocate), and keep
    # what they made out of later collections (gc.freeze); a few ms of every start.
    gc.disable()
    from kllvm.cli import main

    gc.freeze()
    gc.enable()
    return main()


if __name__ == "__main__":
    sys.exit(run())
