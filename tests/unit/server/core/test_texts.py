"""server/core/texts.py is the one catalogue of the server's sentences, and it is translatable.

Read from the source with `ast`: every sentence is marked for gettext, every
call site passes exactly the placeholders its sentence names, and no sentence
is written inline where the server sends or shows one.
"""

from __future__ import annotations

import ast
import json
import os
import string
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.core import texts

SERVER = Path(__file__).resolve().parents[4] / "server"
TEXTS = SERVER / "core" / "texts.py"
NOT_SENTENCES = {"DOMAIN", "LOCALE_DIR"}

# Strings that reach a person but are deliberately not in the catalogue, and why.
INLINE = {
    # Guards for a programmer passing a bad argument; the options are checked first
    # (server/config.py), so no operator or user ever reads these.
    "rate must be positive and burst at least 1",
    "limit must be at least 1 and window positive",
    "threshold must be at least 1, window positive, penalty not negative",
    "the lease must be longer than the heartbeat interval",
    "subject must be 1-64 characters of A-Z a-z 0-9 _ -",
    "unknown envelope kind {}",
    "client {} is already connected",
    "no dispatch for {}",  # a message type the session forgot: a bug, never a state
    # Not sentences: the line scripts read (server/cli.py) and the program's name before a sentence.
    "listening on {}",
    "studymatch-server: {}",
}
# Calls that carry a sentence, and the position of the sentence among their arguments.
SENTENCE_ARGUMENT = {"ProtocolError": 1, "Error": 1, "close": 1, "fail": 1, "_response": 1,
                     "plain_response": 1, "_bad": 0, "print": 0, "error": 0}
SENTENCE_KEYWORDS = {"message"}  # `reason=` is a label (partner_left, the log's events), not a sentence


def catalogue() -> dict[str, str]:
    return {name: value for name, value in vars(texts).items()
            if name.isupper() and name not in NOT_SENTENCES and isinstance(value, str)}


def placeholders(sentence: str) -> set[str]:
    return {field.split(".")[0].split("[")[0]
            for _, field, _, _ in string.Formatter().parse(sentence) if field is not None}


def modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in sorted(SERVER.rglob("*.py"))
            if path != TEXTS]


@dataclass(frozen=True)
class Use:
    where: str
    name: str
    keywords: frozenset[str] | None  # None: used as it is, not formatted


def uses() -> list[Use]:
    """Every `texts.NAME` and `texts.NAME.format(...)` in server/."""
    found: list[Use] = []
    for path, tree in modules():
        formatted: set[int] = set()
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "format" and _is_entry(node.func.value)):
                entry = node.func.value
                assert isinstance(entry, ast.Attribute)
                where = f"{path.relative_to(SERVER.parent)}:{node.lineno}"
                assert not node.args and all(k.arg for k in node.keywords), f"{where}: pass placeholders by name"
                found.append(Use(where, entry.attr, frozenset(k.arg for k in node.keywords if k.arg)))
                formatted.add(id(entry))
        for node in ast.walk(tree):
            if _is_entry(node) and id(node) not in formatted:
                assert isinstance(node, ast.Attribute)
                found.append(Use(f"{path.relative_to(SERVER.parent)}:{node.lineno}", node.attr, None))
    return found


def _is_entry(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == "texts" and node.attr.isupper())


def test_every_sentence_is_marked_for_gettext_extraction() -> None:
    marked = set()
    for node in ast.parse(TEXTS.read_text()).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name, value = node.target.id, node.value
            if name in NOT_SENTENCES:
                continue
            # xgettext extracts only a literal inside the marker: _("..."), adjacent literals joined.
            assert (isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "_"
                    and len(value.args) == 1 and isinstance(value.args[0], ast.Constant)
                    and isinstance(value.args[0].value, str)), f"{name} is not _(\"a literal\")"
            marked.add(name)
    assert marked == set(catalogue())
    assert texts.DOMAIN == "studymatch-server"


def test_english_is_the_default_without_translations() -> None:
    # As shipped there is no .mo file: gettext falls back to the sentences as written.
    assert not texts.LOCALE_DIR.exists()
    assert texts.HELLO_REQUIRED == "the first message must be hello"
    assert texts.UNKNOWN_TYPE.format(name=repr("nope")) == "unknown message type 'nope'"


def test_placeholders_are_the_names_the_code_passes() -> None:
    entries, found = catalogue(), uses()
    for use in found:
        assert use.name in entries, f"{use.where}: texts.{use.name} is not in the catalogue"
        sentence = entries[use.name]
        if use.keywords is None:
            assert not placeholders(sentence), f"{use.where}: texts.{use.name} is sent unformatted"
        else:
            assert use.keywords == placeholders(sentence), (
                f"{use.where}: texts.{use.name} names {sorted(placeholders(sentence))}, "
                f"the code passes {sorted(use.keywords)}")
            sentence.format(**dict.fromkeys(use.keywords, 1))  # and formats with them
    unused = set(entries) - {use.name for use in found}
    assert not unused, f"sentences nobody says: {sorted(unused)}"


