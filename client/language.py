"""Which language the client speaks, and where its translations come from (pure; stdlib gettext).

English is the source language: the sentences in client/messages.py are the gettext
message ids, and each one's catalogue name is its context (msgctxt), so two equal English
sentences that read differently in another language ("Camera off": a button that turns
it off, or a caption saying it is off) get their own translation. The translations are
compiled .mo files shipped inside the package (client/locale/<code>/LC_MESSAGES/); a
language with none, or a sentence missing from one, falls back to English.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

DOMAIN = "studymatch"
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).with_name("locale")
# Offered in Settings, each named in itself: a person looks for their own language's name.
LANGUAGES = {"en": "English", "es": "Español"}

# The variables gettext reads, in its order: LANGUAGE may list several ("es:en").
_ENVIRONMENT = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
# A catalogue name: FIND_PARTNER, or _PRIVACY_HINT for a table the module's functions read.
_NAME = re.compile(r"_?[A-Z][A-Z0-9_]*")


def supported(tag: str) -> str | None:
    """'es_ES.UTF-8', 'es-MX', 'ES' -> 'es'; None for a language we have no translation for."""
    base = re.split(r"[-_.@]", tag.strip(), maxsplit=1)[0].lower()
    return base if base in LANGUAGES else None


def pick(preferred: Iterable[str]) -> str:
    """The first of the person's languages that we speak, else English."""
    for tag in preferred:
        code = supported(tag)
        if code is not None:
            return code
    return SOURCE_LANGUAGE


def environment_languages(environ: Mapping[str, str] | None = None) -> list[str]:
    """The languages the environment asks for, as gettext finds them (the headless client's choice)."""
    env = os.environ if environ is None else environ
    for variable in _ENVIRONMENT:
        value = env.get(variable, "")
        if value:
            return value.split(":")
    return []


def sentences(namespace: Mapping[str, Any], untranslated: Iterable[str] = ()) -> dict[str, Any]:
    """The catalogue in a module's namespace: every NAME bound to a sentence or a table of them."""
    skip = set(untranslated)
    return {
        name: value
        for name, value in namespace.items()
        if _NAME.fullmatch(name) and name not in skip and isinstance(value, str | tuple | dict)
    }


def entries(source: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(context, English sentence) for every sentence in the catalogue, tables unpacked."""
    for name, value in source.items():
        yield from ((name, text) for text in _leaves(value))


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)


def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue for `code`; English (the ids themselves) when there is none."""
    if code == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[code], fallback=True)


def translate(source: Mapping[str, Any], code: str) -> dict[str, Any]:
    """The whole catalogue in `code`, same names and shapes (tuples stay tuples, table keys stay)."""
    catalogue = translations(code)

    def each(context: str, value: Any) -> Any:
        if isinstance(value, str):
            return catalogue.pgettext(context, value)
        if isinstance(value, tuple):
            return tuple(each(context, item) for item in value)
        return {key: each(context, item) for key, item in value.items()}

    return {name: each(name, value) for name, value in source.items()}
