"""Frames to messages and back: the validation of every field, by the contract's rules."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final, TypeAlias

from server.core import texts
from server.core.protocol.messages import (
    LENGTHS,
    MAX_AVOID_TOKEN_CHARS,
    MAX_AVOID_TOKENS,
    MAX_CLIENT_CHARS,
    MAX_FAVOURITES,
    MAX_ID_CHARS,
    MAX_INSTALL_CHARS,
    MAX_MESSAGE_CHARS,
    MAX_REASON_CHARS,
    MAX_RENDEZVOUS_CHARS,
    MAX_TICKET_CHARS,
    MAX_TOKEN_CHARS,
    MAX_TOPIC_CHARS,
    MIN_INSTALL_CHARS,
    MIN_RENDEZVOUS_CHARS,
    MODES,
    TALKS,
    Avoid,
    Avoiding,
    Cancel,
    ClientMessage,
    Counts,
    Error,
    ErrorCode,
    Find,
    Hello,
    Idle,
    Leave,
    Matched,
    Message,
    Mode,
    Partner,
    PartnerLeft,
    PartnerReconnecting,
    PartnerResumed,
    ProtocolError,
    Queued,
    Replaced,
    Report,
    Reported,
    Resume,
    Resumed,
    ServerMessage,
    Shutdown,
    Signal,
    Skip,
    Study,
    Ticket,
    Welcome,
)

# --- validation helpers -------------------------------------------------------


def _bad(what: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_MESSAGE, what)


def _str(obj: dict[str, Any], key: str, limit: int, *, optional: bool = False) -> Any:
    value = obj.get(key)
    if value is None:
        if optional:
            return None
        raise _bad(texts.FIELD_REQUIRED.format(field=key))
    if not isinstance(value, str):
        raise _bad(texts.FIELD_NOT_STRING.format(field=key))
    if len(value) > limit:
        raise _bad(texts.FIELD_TOO_LONG.format(field=key, limit=limit))
    return value


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if value is None:
        raise _bad(texts.FIELD_REQUIRED.format(field=key))
    # bool is an int in Python but not on the wire.
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(texts.FIELD_NOT_INTEGER.format(field=key))
    return value


def _bool(obj: dict[str, Any], key: str) -> bool:
    value = obj.get(key)
    if not isinstance(value, bool):
        raise _bad(texts.FIELD_NOT_BOOLEAN.format(field=key))
    return value


def _number(obj: dict[str, Any], key: str) -> float:
    value = obj.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise _bad(texts.FIELD_NOT_NUMBER.format(field=key))
    return float(value)


def _object(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise _bad(texts.FIELD_NOT_OBJECT.format(field=key))
    return value


def _mode(obj: dict[str, Any]) -> Mode:
    value = obj.get("mode")
    if value not in MODES:
        raise _bad(texts.MODE_INVALID)
    return value


def normalize_topic(topic: str | None) -> str | None:
    """The canonical topic: trimmed, lower-cased; empty means any topic (None)."""
    if topic is None:
        return None
    topic = topic.strip().lower()
    if len(topic) > MAX_TOPIC_CHARS:
        raise _bad(texts.FIELD_TOO_LONG.format(field="topic", limit=MAX_TOPIC_CHARS))
    return topic or None


def _topic(obj: dict[str, Any]) -> str | None:
    value = obj.get("topic")
    if value is not None and not isinstance(value, str):
        raise _bad(texts.TOPIC_NOT_STRING)
    # Generous before trimming so that " Maths " is not refused for its spaces.
    if value is not None and len(value) > 4 * MAX_TOPIC_CHARS:
        raise _bad(texts.FIELD_TOO_LONG.format(field="topic", limit=MAX_TOPIC_CHARS))
    return normalize_topic(value)


def _partner(obj: dict[str, Any]) -> Partner:
    partner = _object(obj, "partner")
    return Partner(mode=_mode(partner), topic=_topic(partner),
                   avoid=_str(partner, "avoid", MAX_AVOID_TOKEN_CHARS, optional=True))  # fmt: skip


_TOKEN_CHARS: Final = re.compile(r"[A-Za-z0-9_-]+")


def _token(value: Any, field: str, shortest: int, longest: int) -> str:
    """A pseudonym or rendezvous token: base64url's alphabet, within its lengths."""
    if not isinstance(value, str) or not shortest <= len(value) <= longest or not _TOKEN_CHARS.fullmatch(value):
        raise _bad(texts.TOKEN_INVALID.format(field=field, shortest=shortest, longest=longest))
    return value


def _install(obj: dict[str, Any]) -> str | None:
    value = obj.get("install")
    return None if value is None else _token(value, "install", MIN_INSTALL_CHARS, MAX_INSTALL_CHARS)


def _list(obj: dict[str, Any], key: str, most: int) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list) or len(value) > most:
        raise _bad(texts.FIELD_NOT_LIST.format(field=key, most=most))
    return value


