"""The client's catalogue (client/messages.py) and its Spanish translation (client/locale/es/)."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from client import events as ev
from client import language, messages
from client.eventformat import to_record, to_text

CLIENT = Path(language.__file__).parent
PO = language.LOCALE_DIR / "es" / "LC_MESSAGES" / f"{language.DOMAIN}.po"
# Keys keep their names in Spanish help too, and two words are spelt the same in both languages;
# nothing else may stay in English.
SAME_IN_SPANISH = {("SHORTCUTS", key) for key in ("Enter", "M", "V", "N", "H", "Esc")} | {
    ("HEADLESS_KINDS", "audio"),
    ("HEADLESS_ERROR", "error ({code}): {message}"),
    ("STUDY_LENGTH_MINUTES", "{minutes} min"),
    ("STUDY_POMODORO", "Pomodoro 25/5"),
}


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    yield
    messages.set_language("en")


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_mo(f) if path.suffix == ".mo" else read_po(f, locale="es", domain=language.DOMAIN)


def translated(catalog: Catalog) -> dict[tuple[str, str], str]:
    # No plural forms in this catalogue: every id and string is one str.
    return {(m.context or "", str(m.id)): str(m.string) for m in catalog if m.id and not m.fuzzy}


def fields(text: str) -> list[tuple[str, str, str]]:
    """The placeholders of a format string: name, conversion and format spec, in sorted order."""
    return sorted((name, conversion or "", spec or "")
                  for _literal, name, spec, conversion in string.Formatter().parse(text) if name is not None)


def test_every_sentence_has_a_spanish_translation() -> None:
    spanish = translated(read(PO))
    for key in language.entries(messages.SOURCE):
        text = spanish.get(key, "")
        assert text.strip(), f"no Spanish for {key}"
        assert text != key[1] or key in SAME_IN_SPANISH, f"still English: {key}"


def test_each_translation_has_the_same_placeholders() -> None:
    for (context, english), spanish in translated(read(PO)).items():
        assert fields(spanish) == fields(english), f"{context}: {spanish!r} for {english!r}"
        assert all(name for name, _c, _s in fields(english)), f"{context}: name every placeholder"


def test_the_po_lists_exactly_the_catalogues_sentences() -> None:
    catalog = read(PO)
    in_po = {(m.context or "", str(m.id)) for m in catalog if m.id}
    in_catalogue = set(language.entries(messages.SOURCE))
    assert in_catalogue - in_po == set(), "run: python tools/i18n.py update es"
    assert in_po - in_catalogue == set(), "sentences the catalogue no longer has"
    assert not [m.id for m in catalog if m.id and m.fuzzy], "fuzzy entries are not shipped"
    assert not list(catalog.obsolete)


def test_no_sentence_escapes_the_catalogue() -> None:
    """A sentence defined below the line that collects SOURCE would never be translated."""
    names = set(language.sentences(vars(messages), untranslated=("SOURCE",)))
    assert names - set(messages.SOURCE) == {"APP_NAME", "NOT_MEASURED", "PARTNER_SUBJECT"}


def test_the_shipped_mo_is_the_po_compiled() -> None:
    mo = read(PO.with_suffix(".mo"))
    assert translated(mo) == translated(read(PO)), "run: python tools/i18n.py compile"


def test_set_language_rebinds_every_name_and_english_stays_the_fallback() -> None:
    messages.set_language("es")
    assert messages.current_language == "es"
    assert messages.FIND_PARTNER == "Buscar compañero"
    # One English sentence, two meanings: each name has its own translation (msgctxt).
    assert (messages.CAMERA_OFF, messages.NO_VIDEO_SELF) == ("Apagar cámara", "Cámara apagada")
    assert messages.REPORT_REASONS[1] == "Acoso" and messages.QUALITY_LABELS["good"] == "buena"
    assert messages.SHORTCUTS[-1] == ("F1 o ?", "Mostrar u ocultar esta ayuda")
    assert messages.APP_NAME == "StudyMatch"
    assert messages.SOURCE["FIND_PARTNER"] == "Find partner"  # the source stays English

    messages.set_language("fr")  # no French yet: English, not empty strings
    assert messages.FIND_PARTNER == "Find partner"
    messages.set_language("en")
    assert messages.CAMERA_OFF == "Camera off"


def test_the_headless_clients_lines_speak_the_language_too() -> None:
    messages.set_language("es")
    assert to_text(ev.Queued("video", None)) == "buscando un compañero (vídeo, cualquier asignatura)"
    assert to_text(ev.CallEnded("s", 2.0, 60, 100, 40.0)) == (
        "llamada terminada tras 2.0 s (60 fotogramas de vídeo, 100 tramas de audio, latencia p50 40 ms)"
    )
    # Scripts read the JSON lines: those stay in the protocol's words.
    assert to_record(ev.PartnerLeft("s", "skipped"), 0.0) == {
        "event": "partner_left", "t": 0.0, "session": "s", "reason": "skipped"}


def test_the_catalogues_functions_speak_the_language_too() -> None:
    messages.set_language("es")
    assert messages.device_message("camera", "permission_denied", "darwin") == (
        "StudyMatch no tiene permiso para usar tu cámara. Permítelo en Ajustes del Sistema > "
        "Privacidad y seguridad > Cámara y vuelve a intentarlo, o continúa solo con audio."
    )
    assert "ha caducado" in messages.certificate_problem("wss://example.org/ws", 10, 3.0)
    assert messages.server_unreachable("ws://127.0.0.1:8765/ws", 2.0).endswith(
        "comprueba que el servidor esté en marcha en este ordenador.")


@pytest.mark.parametrize(("tags", "code"), [
    (["es_ES.UTF-8"], "es"),
    (["es-MX"], "es"),
    (["fr_FR", "es"], "es"),
    (["de", "fr"], "en"),
    (["C"], "en"),
    ([], "en"),
    (["en_GB", "es"], "en"),
])
def test_pick_the_first_language_we_speak(tags: list[str], code: str) -> None:
    assert language.pick(tags) == code


def test_the_environment_is_read_as_gettext_reads_it() -> None:
    assert language.environment_languages({"LANGUAGE": "es:en", "LANG": "de_DE.UTF-8"}) == ["es", "en"]
    assert language.environment_languages({"LC_ALL": "es_ES.UTF-8", "LANG": "C"}) == ["es_ES.UTF-8"]
    assert language.environment_languages({"LANG": "C.UTF-8"}) == ["C.UTF-8"]
    assert language.environment_languages({}) == []


class _ReadAtImport(ast.NodeVisitor):
    """`messages.NAME` read outside any function body: evaluated once, at import, in English."""

    def __init__(self) -> None:
        self.found: list[int] = []

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and node.value.id == "messages" and node.attr.isupper():
            self.found.append(node.lineno)
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        # `from client.messages import NAME` copies the sentence of the moment, too.
        if (node.module or "").split(".")[-1] == "messages" and any(a.name.isupper() for a in node.names):
            self.found.append(node.lineno)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        # Defaults and decorators run at import; the body runs when called.
        for expr in [*node.args.defaults, *node.args.kw_defaults, *getattr(node, "decorator_list", [])]:
            if expr is not None:
                self.visit(expr)

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function


def test_no_module_reads_a_sentence_at_import() -> None:
    found = []
    for path in sorted(CLIENT.rglob("*.py")):
        finder = _ReadAtImport()
        finder.visit(ast.parse(path.read_text(), str(path)))
        found += [f"{path.relative_to(CLIENT.parent)}:{line}" for line in finder.found]
    assert found == [], "read the sentence where it is shown, so it is in the language chosen then"
