import sys

from kllvm.cli import main

sys.exit(main())
