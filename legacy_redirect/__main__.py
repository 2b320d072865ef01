"""``python -m legacy_redirect`` runs the same command line as the ``legacy-redirect`` script."""

import sys

from legacy_redirect.cli import main

sys.exit(main())
