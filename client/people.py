"""Who this installation is, who it wants to study with again, and whom it never wants to meet
(docs/protocol.md, "Coming back"): the identity (client/identity.py), the favourites and the
blocked partners, kept in the local database (client/history/store.py) or, for a headless client
without `--history`, in memory for the run.

Nothing here goes to the server but what the engine sends: the pseudonym for its server, the
rendezvous tokens of the favourites, and the avoid tokens the server itself handed out. A write
that fails is one log line; the change still holds in memory until the app quits.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .history.store import BLOCK_REASONS, HistoryError, HistoryStore
from .identity import FILE_NAME, Identity

log = logging.getLogger("studymatch.client.people")


@dataclass(frozen=True)
class Favourite:
    key: str  # the partner's public key, base64url
    nickname: str  # chosen here, never sent
    added_at: dt.datetime


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class People:
    def __init__(self, identity: Identity, store: HistoryStore | None = None,
                 clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.identity = identity
        self.store = store  # None: in memory for this run only
        self._clock = clock
        self._favourites: dict[str, Favourite] = {}
        self._blocked: dict[str, str] = {}  # avoid token -> reason, oldest first
        if store is not None:
            try:
                for key, nickname, added_at in store.favourites():
                    self._favourites[key] = Favourite(key, nickname, added_at)
                self._blocked = dict.fromkeys(store.blocked_tokens(), "")
            except sqlite3.Error as exc:
                log.warning("cannot read favourites and blocked partners: %s", exc)

    @classmethod
    def in_memory(cls) -> People:
        """A fresh identity and nobody known: a headless run without a data folder."""
        return cls(Identity.generate())

    @classmethod
    def beside(cls, store: HistoryStore) -> People:
        """The identity kept beside the history file, with that file's favourites and blocks."""
        return cls(Identity.load_or_create(Path(store.path).parent / FILE_NAME), store)

    # --- what the engine derives ----------------------------------------------------------------

    @property
    def public_key(self) -> str:
        return self.identity.public_key

    def install_id(self, server_url: str) -> str:
        return self.identity.install_id(server_url)

    def by_rendezvous(self, server_url: str) -> dict[str, Favourite]:
        """Each favourite's rendezvous token for `server_url`, newest favourites first."""
        tokens: dict[str, Favourite] = {}
        for favourite in sorted(self._favourites.values(), key=lambda f: f.added_at, reverse=True):
            try:
                tokens[self.identity.rendezvous(favourite.key, server_url)] = favourite
            except ValueError as exc:  # a key that is no usable X25519 key (checked when it came)
                log.warning("favourite %s: %s", favourite.nickname, exc)
        return tokens

    # --- favourites ------------------------------------------------------------------------------

    def favourites(self) -> list[Favourite]:
        """Every favourite, oldest first."""
        return sorted(self._favourites.values(), key=lambda f: f.added_at)

    def add_favourite(self, key: str, nickname: str) -> Favourite:
        """Keep the partner with this public key as a favourite (again: under the new nickname)."""
        known = self._favourites.get(key)
        favourite = Favourite(key, nickname, known.added_at if known is not None else self._clock())
        self._favourites[key] = favourite
        self._write(lambda s: s.add_favourite(key, nickname, favourite.added_at))
        return favourite

    def rename(self, key: str, nickname: str) -> None:
        known = self._favourites.get(key)
        if known is None:
            return
        self._favourites[key] = Favourite(key, nickname, known.added_at)
        self._write(lambda s: s.rename_favourite(key, nickname))

    def forget(self, key: str) -> None:
        if self._favourites.pop(key, None) is not None:
            self._write(lambda s: s.forget_favourite(key))

    # --- blocked partners -------------------------------------------------------------------------

    def block(self, token: str, reason: str) -> None:
        """Never match again the installation this avoid token names (`reason`: never_again|report)."""
        if reason not in BLOCK_REASONS:
            raise ValueError(f"reason must be one of {BLOCK_REASONS}, not {reason!r}")
        if token in self._blocked:
            return
        self._blocked[token] = reason
        self._write(lambda s: s.add_block(token, reason, self._clock()))

    def avoid_tokens(self) -> list[str]:
        """Every avoid token kept, oldest first: what the server is told after each welcome."""
        return list(self._blocked)

    def blocked_count(self) -> int:
        return len(self._blocked)

    def _write(self, change: Callable[[HistoryStore], None]) -> None:
        if self.store is None:
            return
        try:
            change(self.store)
        except (HistoryError, sqlite3.Error) as exc:
            log.warning("could not keep the change to favourites or blocked partners: %s", exc)
