"""The frozen `studymatch` (tools/bundling/studymatch.spec): the same main() as the installed script."""

import sys

from client.cli import main

sys.exit(main())
