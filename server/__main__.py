"""`python -m server`: the same as the `studymatch-server` command."""

import sys

from server.cli import main

sys.exit(main())
