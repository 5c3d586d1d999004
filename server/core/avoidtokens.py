"""Avoid tokens: an installation's pseudonym, sealed so that only the servers can read it.

`matched` and `resumed` name the partner's installation with one of these
(`partner.avoid`); a client hands them back in `avoid` (docs/protocol.md,
"Coming back"). A token is `a1.` + base64url (no padding) of a 12-byte random
nonce and the AES-GCM ciphertext of the pseudonym, under a key derived with
HKDF-SHA256 from the ticket key: every instance sharing the ticket key, and a
restarted server, reads the tokens of the others. A fresh nonce per token, so
two tokens for one installation do not look alike. Pure: no I/O, no clock.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from server.core import protocol as p

PREFIX: Final = "a1."
NONCE_BYTES: Final = 12
_INFO: Final = b"studymatch avoid tokens a1"
_INSTALL: Final = re.compile(r"[A-Za-z0-9_-]+")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class AvoidSeal:
    """Seals and unseals installation pseudonyms under a key derived from the ticket key."""

    __slots__ = ("_aead",)

    def __init__(self, ticket_key: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(ticket_key)
        self._aead = AESGCM(key)

    def seal(self, install: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return PREFIX + _b64(nonce + self._aead.encrypt(nonce, install.encode("ascii"), PREFIX.encode()))

    def unseal(self, token: str) -> str | None:
        """The pseudonym a token names; None for a token this key did not seal (forged, damaged, another key's)."""
        if not token.startswith(PREFIX) or len(token) > p.MAX_AVOID_TOKEN_CHARS:
            return None
        body = token[len(PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if len(raw) <= NONCE_BYTES or _b64(raw) != body:  # one spelling per token
                return None
            install = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], PREFIX.encode()).decode("ascii")
        except (ValueError, binascii.Error, InvalidTag, UnicodeDecodeError):
            return None
        if not p.MIN_INSTALL_CHARS <= len(install) <= p.MAX_INSTALL_CHARS or not _INSTALL.fullmatch(install):
            return None
        return install
