"""``python -m tests.integration.faulty_sim ARGS``: ``marketsim ARGS`` with injected faults.

The faults come from the ``MARKETSIM_TEST_FAULTS`` environment variable (see
:mod:`tests.integration.faults`); the package itself knows nothing of them.
"""

from __future__ import annotations

import os
import sys

from sim.cli.commands import main
from tests.integration.faults import FAULTS_ENV, install

if __name__ == "__main__":
    install(os.environ.get(FAULTS_ENV, ""))
    sys.exit(main(sys.argv[1:]))
