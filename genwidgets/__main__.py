"""``python -m genwidgets``: the ``genwidgets`` command (see :mod:`genwidgets.cli`)."""

import sys

from genwidgets.cli import main

if __name__ == "__main__":
    sys.exit(main())
