"""The window's language: the one chosen in Settings, else the system's (QLocale), applied
before the window is built; a new choice shows on the next start (the dialog says so).

Besides our catalogue (client/messages.py), Qt's own translation of its standard texts
(a dialog's Save and Cancel, a text field's context menu) is installed when Qt ships one.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from client import language, messages

_qt_translators: list[QTranslator] = []


def window_language(choice: str, system: Sequence[str]) -> str:
    """`choice` from Settings ('' for the system's), else the first of `system` we speak."""
    return choice if choice in language.LANGUAGES else language.pick(system)


def apply(choice: str) -> str:
    """Speak the chosen language (or the system's) from now on; returns its code."""
    code = window_language(choice, QLocale.system().uiLanguages())
    messages.set_language(code)
    _install_qt_translation(code)
    return code


def _install_qt_translation(code: str) -> None:
    app = QCoreApplication.instance()
    if app is None:
        return
    for old in _qt_translators:
        app.removeTranslator(old)
    _qt_translators.clear()
    if code == language.SOURCE_LANGUAGE:
        return
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(code), "qtbase", "_", folder):
        app.installTranslator(translator)
        _qt_translators.append(translator)
