"""The partners' state messages (client/peerstate.py) and the event they become.

A partner is untrusted: whatever arrives on the `state` channel must either
decode to a well-typed state or be refused with PeerStateError, never crash
or confuse the client.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client import events as ev
from client.eventformat import to_json_line, to_text
from client.peerstate import (
    MAX_STATE_CHARS,
    STUDY_FIELDS,
    News,
    PeerState,
    PeerStateError,
    PeerStateLink,
    decode_peer_state,
    encode_peer_state,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize(
    ("message", "state"),
    [
        ('{"camera":false}', PeerState(camera=False)),
        ('{"camera": true}', PeerState(camera=True)),
        ("{}", PeerState()),
        ('{"camera":null}', PeerState()),
        # Unknown fields are ignored: a later version may say more.
        ('{"camera":true,"mic":false,"future":{"x":[1,2]}}', PeerState(camera=True)),
        ('{"mic":false}', PeerState()),
    ],
)
def test_good_messages(message: str, state: PeerState) -> None:
    assert decode_peer_state(message) == state


@pytest.mark.parametrize(
    "message",
    [
        b'{"camera":false}',  # binary: we only ever send text
        '{"camera":0}',  # 0/1 are not true/false
        '{"camera":1}',
        '{"camera":"false"}',
        '{"camera":[false]}',
        '{"camera":{}}',
        "[]",
        '"camera"',
        "false",
        "null",
        "",
        "{",
        '{"camera":false',
        "NaN",
        "[" * 400 + "]" * 400,  # deep, but within the size bound
        None,
        42,
    ],
)
def test_bad_messages_are_refused(message: object) -> None:
    with pytest.raises(PeerStateError):
        decode_peer_state(message)


def test_oversized_messages_are_refused_before_parsing() -> None:
    padded = '{"camera":false,"pad":"' + "x" * MAX_STATE_CHARS + '"}'
    with pytest.raises(PeerStateError, match="longer"):
        decode_peer_state(padded)
    just_fits = '{"camera":false,"pad":"' + "x" * (MAX_STATE_CHARS - 25) + '"}'
    assert len(just_fits) <= MAX_STATE_CHARS
    assert decode_peer_state(just_fits) == PeerState(camera=False)


@settings(max_examples=300)
@given(st.text(max_size=600) | st.binary(max_size=100) | json_values.map(json.dumps))
def test_anything_decodes_to_a_typed_state_or_is_refused(message: str | bytes) -> None:
    try:
        state = decode_peer_state(message)
    except PeerStateError:
        return
    assert state.camera is None or type(state.camera) is bool


@given(st.dictionaries(st.text(max_size=10), json_values, max_size=5), st.booleans())
def test_unknown_fields_never_change_the_camera(extra: dict[str, object], camera: bool) -> None:
    extra = {name: value for name, value in extra.items() if name not in ("beat", *STUDY_FIELDS)}
    extra["camera"] = camera
    message = json.dumps(extra)
    if len(message) <= MAX_STATE_CHARS:
        assert decode_peer_state(message) == PeerState(camera=camera)


@pytest.mark.parametrize("camera", [True, False, None])
def test_encode_round_trips(camera: bool | None) -> None:
    message = encode_peer_state(PeerState(camera=camera))
    if camera is None:
        assert message is None  # nothing to say, nothing sent
    else:
        assert message is not None and decode_peer_state(message) == PeerState(camera=camera)
        assert message == f'{{"camera":{json.dumps(camera)}}}'  # compact


def test_link_reports_news_only() -> None:
    link = PeerStateLink(video_call=True)
    assert link.received('{"camera":true}') is True  # first said: news, so "on" is shown too
    assert link.received('{"camera":true}') is None
    assert link.received('{"other":1}') is None
    assert link.received('{"camera":false}') is False
    assert link.received('{"camera":false}') is None
    assert link.received('{"camera":true}') is True
    assert link.partner_camera is True


def test_link_keeps_the_known_state_across_refused_messages() -> None:
    link = PeerStateLink(video_call=True)
    assert link.received('{"camera":false}') is False
    for bad in ('{"camera":1}', b"\x00", "x" * 10_000):
        with pytest.raises(PeerStateError):
            link.received(bad)
    assert link.refused == 3 and link.partner_camera is False
    assert link.received('{"camera":false}') is None


def test_audio_calls_send_nothing_and_ignore_camera_claims() -> None:
    link = PeerStateLink(video_call=False)
    assert link.message(camera_on=True) is None and link.message(camera_on=False) is None
    assert link.received('{"camera":false}') is None
    assert link.partner_camera is None


def test_video_calls_send_the_camera_state() -> None:
    link = PeerStateLink(video_call=True)
    assert link.message(camera_on=False) == '{"camera":false,"screen":false}'
    assert link.message(camera_on=True) == '{"camera":true,"screen":false}'


def test_a_shared_screen_is_a_live_picture_for_clients_that_do_not_know_screen() -> None:
    link = PeerStateLink(video_call=True)
    for camera_on in (True, False):
        message = link.message(camera_on=camera_on, screen=True)
        assert message == '{"camera":true,"screen":true}'
        assert decode_peer_state(message) == PeerState(camera=True, screen=True)
    assert PeerStateLink(video_call=False).message(camera_on=True, screen=True) is None


def test_the_partner_screen_is_news_when_it_changes_only() -> None:
    link = PeerStateLink(video_call=True)
    assert link.news('{"camera":true,"screen":false}') == News(camera=True)  # not sharing: no news
    assert link.news('{"camera":true,"screen":true}') == News(screen=True)
    assert link.news('{"beat":3}') == News()  # a message that does not say changes nothing
    assert link.partner_screen is True
    assert link.news('{"camera":false,"screen":false}') == News(camera=False, screen=False)
    assert link.news('{"camera":false}') == News()  # an older client: never sharing
    for bad in ('{"screen":1}', '{"screen":"yes"}', '{"screen":null,"camera":0}'):
        with pytest.raises(PeerStateError):
            link.news(bad)
    assert link.partner_screen is False
    audio = PeerStateLink(video_call=False)
    assert audio.news('{"camera":true,"screen":true}') == News() and audio.partner_screen is False


def test_partner_camera_event_lines() -> None:
    line = to_json_line(ev.PartnerCamera("s1", False), 1.5)
    assert line is not None
    assert json.loads(line) == {"event": "partner_camera", "t": 1.5, "session": "s1", "on": False}
    assert to_text(ev.PartnerCamera("s1", False)) == "your partner's camera is off"
    assert to_text(ev.PartnerCamera("s1", True)) == "your partner's camera is on"


def test_beats_go_both_ways_and_older_messages_still_read() -> None:
    from client.peerstate import PeerStateLink, decode_peer_state

    link = PeerStateLink(video_call=True)
    assert link.beat_message() == '{"beat":1}'
    assert link.beat_message() == '{"beat":2}'
    assert link.received('{"beat":7}') is None and link.beat == 7
    assert link.received('{"camera":false}') is False and link.beat is None
    assert decode_peer_state('{"camera":true,"beat":3}').beat == 3
    for bad in ('{"beat":true}', '{"beat":"1"}', '{"beat":1.5}'):
        try:
            decode_peer_state(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad} accepted")


# --- the study fields (docs/protocol.md, "The study session between the two clients") ---


def test_a_whole_study_state_goes_round_unchanged() -> None:
    from client.study import Checkout, StudyState

    study = StudyState(goal="é" * 140, ready=True, checkout=Checkout("partly", "ñ" * 280), brb=123,
                       pomodoro=(True, 456))  # fmt: skip
    message = PeerStateLink(video_call=True).study_message(study)
    assert len(message) <= MAX_STATE_CHARS  # the longest goal and note fit, unescaped
    assert decode_peer_state(message).study == study


def test_a_message_with_no_study_field_says_nothing_about_the_session() -> None:
    assert decode_peer_state('{"camera":true}').study is None
    assert decode_peer_state('{"goal":"x"}').study is not None


@pytest.mark.parametrize("fields", [
    {"goal": "g" * 141},
    {"goal": 3},
    {"ready": 1},
    {"brb": 1.5},
    {"brb": "soon"},
    {"checkout": {"done": "maybe", "note": ""}},
    {"checkout": {"done": "yes", "note": "n" * 281}},
    {"checkout": {"done": "yes", "extra": 1}},
    {"checkout": "yes"},
    {"pomodoro": [1, 2]},
    {"pomodoro": [True]},
    {"pomodoro": [True, 2.0]},
])  # fmt: skip
def test_a_bad_study_field_refuses_the_whole_message(fields: dict[str, object]) -> None:
    link = PeerStateLink(video_call=True)
    with pytest.raises(PeerStateError):
        link.received(json.dumps({"camera": False, **fields}))
    assert link.partner_camera is None and link.study is None and link.refused == 1


# --- "Study again" (docs/protocol.md, "Study again on the state channel") ---

KEY = base64.urlsafe_b64encode(bytes(range(32))).rstrip(b"=").decode()


def test_again_goes_round_with_the_whole_study_state() -> None:
    from client.study import Checkout, StudyState

    study = StudyState(goal="é" * 140, checkout=Checkout("yes", "ñ" * 280), again=KEY)
    message = PeerStateLink(video_call=True).study_message(study)
    assert len(message) <= MAX_STATE_CHARS  # the longest study state with a key still fits
    assert json.loads(message)["again"] == {"key": KEY}
    assert decode_peer_state(message).study == study
    unticked = PeerStateLink(video_call=True).study_message(StudyState())
    assert json.loads(unticked)["again"] is None
    assert decode_peer_state(unticked).study == StudyState()


def test_again_alone_is_a_study_message_and_older_messages_mean_unticked() -> None:
    study = decode_peer_state(json.dumps({"again": {"key": KEY}})).study
    assert study is not None and study.again == KEY
    older = decode_peer_state('{"goal":"x","ready":true}').study
    assert older is not None and older.again is None


@pytest.mark.parametrize("again", [
    True,
    "yes",
    KEY,
    {},
    {"key": None},
    {"key": 7},
    {"key": KEY[:-1]},
    {"key": KEY + "A"},
    {"key": KEY[:-1] + "!"},
    {"key": KEY[:-1] + "B"},  # 43 characters whose last bits are not zero: not the canonical spelling
    {"key": base64.urlsafe_b64encode(bytes(32)).decode()},  # with padding
    {"key": KEY, "nickname": "Ana"},
])  # fmt: skip
def test_a_bad_again_refuses_the_whole_message(again: object) -> None:
    link = PeerStateLink(video_call=True)
    with pytest.raises(PeerStateError):
        link.received(json.dumps({"camera": False, "goal": "g", "again": again}))
    assert link.partner_camera is None and link.study is None and link.refused == 1
