"""The installation's key pair (client/identity.py) and what it derives, on real files."""

from __future__ import annotations

import logging
import stat

import pytest

from client import identity
from client.identity import Identity, decode_key

SERVER = "ws://study.example.org/ws"


def test_the_key_file_is_made_once_readable_by_this_user_only(tmp_path):
    path = tmp_path / "data" / identity.FILE_NAME
    first = Identity.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    made = path.stat().st_mtime_ns
    again = Identity.load_or_create(path)
    assert path.stat().st_mtime_ns == made  # read, not written again
    assert again.public_key == first.public_key
    assert again.install_id(SERVER) == first.install_id(SERVER)
    assert [p.name for p in path.parent.iterdir()] == [identity.FILE_NAME]  # no temporary left


def test_two_installations_differ(tmp_path):
    a = Identity.load_or_create(tmp_path / "a" / identity.FILE_NAME)
    b = Identity.load_or_create(tmp_path / "b" / identity.FILE_NAME)
    assert a.public_key != b.public_key
    assert a.install_id(SERVER) != b.install_id(SERVER)


def test_install_ids_are_per_server_and_fit_hello():
    me = Identity.generate()
    one, two = me.install_id(SERVER), me.install_id("ws://other.example.org/ws")
    assert one != two
    for pseudonym in (one, two):
        assert len(pseudonym) == 22
        assert set(pseudonym) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(me.public_key) == 43 and len(decode_key(me.public_key)) == 32


def test_rendezvous_is_symmetric_per_server_and_per_pair():
    a, b, c = Identity.generate(), Identity.generate(), Identity.generate()
    token = a.rendezvous(b.public_key, SERVER)
    assert token == b.rendezvous(a.public_key, SERVER)
    assert len(token) == 43
    assert token != a.rendezvous(b.public_key, "ws://other.example.org/ws")
    assert token != a.rendezvous(c.public_key, SERVER)
    assert c.rendezvous(a.public_key, SERVER) != token


@pytest.mark.parametrize("bad", ["", "A" * 42, "A" * 44, "!" * 43, "A" * 42 + "B"])
def test_a_bad_key_is_refused(bad):
    with pytest.raises(ValueError):
        decode_key(bad)
    with pytest.raises(ValueError):
        Identity.generate().rendezvous(bad, SERVER)


@pytest.mark.parametrize("content", [b"", b"not a key at all", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"])
def test_a_damaged_key_file_is_replaced_with_one_log_line(tmp_path, caplog, content):
    path = tmp_path / identity.FILE_NAME
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="studymatch.client.identity"):
        fresh = Identity.load_or_create(path)
    [record] = caplog.records
    assert "favourites made with the old one are gone" in record.getMessage()
    assert Identity.load_or_create(path).public_key == fresh.public_key  # the fresh key is kept
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_key_of_another_kind_is_replaced(tmp_path, caplog):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = tmp_path / identity.FILE_NAME
    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with caplog.at_level(logging.WARNING, logger="studymatch.client.identity"):
        Identity.load_or_create(path)
    assert "another kind of key" in caplog.text
