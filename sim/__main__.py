"""``python -m sim``: the same command line as ``marketsim``."""

import sys

from sim.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
