"""Overrides PyInstaller's hook for PySide6.QtGui (a hook in the spec's hookspath wins):
the same dependencies, less the plugins a desktop StudyMatch never loads.

Each of these drags in a large part of Qt or of the build machine's desktop, found by
reading the first bundle (tests/integration/bundle/test_bundle_contents.py keeps them out):
- the virtual keyboard input context: QtQuick, QtQml and QtVirtualKeyboard (about 15 MiB);
- the PDF image format: QtPdf;
- the GTK 3 platform theme: the build machine's GTK, Cairo, Pango and ATK (15 MiB), which
  then clash with the GTK of a different distribution. Qt's own Fusion look and the
  desktop portal's theme (dark mode) remain;
- platforms for kiosks and embedded boards (EGLFS, Linux framebuffer, VNC, Vulkan display)
  and their input and device plugins.
"""

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

UNUSED_PLUGINS = (
    "platforminputcontexts/libqtvirtualkeyboardplugin",
    "imageformats/libqpdf",
    "imageformats/qpdf",
    "platformthemes/libqgtk3",
    "platforms/libqeglfs",
    "platforms/libqlinuxfb",
    "platforms/libqminimalegl",
    "platforms/libqvkkhrdisplay",
    "platforms/libqvnc",
    "platforms/qvnc",
    "egldeviceintegrations/",
    "generic/",
)

hiddenimports, binaries, datas = add_qt6_dependencies(__file__)


def _plugin(source: str, destination: str) -> str:
    """'platforms/libqvnc.so' from a plugin's (source, destination folder) pair."""
    return destination.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1] + "/" + source.replace("\\", "/").rsplit("/", 1)[-1]


binaries = [(src, dst) for src, dst in binaries if not _plugin(src, dst).startswith(UNUSED_PLUGINS)]
