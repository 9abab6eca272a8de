import gc
import sys

# Start-up: no collections while the modules load (they only allocate), and keep what
# they made out of later collections (gc.freeze); a few ms of every `kllvm run`.
gc.disable()
from kllvm.cli import main  # noqa: E402

gc.freeze()
gc.enable()
sys.exit(main())
