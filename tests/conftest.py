"""Settings shared by every test layer."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

from hypothesis import HealthCheck, settings

# Qt without a display aborts the whole process; every layer that makes a
# QApplication (gui/, and integration/ for real Qt audio) renders offscreen.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Sentences in English, the source language, whatever the developer's own locale (QLocale and
# gettext both read LANGUAGE first); tests/unit/client/test_translations.py switches on purpose.
os.environ["LANGUAGE"] = "en"
# `studymatch-server` keeps its ticket key under $XDG_STATE_HOME (server/cli.py): every server
# a test starts, in this process or a child, keeps it here, never in the developer's home.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="studymatch-state-")
atexit.register(shutil.rmtree, os.environ["XDG_STATE_HOME"], ignore_errors=True)

# Two shared cores: generation speed says nothing about the code under test.
settings.register_profile(
    "studymatch",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    max_examples=int(os.environ.get("STUDYMATCH_HYPOTHESIS_EXAMPLES", "100")),
)
settings.load_profile("studymatch")
