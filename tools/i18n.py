"""The translations of the client's catalogue (client/messages.py) as gettext .po and .mo files.

    python tools/i18n.py update [code]   add new sentences to client/locale/<code>/.../studymatch.po
                                         (untranslated), drop the ones the catalogue lost
    python tools/i18n.py compile         write each .po's .mo, which the app loads at run time

Translators edit the .po (any gettext editor); `compile` after every edit, since the app
reads the .mo (tests/unit/client/test_translations.py fails while the two differ). Needs Babel
(the `test` extra); the app itself needs only the standard library's gettext.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from client import language, messages

PROJECT = "StudyMatch"


def po_path(code: str) -> Path:
    return language.LOCALE_DIR / code / "LC_MESSAGES" / f"{language.DOMAIN}.po"


def template() -> Catalog:
    """Every sentence of the catalogue, untranslated; its name is the context translators see."""
    catalog = Catalog(project=PROJECT, version="0.1", msgid_bugs_address="-", fuzzy=False)
    for context, text in language.entries(messages.SOURCE):
        catalog.add(text, context=context)
    return catalog


def read(path: Path, code: str) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=code, domain=language.DOMAIN)


def update(code: str) -> Path:
    path = po_path(code)
    if path.exists():
        catalog = read(path, code)
        catalog.project, catalog.version, catalog.msgid_bugs_address = PROJECT, "0.1", "-"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(locale=code, domain=language.DOMAIN, project=PROJECT, version="0.1", fuzzy=False)
    catalog.update(template(), no_fuzzy_matching=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, ignore_obsolete=True, omit_header=False, sort_output=False)
    return path


def compile_all() -> list[Path]:
    written = []
    for po in sorted(language.LOCALE_DIR.glob(f"*/LC_MESSAGES/{language.DOMAIN}.po")):
        catalog = read(po, po.parts[-3])
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def main(argv: list[str]) -> int:
    if argv[:1] == ["update"]:
        codes = argv[1:] or [c for c in language.LANGUAGES if c != language.SOURCE_LANGUAGE]
        for code in codes:
            print(update(code))
        return 0
    if argv[:1] == ["compile"]:
        for path in compile_all():
            print(path)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
