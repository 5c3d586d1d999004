"""Avoid tokens (server/core/avoidtokens.py): sealed by one key, read by the same key only."""

from __future__ import annotations

import base64

from hypothesis import given
from hypothesis import strategies as st

from server.core import protocol as p
from server.core.avoidtokens import NONCE_BYTES, PREFIX, AvoidSeal

KEY = b"the ticket key every instance shares"
INSTALL = "kq3V0b4-fm9mJ1xKabcdef"
installs = st.text("ABCxyz019-_", min_size=p.MIN_INSTALL_CHARS, max_size=p.MAX_INSTALL_CHARS)


def test_a_token_names_its_installation_to_the_same_key_only() -> None:
    token = AvoidSeal(KEY).seal(INSTALL)
    assert token.startswith(PREFIX) and INSTALL not in token and "=" not in token
    assert AvoidSeal(KEY).unseal(token) == INSTALL  # another instance, or a restarted server
    assert AvoidSeal(b"another server's ticket key").unseal(token) is None


def test_each_seal_is_unlike_the_last() -> None:
    seal = AvoidSeal(KEY)
    tokens = {seal.seal(INSTALL) for _ in range(20)}
    assert len(tokens) == 20
    assert {seal.unseal(t) for t in tokens} == {INSTALL}


@given(installs)
def test_every_pseudonym_round_trips_within_the_wire_limit(install: str) -> None:
    token = AvoidSeal(KEY).seal(install)
    assert len(token) <= p.MAX_AVOID_TOKEN_CHARS
    assert AvoidSeal(KEY).unseal(token) == install


@given(st.integers(0, 40), st.integers(1, 255))
def test_any_altered_byte_makes_a_token_unreadable(position: int, flip: int) -> None:
    token = AvoidSeal(KEY).seal(INSTALL)
    raw = bytearray(base64.urlsafe_b64decode(token[len(PREFIX):] + "=="))
    raw[position % len(raw)] ^= flip
    altered = PREFIX + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    assert AvoidSeal(KEY).unseal(altered) is None


@given(st.text(max_size=140))
def test_anything_else_is_unreadable_not_an_error(text: str) -> None:
    assert AvoidSeal(KEY).unseal(text) is None
    assert AvoidSeal(KEY).unseal(PREFIX + text) is None


def test_a_token_spelled_otherwise_or_too_short_is_unreadable() -> None:
    token = AvoidSeal(KEY).seal(INSTALL)
    assert AvoidSeal(KEY).unseal(token[:-1] + "*" + token[-1]) is None  # a character base64 would skip
    assert AvoidSeal(KEY).unseal(token[: len(PREFIX) + NONCE_BYTES]) is None
    assert AvoidSeal(KEY).unseal("A1." + token[len(PREFIX):]) is None
