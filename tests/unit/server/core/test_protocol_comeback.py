"""The schema of issue 14's fields (docs/protocol.md, "Coming back" and "Live counts while
searching"): each one decoded, refused when bad, and encoded so that an ordinary frame is the
same as before."""

from __future__ import annotations

import json

import pytest

from server.core import protocol as p

INSTALL = "AbCdEfGhIjKlMnOpQrStUv"  # 22 characters, as the desktop client derives it
TOKEN = "x" * 43


def client(obj: dict[str, object]) -> p.ClientMessage:
    return p.decode_client(json.dumps(obj))


def server(obj: dict[str, object]) -> p.ServerMessage:
    return p.decode_server(json.dumps(obj))


@pytest.mark.parametrize("install", ["short", "x" * 65, "has space in it ok", "é" * 20, 12345678901234567])
def test_a_bad_install_is_refused(install: object) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        client({"type": "hello", "protocol": 1, "install": install})
    assert caught.value.code == p.ErrorCode.BAD_MESSAGE


def test_an_ordinary_hello_and_find_encode_as_before() -> None:
    assert json.loads(p.encode(p.Hello())) == {"type": "hello", "protocol": 1}
    assert json.loads(p.encode(p.Find("video"))) == {"type": "find", "mode": "video", "topic": None,
                                                     "length": None, "talk": None}  # fmt: skip
    queued = json.loads(p.encode(p.Queued("video", None)))
    assert "favourite" not in queued
    matched = json.loads(p.encode(p.Matched("s", True, p.Partner("video", None))))
    assert "favourite" not in matched and matched["partner"] == {"mode": "video", "topic": None}


def test_find_keeps_each_favourite_once() -> None:
    find = client({"type": "find", "mode": "audio", "favourites": [TOKEN, "y" * 16, TOKEN]})
    assert find == p.Find("audio", favourites=(TOKEN, "y" * 16))


@pytest.mark.parametrize("favourites", ["notalist", [TOKEN] * 0 + ["bad token!" * 3], ["x" * 15],
                                        [f"{i:0>16}" for i in range(p.MAX_FAVOURITES + 1)]])  # fmt: skip
def test_bad_favourites_are_refused(favourites: object) -> None:
    with pytest.raises(p.ProtocolError) as caught:
        client({"type": "find", "mode": "video", "favourites": favourites})
    assert caught.value.code == p.ErrorCode.BAD_MESSAGE


def test_avoid_takes_any_short_strings_and_refuses_bad_lists() -> None:
    avoid = client({"type": "avoid", "tokens": ["a1.xyz", "anything the server may not read"]})
    assert avoid == p.Avoid(("a1.xyz", "anything the server may not read"))
    for tokens in ([], "a1.x", [1], ["x" * (p.MAX_AVOID_TOKEN_CHARS + 1)], ["t"] * (p.MAX_AVOID_TOKENS + 1)):
        with pytest.raises(p.ProtocolError):
            client({"type": "avoid", "tokens": tokens})


def test_bad_counts_are_refused() -> None:
    for obj in ({"online": -1, "video": 0, "audio": 0}, {"online": 1, "video": "2", "audio": 0},
                {"online": 1, "video": 0}):  # fmt: skip
        with pytest.raises(p.ProtocolError):
            server({"type": "counts", **obj})
