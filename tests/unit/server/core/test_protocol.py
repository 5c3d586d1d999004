"""The schema module: every message round-trips, every malformed frame gets its code."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.core import protocol as p

CLIENT_MESSAGES: list[p.ClientMessage] = [
    p.Hello(),
    p.Hello(protocol=1, client="studymatch/0.1", token="secret"),
    p.Find("video"),
    p.Find("audio", "maths"),
    p.Cancel(),
    p.Signal("s1", {"sdp": "v=0\r\n", "type": "offer"}),
    p.Skip(),
    p.Skip("s1"),
    p.Leave(),
    p.Leave("s1"),
    p.Report("s1", "rude"),
    p.Hello(resume=True),
    p.Find("video", "maths", 25, "quiet"),
    p.Find("audio", None, None, "talk"),
    p.Find("audio", None, 75),
    p.Resume("t.k"),
    p.Hello(install="AbCdEfGhIjKlMnOpQrStUv", counts=True),
    p.Find("video", favourites=("x" * 43, "y" * 16)),
    p.Avoid(("a1.sealed", "another")),
]

SERVER_MESSAGES: list[p.ServerMessage] = [
    p.Welcome("c1", [{"urls": ["stun:stun.example.org:3478"]}], {"max_frame_bytes": 65536}),
    p.Welcome("c1", [{"urls": "turn:t.example.org", "username": "u", "credential": "c"}], {}),
    p.Queued("video", None),
    p.Queued("audio", "physics"),
    p.Matched("s1", True, p.Partner("video", None)),
    p.Matched("s1", False, p.Partner("audio", "maths")),
    p.Matched("s1", True, p.Partner("video", None), ticket="t.k"),
    p.Queued("video", None, ticket="t.k"),
    p.Resumed("s1", True, p.Partner("video", "maths"), "t.k"),
    p.Queued("video", "maths", 50, "quiet"),
    p.Matched("s1", True, p.Partner("video", None), study=p.Study(50, "quiet", 1_000, 3_001_000, 60_000, 1_200)),
    p.Matched("s1", False, p.Partner("audio", None), study=p.Study(None, "talk", 1_000, None, 50, 1_200)),
    p.Resumed("s1", False, p.Partner("video", None), "t.k", p.Study(25, "talk", 1_000, 1_501_000, 60_000, 9_000)),
    p.PartnerReconnecting("s1"),
    p.PartnerResumed("s1"),
    p.Ticket("t.k"),
    p.Replaced("s1"),
    p.Signal("s1", {"candidate": "x"}),
    *(p.PartnerLeft("s1", reason) for reason in p.LEFT_REASONS),
    p.Idle(),
    p.Reported("s1"),
    *(p.Error(code, "a sentence") for code in p.ALL_ERROR_CODES),
    p.Shutdown(5.0),
    p.Queued("video", "maths", favourite=True),
    p.Matched("s1", False, p.Partner("video", None, avoid="a1.sealed"), favourite="x" * 43),
    p.Resumed("s1", True, p.Partner("audio", "maths", avoid="a1.sealed"), "t.k"),
    p.Avoiding(3),
    p.Counts(online=41, video=6, audio=2, topic=1),
    p.Counts(online=1, video=1, audio=0, topic=None),
]


@pytest.mark.parametrize("message", CLIENT_MESSAGES, ids=repr)
def test_client_messages_round_trip(message: p.ClientMessage) -> None:
    assert p.decode_client(p.encode(message)) == message


@pytest.mark.parametrize("message", SERVER_MESSAGES, ids=repr)
def test_server_messages_round_trip(message: p.ServerMessage) -> None:
    assert p.decode_server(p.encode(message)) == message


def test_every_type_of_the_contract_is_covered() -> None:
    assert {m.type for m in CLIENT_MESSAGES} == p.CLIENT_TYPES
    assert {m.type for m in SERVER_MESSAGES} == p.SERVER_TYPES


def test_unset_optional_fields_are_left_out_of_the_frame() -> None:
    assert json.loads(p.encode(p.Skip())) == {"type": "skip"}
    assert json.loads(p.encode(p.Hello())) == {"type": "hello", "protocol": 1}
    # An old client's view of the queue: no ticket unless it said `resume` in hello.
    assert json.loads(p.encode(p.Queued("audio", None))) == {
        "type": "queued", "mode": "audio", "topic": None, "length": None, "talk": None
    }
    # A server older than study sessions sends no `study`: it decodes as None.
    assert "study" not in json.loads(p.encode(p.Matched("s1", True, p.Partner("video", None))))


def test_unknown_fields_are_ignored() -> None:
    assert p.decode_client('{"type":"find","mode":"audio","future":[1,2]}') == p.Find("audio")


def test_topics_are_trimmed_lowercased_and_empty_means_any() -> None:
    assert p.decode_client('{"type":"find","mode":"video","topic":"  Organic Chemistry "}') == p.Find(
        "video", "organic chemistry"
    )
    assert p.decode_client('{"type":"find","mode":"video","topic":"   "}') == p.Find("video", None)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", p.ErrorCode.BAD_JSON),
        ("[1, 2]", p.ErrorCode.BAD_JSON),
        ('"hello"', p.ErrorCode.BAD_JSON),
        ("{", p.ErrorCode.BAD_JSON),
        ("[" * 100_000, p.ErrorCode.BAD_JSON),
        (b'{"type":"cancel"}', p.ErrorCode.BAD_MESSAGE),
        ("{}", p.ErrorCode.BAD_MESSAGE),
        ('{"type": 7}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"dance"}', p.ErrorCode.UNKNOWN_TYPE),
        ('{"type":"welcome","id":"x"}', p.ErrorCode.UNKNOWN_TYPE),
        ('{"type":"hello"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"hello","protocol":true}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"hello","protocol":"1"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"hello","protocol":1,"client":5}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"VIDEO"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","topic":3}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","topic":"' + "x" * 33 + '"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","length":30}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","length":"25"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","length":25.0}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","length":true}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","talk":"loud"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"find","mode":"video","talk":1}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"signal","session":"s"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"signal","session":"s","data":"sdp"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"signal","data":{}}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"signal","session":"' + "s" * 65 + '","data":{}}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"skip","session":1}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"report","session":"s"}', p.ErrorCode.BAD_MESSAGE),
        ('{"type":"report","session":"s","reason":"' + "r" * 201 + '"}', p.ErrorCode.BAD_MESSAGE),
    ],
)
def test_malformed_client_frames_get_their_code(frame: str | bytes, code: str) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_client(frame)
    assert caught.value.code == code
    assert caught.value.message  # a human-readable sentence goes with every code


def test_server_frames_are_validated_too() -> None:
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_server('{"type":"matched","session":"s","initiator":1,"partner":{"mode":"video"}}')
    assert caught.value.code == p.ErrorCode.BAD_MESSAGE
    with pytest.raises(p.ProtocolError):
        p.decode_server('{"type":"welcome","protocol":1,"id":"c","ice_servers":[{"urls":5}],"limits":{}}')


def test_fatal_codes_are_the_ones_that_close_the_connection() -> None:
    assert p.FATAL_ERROR_CODES == {"hello_required", "unsupported_protocol", "unauthorized"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


@given(
    st.dictionaries(
        st.sampled_from(["type", "mode", "topic", "session", "data", "protocol", "reason"]),
        json_values | st.sampled_from(sorted(p.CLIENT_TYPES)),
        max_size=6,
    )
)
def test_decoding_any_object_either_succeeds_or_raises_a_protocol_error(obj: dict[str, object]) -> None:
    try:
        message = p.decode_client(json.dumps(obj))
    except p.ProtocolError as error:
        assert error.code in p.ALL_ERROR_CODES
    else:
        assert p.decode_client(p.encode(message)) == message


@given(st.binary(max_size=200) | st.text(max_size=200))
def test_decoding_arbitrary_frames_never_raises_anything_else(frame: bytes | str) -> None:
    try:
        p.decode_client(frame)
    except p.ProtocolError as error:
        assert error.code in (p.ErrorCode.BAD_JSON, p.ErrorCode.BAD_MESSAGE, p.ErrorCode.UNKNOWN_TYPE)


@pytest.mark.parametrize(
    "study",
    [
        '"50"',
        '{"length":50,"talk":"quiet","started_at":1,"ends_at":2,"minute":60000}',
        '{"length":50,"started_at":1,"ends_at":2,"minute":60000,"now":3}',
        '{"length":50,"talk":"quiet","started_at":1,"ends_at":"2","minute":60000,"now":3}',
        '{"length":50,"talk":"quiet","started_at":1,"ends_at":2,"minute":0,"now":3}',
        '{"length":40,"talk":"quiet","started_at":1,"ends_at":2,"minute":60000,"now":3}',
    ],
)
def test_a_matched_with_broken_study_terms_is_refused_whole(study: str) -> None:
    frame = '{"type":"matched","session":"s","initiator":true,"partner":{"mode":"video"},"study":' + study + "}"
    with pytest.raises(p.ProtocolError) as caught:
        p.decode_server(frame)
    assert caught.value.code == p.ErrorCode.BAD_MESSAGE
