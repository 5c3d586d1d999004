"""The frozen `studymatch-server` (tools/bundling/studymatch.spec): the same main() as the installed script."""

import sys

from server.cli import main

sys.exit(main())
