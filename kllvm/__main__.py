"""`python -m kllvm` and the `kllvm` command."""

import os
import sys

INTERRUPTED = 130  # 128 + SIGINT, what shells report after Ctrl-C


def run() -> int:
    # Ctrl-C while the modules load or the script compiles (before a live run installs
    # its own handlers) is a quiet exit, not a traceback: this covers the imports too.
    try:
        import gc

        # Start-up: no collections while the modules load (they only allocate), and keep
        # what they made out of later collections (gc.freeze); a few ms of every start.
        gc.disable()
        from kllvm.cli import main

        gc.freeze()
        gc.enable()
        return main()
    except KeyboardInterrupt:
        # Exit at once rather than return: under `python -m`, an interrupt raised inside
        # a string exec (dataclasses build their methods so, at import) makes Python end
        # by SIGINT whatever status is returned. Runs clean up in their own `finally`.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a reader gone, a stream closed: nothing to keep
                pass
        os._exit(INTERRUPTED)


if __name__ == "__main__":
    sys.exit(run())
