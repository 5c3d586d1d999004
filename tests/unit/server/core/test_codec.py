"""The server's two JSON codecs (stdlib json, orjson) mean the same messages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import codec
from server.core import protocol as p

CODECS = [codec.STANDARD, codec.FAST]  # the test extra installs orjson: FAST must exist
SERVER_MESSAGES: list[p.ServerMessage] = [
    p.Welcome(id="abc", ice_servers=[{"urls": "stun:stun.example.org"}], limits={"max_frame_bytes": 65536}),
    p.Queued(mode="video", topic=None),
    p.Matched(session="s1", initiator=True, partner=p.Partner(mode="audio", topic="maths")),
    p.Signal(session="s1", data={"sdp": "v=0\r\nä", "n": [1, 2.5, None, True]}),
    p.PartnerLeft(session="s1", reason="skipped"),
    p.Idle(),
    p.Reported(session="s1"),
    p.Error(code="bad_json", message="the frame is not valid JSON"),
    p.Shutdown(retry_after=5.0),
]


def test_orjson_is_installed_for_the_tests() -> None:
    assert codec.FAST is not None and codec.best() is codec.FAST


@pytest.mark.parametrize("chosen", CODECS, ids=lambda c: c.name if c else "missing")
@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=lambda m: m.type)
def test_every_server_message_encodes_to_the_schemas_json(
    chosen: codec.Codec, message: p.ServerMessage
) -> None:
    encoded = chosen.encode(message)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded) == json.loads(p.encode(message))
    assert p.decode_server(encoded.decode()) == message


@pytest.mark.parametrize("chosen", CODECS, ids=lambda c: c.name if c else "missing")
@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "bad_json"),
        ("[1]", "bad_json"),
        (b'{"type":"cancel"}', "bad_message"),
        ('{"type":"signal","session":"s","data":[]}', "bad_message"),
        ('{"type":"nope"}', "unknown_type"),
        ("[" * 5000 + "]" * 5000, "bad_json"),
    ],
)
def test_both_codecs_refuse_alike(chosen: codec.Codec, frame: str | bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as refused:
        chosen.decode_client(frame)
    assert refused.value.code == code


@pytest.mark.parametrize("chosen", CODECS, ids=lambda c: c.name if c else "missing")
def test_both_codecs_decode_alike(chosen: codec.Codec) -> None:
    frame = '{"type":"signal","session":"s1","data":{"candidate":"a=1 é","sdpMid":"0","i":3},"extra":1}'
    assert chosen.decode_client(frame) == p.decode_client(frame)


def test_the_fast_codec_refuses_what_is_not_json() -> None:
    # The stdlib accepts NaN and would relay it as invalid JSON; orjson refuses it.
    with pytest.raises(p.ProtocolError) as refused:
        codec.best().decode_client('{"type":"signal","session":"s","data":{"x":NaN}}')
    assert refused.value.code == "bad_json"


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_SIGNALISH = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["signal", "Signal", "find", ""]) | _JSON,
        # Sessions around the length limit, and not strings.
        "session": st.integers(0, p.MAX_ID_CHARS + 2).map(lambda n: "s" * n) | _JSON,
        "data": st.dictionaries(st.text(max_size=5), _JSON, max_size=3) | _JSON,
        "extra": _JSON,
    },
)


def _answer(chosen: codec.Codec, frame: str) -> object:
    try:
        message = chosen.decode_client(frame)
    except p.ProtocolError:
        return None
    return (message.session, message.data) if type(message) is p.Signal else None


@pytest.mark.parametrize("chosen", CODECS, ids=lambda c: c.name if c else "missing")
@settings(max_examples=300)
@given(
    frame=st.one_of(
        _SIGNALISH.map(json.dumps),
        _JSON.map(json.dumps),
        st.text(max_size=20),
        st.sampled_from(['{"type":"signal","session":"s","data":{}', "[" * 5000 + "]" * 5000, "nan"]),
    )
)
def test_every_codec_reads_signals_as_the_standard_one(chosen: codec.Codec, frame: str) -> None:
    # The relay's message: the same signals accepted, with the same fields, whichever parser runs.
    assert _answer(chosen, frame) == _answer(codec.STANDARD, frame)


@pytest.mark.parametrize("chosen", CODECS, ids=lambda c: c.name if c else "missing")
@pytest.mark.parametrize(
    "obj",
    [
        {"type": "signal", "session": "s1", "data": {"sdp": "v=0"}},
        {"type": "signal", "session": "s" * p.MAX_ID_CHARS, "data": {}},
        {"type": "signal", "session": "s" * (p.MAX_ID_CHARS + 1), "data": {}},
        {"type": "signal", "session": "", "data": {}, "extra": 1},
        {"type": "signal", "data": {}},
        {"type": "signal", "session": None, "data": {}},
        {"type": "signal", "session": 5, "data": {}},
        {"type": "signal", "session": "s1"},
        {"type": "signal", "session": "s1", "data": []},
        {"type": "signal", "session": "s1", "data": None},
        {"type": "find", "session": "s1", "data": {}},
        {"session": "s1", "data": {}},
    ],
)
def test_signal_rules_are_the_same_with_every_codec(chosen: codec.Codec, obj: dict[str, object]) -> None:
    frame = json.dumps(obj)
    assert _answer(chosen, frame) == _answer(codec.STANDARD, frame)
