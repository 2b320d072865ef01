"""``python -m national_source``: the same as the ``national-source-sim`` command."""

import sys

from national_source.cli import main

sys.exit(main())