def test_the_catalogue_is_imported_as_a_module() -> None:
    # Else `uses()` could not see every call site.
    for path, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "server.core.texts":
                pytest.fail(f"{path}: import the module (from server.core import texts), not names")
            if isinstance(node, ast.ImportFrom) and node.module == "server.core":
                assert all(a.asname in (None, "texts") for a in node.names if a.name == "texts"), path


def inline_sentences(trees: list[tuple[str, ast.Module]]) -> list[tuple[str, str]]:
    """(where, text) of every sentence written in place of a catalogue entry."""
    found = []
    for where, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else (
                node.func.attr if isinstance(node.func, ast.Attribute) else "")
            candidates = [k.value for k in node.keywords if k.arg in SENTENCE_KEYWORDS]
            index = SENTENCE_ARGUMENT.get(name, 0 if name.endswith(("Error", "Exception")) else None)
            if index is not None and len(node.args) > index:
                candidates.append(node.args[index])
            for arg in candidates:
                text = _literal(arg)
                if text and text not in INLINE:
                    found.append((f"{where}:{node.lineno}", text))
    return found


def _literal(node: ast.expr) -> str | None:
    """A string written in place: a literal, or an f-string with `{}` for what it interpolates."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value or None
    if isinstance(node, ast.JoinedStr):
        return "".join(str(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values)
    return None


def test_no_sentence_is_written_outside_the_catalogue() -> None:
    assert inline_sentences([(str(path.relative_to(SERVER.parent)), tree) for path, tree in modules()]) == []


def test_the_check_sees_inline_sentences() -> None:
    # The scan above must catch what it exists to catch, and pass what it must pass.
    source = (
        'raise p.ProtocolError(p.ErrorCode.BAD_MESSAGE, f"no {x} here")\n'
        'conn.close(CloseCode.GOING_AWAY, "bye now")\n'
        'conn.send(p.Error(code="bad_json", message="not json"))\n'
        'raise RuntimeError("broken")\n'
        'conn.close(CloseCode.NORMAL_CLOSURE, "")\n'
        'conn.fail(p.ProtocolError(p.ErrorCode.RATE_LIMITED, texts.RATE_LIMITED))\n'
        'event("dropped", reason="abuse")\n'
        'raise ValueError("client {} is already connected")\n'
    )
    assert sorted(inline_sentences([("x.py", ast.parse(source))])) == [
        ("x.py:1", "no {} here"), ("x.py:2", "bye now"), ("x.py:3", "not json"), ("x.py:4", "broken")]


def write_mo(path: Path, translations: dict[str, str]) -> None:
    """A GNU gettext catalogue (.mo), as msgfmt writes it, without the hash table."""
    entries = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **translations}.items())
    ids = [key.encode() for key, _ in entries]
    strs = [value.encode() for _, value in entries]
    header = 7 * 4
    ids_at = header + 2 * 8 * len(entries)  # the strings follow both tables
    table: list[int] = []
    offset = ids_at
    for data in ids:
        table += [len(data), offset]
        offset += len(data) + 1
    for data in strs:
        table += [len(data), offset]
        offset += len(data) + 1
    head = [0x950412DE, 0, len(entries), header, header + 8 * len(entries), 0, 0]
    blob = struct.pack(f"<{len(head) + len(table)}I", *head, *table)
    path.parent.mkdir(parents=True)
    path.write_bytes(blob + b"".join(data + b"\0" for data in (*ids, *strs)))


def test_a_translation_is_used_when_the_locale_has_one(tmp_path: Path) -> None:
    # A pseudo-translation of every sentence, in a locale directory of its own; the child
    # process points gettext there (texts.py looks in server/locale, which we must not write).
    pseudo = {sentence: f"«{sentence}»" for sentence in catalogue().values()}
    write_mo(tmp_path / "eo" / "LC_MESSAGES" / f"{texts.DOMAIN}.mo", pseudo)
    child = (
        "import gettext, json, sys\n"
        "real = gettext.translation\n"
        "gettext.translation = lambda domain, localedir=None, **kw: real(domain, sys.argv[1], **kw)\n"
        "from server.core import texts\n"
        "print(json.dumps({n: v for n, v in vars(texts).items() if n.isupper() and isinstance(v, str)}))\n"
    )
    env = {**os.environ, "LANGUAGE": "eo", "LC_ALL": "C.UTF-8"}
    run = subprocess.run([sys.executable, "-c", child, str(tmp_path)], capture_output=True, text=True,
                         env=env, cwd=SERVER.parent, check=True)
    translated = json.loads(run.stdout)
    assert {name: translated[name] for name in catalogue()} == {
        name: f"«{sentence}»" for name, sentence in catalogue().items()}
    assert translated["HELLO_TIMEOUT"].format(seconds=10) == "«no hello arrived within 10 seconds»"
