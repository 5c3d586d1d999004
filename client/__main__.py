"""`python -m client`: the same as the `studymatch` command."""

import sys

from client.cli import main

sys.exit(main())
