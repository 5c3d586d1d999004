"""The server's two JSON codecs (stdlib json, orjson) mean the same messages."""

from __future__ import annotations

import json

import pytest

from server import codec
from server import protocol as p

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
