"""Tokens, origins and TURN credentials: the pure decisions of server/core/auth.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.core.auth import (
    Access,
    Admitted,
    AuthFailure,
    ice_servers,
    origin_allowed,
    read_tokens_file,
    sign_token,
    turn_credentials,
    verify_signed,
)

SECRET = "a-school-portal-secret"
NOW = 1_800_000_000.0


def test_a_signed_token_is_accepted_until_it_expires() -> None:
    token = sign_token(SECRET, "student-42", int(NOW) + 60)
    assert verify_signed(SECRET, token, NOW) == Admitted("student-42")
    assert verify_signed(SECRET, token, NOW + 59.9) == Admitted("student-42")
    assert verify_signed(SECRET, token, NOW + 60) is AuthFailure.EXPIRED


def test_the_documented_format_is_what_is_signed() -> None:
    # The five lines docs/self-hosting.md gives a portal, verbatim in spirit.
    expiry, subject = int(NOW) + 3600, "alice"
    payload = f"v1.{expiry}.{subject}"
    mac = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).digest()
    token = payload + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
    assert token == sign_token(SECRET, subject, expiry)
    assert Access(secret=SECRET).check(token, NOW) == Admitted("alice")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t.replace(".student-42.", ".student-43."),  # another subject
        lambda t: t.replace("v1.1800000060", "v1.1800009999"),  # a later expiry
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # a changed signature
        lambda t: t.rsplit(".", 1)[0],  # no signature
        lambda t: "v2" + t[2:],  # another version
    ],
)
def test_a_tampered_token_is_invalid(tamper: object) -> None:
    token = sign_token(SECRET, "student-42", int(NOW) + 60)
    assert callable(tamper)
    assert verify_signed(SECRET, tamper(token), NOW) is AuthFailure.INVALID


def test_a_token_from_another_secret_or_too_far_ahead_is_invalid() -> None:
    assert verify_signed(SECRET, sign_token("another-secret-xx", "s", int(NOW) + 60), NOW) is AuthFailure.INVALID
    assert verify_signed(SECRET, sign_token(SECRET, "s", int(NOW) + 400 * 86400), NOW) is AuthFailure.INVALID


@given(st.text(max_size=300))
def test_any_text_is_refused_or_admitted_never_an_exception(token: str) -> None:
    result = Access(tokens=("plain",), secret=SECRET).check(token, NOW)
    assert result == Admitted() if token == "plain" else result in (AuthFailure.INVALID, AuthFailure.MISSING)


def test_plain_tokens_and_signed_tokens_together() -> None:
    access = Access(tokens=("alpha", "beta"), secret=SECRET)
    assert access.check("beta", NOW) == Admitted()
    assert access.check("gamma", NOW) is AuthFailure.INVALID
    assert access.check(None, NOW) is AuthFailure.MISSING
    assert access.check("", NOW) is AuthFailure.MISSING
    assert access.check(sign_token(SECRET, "x", int(NOW) + 5), NOW) == Admitted("x")
    assert Access().check(None, NOW) == Admitted()  # nothing configured: open
    assert Access(tokens=("alpha",)).check(sign_token(SECRET, "x", int(NOW) + 5), NOW) is AuthFailure.INVALID


def test_tokens_file_skips_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# room 101\nalpha\n\n  beta  \n#gamma\n", encoding="utf-8")
    assert read_tokens_file(path) == ("alpha", "beta")


def test_origins() -> None:
    allowed = ["https://study.example.org"]
    assert origin_allowed(None, allowed, require_origin=False)  # the desktop app sends none
    assert not origin_allowed(None, allowed, require_origin=True)
    assert origin_allowed("https://study.example.org", allowed, False)
    assert origin_allowed("HTTPS://Study.Example.org/", allowed, False)
    assert not origin_allowed("https://evil.example.com", allowed, False)
    assert not origin_allowed("https://study.example.org.evil.com", allowed, False)
    assert origin_allowed("https://anything.example", [], False)  # no allowlist: any page


def test_turn_credentials_follow_the_coturn_rest_scheme() -> None:
    # Reference computed independently: base64(HMAC-SHA1(secret, "<expiry>:<id>")).
    username, credential = turn_credentials("coturn-secret", "conn1", 1_800_000_600)
    assert username == "1800000600:conn1"
    expected = base64.b64encode(
        hmac.new(b"coturn-secret", b"1800000600:conn1", hashlib.sha1).digest()
    ).decode()
    assert credential == expected


def test_ice_servers_give_turn_fresh_credentials_per_connection() -> None:
    servers = ice_servers(["stun:s.example:3478"], ["turn:t.example:3478?transport=udp"], "k" * 20, 600.0,
                          "abc", NOW)
    assert servers[0] == {"urls": "stun:s.example:3478"}
    turn = servers[1]
    assert turn["urls"] == ["turn:t.example:3478?transport=udp"]
    assert turn["username"] == f"{int(NOW + 600)}:abc"
    other = ice_servers([], ["turn:t.example"], "k" * 20, 600.0, "xyz", NOW)[0]
    assert other["credential"] != turn["credential"]
    assert ice_servers(["stun:a"], [], None, 600.0, "abc", NOW) == [{"urls": "stun:a"}]