def _favourites(obj: dict[str, Any]) -> tuple[str, ...]:
    tokens = _list(obj, "favourites", MAX_FAVOURITES) if obj.get("favourites") is not None else []
    return tuple(dict.fromkeys(_token(t, "favourites", MIN_RENDEZVOUS_CHARS, MAX_RENDEZVOUS_CHARS) for t in tokens))


def _avoid_tokens(obj: dict[str, Any]) -> tuple[str, ...]:
    tokens = _list(obj, "tokens", MAX_AVOID_TOKENS)
    if not tokens or not all(isinstance(t, str) and t and len(t) <= MAX_AVOID_TOKEN_CHARS for t in tokens):
        raise _bad(texts.AVOID_TOKENS_INVALID.format(most=MAX_AVOID_TOKENS, longest=MAX_AVOID_TOKEN_CHARS))
    return tuple(tokens)


def _count(obj: dict[str, Any], key: str) -> int:
    value = _int(obj, key)
    if value < 0:
        raise _bad(texts.FIELD_NOT_INTEGER.format(field=key))
    return value


def _length(obj: dict[str, Any]) -> int | None:
    value = obj.get("length")
    if value is not None and (type(value) is not int or value not in LENGTHS):
        raise _bad(texts.LENGTH_INVALID)
    return value


def _talk(obj: dict[str, Any]) -> str | None:
    value = obj.get("talk")
    if value is not None and value not in TALKS:
        raise _bad(texts.TALK_INVALID)
    return value


def _study(obj: dict[str, Any]) -> Study | None:
    """The session's terms; absent from a server older than study sessions."""
    study = obj.get("study")
    if study is None:
        return None
    if not isinstance(study, dict):
        raise _bad(texts.STUDY_INVALID)
    talk, ends_at, minute = _talk(study), study.get("ends_at"), _int(study, "minute")
    if talk is None or minute <= 0 or (ends_at is not None and type(ends_at) is not int):
        raise _bad(texts.STUDY_INVALID)
    return Study(length=_length(study), talk=talk, started_at=_int(study, "started_at"), ends_at=ends_at,
                 minute=minute, now=_int(study, "now"))  # fmt: skip


def _ticket(obj: dict[str, Any]) -> str | None:
    ticket: str | None = _str(obj, "ticket", MAX_TICKET_CHARS, optional=True)
    return ticket


def _ice_servers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    servers = obj.get("ice_servers")
    if not isinstance(servers, list) or not all(isinstance(s, dict) for s in servers):
        raise _bad(texts.ICE_SERVERS_NOT_LIST)
    for server in servers:
        urls = server.get("urls")
        if not (isinstance(urls, str) or (isinstance(urls, list) and all(isinstance(u, str) for u in urls))):
            raise _bad(texts.ICE_SERVER_WITHOUT_URLS)
    return servers


_CLIENT_DECODERS: Final = {
    "hello": lambda o: Hello(
        protocol=_int(o, "protocol"),
        client=_str(o, "client", MAX_CLIENT_CHARS, optional=True),
        token=_str(o, "token", MAX_TOKEN_CHARS, optional=True),
        resume=_bool(o, "resume") if o.get("resume") is not None else None,
        install=_install(o),
        counts=_bool(o, "counts") if o.get("counts") is not None else None,
    ),
    "find": lambda o: Find(mode=_mode(o), topic=_topic(o), length=_length(o), talk=_talk(o),
                           favourites=_favourites(o)),
    "avoid": lambda o: Avoid(tokens=_avoid_tokens(o)),
    "cancel": lambda o: Cancel(),
    "signal": lambda o: Signal(session=_str(o, "session", MAX_ID_CHARS), data=_object(o, "data")),
    "skip": lambda o: Skip(session=_str(o, "session", MAX_ID_CHARS, optional=True)),
    "leave": lambda o: Leave(session=_str(o, "session", MAX_ID_CHARS, optional=True)),
    "report": lambda o: Report(
        session=_str(o, "session", MAX_ID_CHARS),
        reason=_str(o, "reason", MAX_REASON_CHARS),
    ),
    "resume": lambda o: Resume(ticket=_str(o, "ticket", MAX_TICKET_CHARS)),
}

