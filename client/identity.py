"""This installation's pseudonymous identity (docs/protocol.md, "Coming back"): an X25519 key
pair made on first start, kept on this machine and never uploaded.

From it come, by HKDF-SHA256 (the `cryptography` package), the only things that leave:
- `install_id(server)`: the pseudonym `hello` carries, different for every server URL;
- `public_key`: told to a partner only with a "study again" tick (state channel);
- `rendezvous(partner_key, server)`: the token two favourites both derive from their X25519
  shared secret, which nobody else can.

The key file is `identity.pem` (PKCS8 PEM, mode 0600) in the data folder, beside the history.
It is written atomically (a temporary file, then a rename), so a crash never leaves half a key.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger("studymatch.client.identity")

FILE_NAME = "identity.pem"
KEY_BYTES = 32
KEY_CHARS = 43  # base64url of 32 bytes, without padding
INSTALL_INFO = "studymatch install v1 "
FAVOURITE_INFO = "studymatch favourite v1 "


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_key(text: str) -> bytes:
    """A public key as sent (43 characters of base64url, 32 bytes); ValueError otherwise."""
    if type(text) is not str or len(text) != KEY_CHARS:
        raise ValueError(f"a key is {KEY_CHARS} characters of base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("a key is base64url") from exc
    if len(raw) != KEY_BYTES or b64url(raw) != text:  # the canonical spelling only
        raise ValueError("a key is 32 bytes of base64url")
    return raw


def _hkdf(secret: bytes, info: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info.encode("utf-8")).derive(secret)


class Identity:
    def __init__(self, private_key: X25519PrivateKey) -> None:
        self._key = private_key
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key = b64url(raw)

    @classmethod
    def generate(cls) -> Identity:
        """A fresh identity (a headless client without a data folder keeps it in memory only)."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def load_or_create(cls, path: str | Path) -> Identity:
        """The identity kept at `path`, made (and kept) on first start. A file that cannot be read
        or holds no X25519 key: one log line, and a fresh key takes its place."""
        path = Path(path)
        try:
            pem = path.read_bytes()
        except FileNotFoundError:
            identity = cls.generate()
            identity.save(path)
            return identity
        except OSError as exc:
            return cls._replace(path, f"cannot read it ({exc})")
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            return cls._replace(path, f"it is damaged ({exc})")
        if not isinstance(key, X25519PrivateKey):
            return cls._replace(path, "it holds another kind of key")
        return cls(key)

    @classmethod
    def _replace(cls, path: Path, why: str) -> Identity:
        log.warning("installation key %s: %s; made a new one: favourites made with the old one are gone",
                    path, why)
        identity = cls.generate()
        try:
            identity.save(path)
        except OSError as exc:
            log.warning("cannot keep the new installation key at %s (%s): it lasts until the app quits",
                        path, exc)
        return identity

    def save(self, path: str | Path) -> None:
        """Write the key as PKCS8 PEM, readable by this user only, replacing the file atomically."""
        path = Path(path)
        pem = self._key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".identity-", suffix=".tmp", dir=path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    # --- what is derived from it ------------------------------------------------------------

    def _raw_private(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())

    def install_id(self, server_url: str) -> str:
        """This installation's pseudonym for `server_url`: 22 characters, unrelated across servers."""
        return b64url(_hkdf(self._raw_private(), INSTALL_INFO + server_url, 16))

    def rendezvous(self, partner_key: str, server_url: str) -> str:
        """The token this installation and the partner's both derive for `server_url` (43 characters)."""
        partner = X25519PublicKey.from_public_bytes(decode_key(partner_key))
        return b64url(_hkdf(self._key.exchange(partner), FAVOURITE_INFO + server_url, 32))
