"""The network tests: real namespaces (tools/netlab), real servers and headless clients in them.

Tests that build a lab need root, `ip`, `tc` and `nft` (and coturn for the relay test);
without them they skip, saying what is missing. CI runs as root after `tools/setup --test`,
which installs all of it, so nothing skips there.
"""

from __future__ import annotations

import shutil

import pytest

from tools.netlab import unavailable_reason

LAB_MISSING = unavailable_reason()
needs_lab = pytest.mark.skipif(LAB_MISSING is not None, reason=LAB_MISSING or "")
TURN_MISSING = None if shutil.which("turnserver") else "needs turnserver (Debian package coturn: tools/setup --test)"
needs_turn = pytest.mark.skipif(TURN_MISSING is not None, reason=TURN_MISSING or "")