_SERVER_DECODERS: Final = {
    "welcome": lambda o: Welcome(
        protocol=_int(o, "protocol"),
        id=_str(o, "id", MAX_ID_CHARS),
        ice_servers=_ice_servers(o),
        limits=_object(o, "limits"),
    ),
    "queued": lambda o: Queued(mode=_mode(o), topic=_topic(o), length=_length(o), talk=_talk(o), ticket=_ticket(o),
                               favourite=o.get("favourite") is True),
    "matched": lambda o: Matched(
        session=_str(o, "session", MAX_ID_CHARS),
        initiator=_bool(o, "initiator"),
        partner=_partner(o),
        study=_study(o),
        ticket=_ticket(o),
        favourite=None if o.get("favourite") is None
        else _token(o["favourite"], "favourite", MIN_RENDEZVOUS_CHARS, MAX_RENDEZVOUS_CHARS),
    ),
    "avoiding": lambda o: Avoiding(count=_int(o, "count")),
    "counts": lambda o: Counts(online=_count(o, "online"), video=_count(o, "video"), audio=_count(o, "audio"),
                               topic=None if o.get("topic") is None else _count(o, "topic")),
    "resumed": lambda o: Resumed(
        session=_str(o, "session", MAX_ID_CHARS),
        initiator=_bool(o, "initiator"),
        partner=_partner(o),
        study=_study(o),
        ticket=_ticket(o),
    ),
    "partner_reconnecting": lambda o: PartnerReconnecting(session=_str(o, "session", MAX_ID_CHARS)),
    "partner_resumed": lambda o: PartnerResumed(session=_str(o, "session", MAX_ID_CHARS)),
    "ticket": lambda o: Ticket(ticket=_str(o, "ticket", MAX_TICKET_CHARS)),
    "replaced": lambda o: Replaced(session=_str(o, "session", MAX_ID_CHARS)),
    "signal": _CLIENT_DECODERS["signal"],
    "partner_left": lambda o: PartnerLeft(
        session=_str(o, "session", MAX_ID_CHARS), reason=_str(o, "reason", MAX_REASON_CHARS)
    ),
    "idle": lambda o: Idle(),
    "reported": lambda o: Reported(session=_str(o, "session", MAX_ID_CHARS)),
    "error": lambda o: Error(
        code=_str(o, "code", MAX_ID_CHARS), message=_str(o, "message", MAX_MESSAGE_CHARS)
    ),
    "shutdown": lambda o: Shutdown(retry_after=_number(o, "retry_after")),
}

CLIENT_TYPES: Final = frozenset(_CLIENT_DECODERS)
SERVER_TYPES: Final = frozenset(_SERVER_DECODERS)


Loads: TypeAlias = Callable[[str], Any]


def parse_object(frame: str | bytes, loads: Loads = json.loads) -> dict[str, Any]:
    """The JSON object in a text frame; binary frames and non-objects are refused.

    `loads` lets a caller on a hot path bring a faster parser (the server uses
    orjson when it is installed); it must raise ValueError on invalid JSON.
    """
    if isinstance(frame, (bytes, bytearray, memoryview)):
        raise _bad(texts.BINARY_FRAME)
    try:
        obj = loads(frame)
    except (ValueError, RecursionError):
        raise ProtocolError(ErrorCode.BAD_JSON, texts.NOT_JSON) from None
    if not isinstance(obj, dict):
        raise ProtocolError(ErrorCode.BAD_JSON, texts.NOT_JSON_OBJECT)
    return obj


def _decode(frame: str | bytes, decoders: dict[str, Any], loads: Loads) -> Any:
    obj = parse_object(frame, loads)
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise _bad(texts.TYPE_REQUIRED)
    decoder = decoders.get(kind)
    if decoder is None:
        raise ProtocolError(ErrorCode.UNKNOWN_TYPE, texts.UNKNOWN_TYPE.format(name=repr(kind[:40])))
    return decoder(obj)


def decode_client(frame: str | bytes, loads: Loads = json.loads) -> ClientMessage:
    """A client's frame as a message; raises `ProtocolError` with the wire code."""
    return _decode(frame, _CLIENT_DECODERS, loads)


def decode_server(frame: str | bytes, loads: Loads = json.loads) -> ServerMessage:
    """A server's frame as a message; raises `ProtocolError` with the wire code."""
    return _decode(frame, _SERVER_DECODERS, loads)


_OMITTED_WHEN_NONE: Final = frozenset({"client", "token", "session", "ticket", "resume", "study", "install", "counts"})


def to_wire(message: Message) -> dict[str, Any]:
    """The JSON object for a message; optional fields left unset are omitted."""
    obj: dict[str, Any] = {"type": message.type}
    for name in message.__dataclass_fields__:
        if name == "type":
            continue
        value = getattr(message, name)
        if isinstance(value, Partner):
            value = {"mode": value.mode, "topic": value.topic}
            if message.partner.avoid is not None:  # type: ignore[union-attr]
                value["avoid"] = message.partner.avoid  # type: ignore[union-attr]
        elif isinstance(value, Study):
            value = {name: getattr(value, name) for name in value.__dataclass_fields__}
        elif value is None and name in _OMITTED_WHEN_NONE:
            continue
        elif name in ("favourites", "favourite") and not value:
            continue  # an ordinary search: the frame as before favourites
        elif isinstance(value, tuple):
            value = list(value)
        obj[name] = value
    return obj


def encode(message: Message) -> str:
    """The text frame for a message."""
    return json.dumps(to_wire(message), separators=(",", ":"), ensure_ascii=False)
