"""The engine's part of "coming back" (docs/protocol.md, "Coming back" and "Study again on the
state channel"): who the partner of the call now (or of the last call) is to the server, what
each tick of "Study again" means when the call ends, and what the server is told to avoid.

No asyncio and no sockets: the engine (client/engine.py) calls these at its moments (matched,
resumed, the end of a call, a block) and sends the messages they return. `now` comes in as
an argument, as in every core.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from server.core import protocol as p

from . import events as ev
from . import messages
from .people import People
from .study import StudySession

log = logging.getLogger("studymatch.client.comeback")


@dataclass
class PartnerSeen:
    """The partner of one call, as the server named it."""

    session: str
    token: str | None  # the avoid token from `matched` (or `resumed`); None: the partner sent no `install`
    favourite: str | None = None  # the favourite's public key, when paired as favourites
    nickname: str = ""  # given with this side's tick (empty: a default is made when saved)


def default_nickname(today: dt.date) -> str:
    return messages.FAVOURITE_DEFAULT_NICKNAME.format(date=f"{today.day} {today.strftime('%b')}")


def avoid_messages(tokens: list[str]) -> list[p.Avoid]:
    """Every token, in `avoid` messages of at most MAX_AVOID_TOKENS (docs/protocol.md)."""
    size = p.MAX_AVOID_TOKENS
    return [p.Avoid(tuple(tokens[i:i + size])) for i in range(0, len(tokens), size)]


class Comeback:
    def __init__(self, people: People, server_url: str, emit: Callable[[ev.EngineEvent], None]) -> None:
        self.people = people
        self.server_url = server_url
        self._emit = emit
        self.partner: PartnerSeen | None = None  # of the call now, else of the last call

    def hello_install(self) -> str:
        return self.people.install_id(self.server_url)

    def favourite_tokens(self) -> tuple[str, ...]:
        """The rendezvous tokens a search for a favourite sends (the newest favourites first)."""
        return tuple(self.people.by_rendezvous(self.server_url))[:p.MAX_FAVOURITES]

    def on_welcome(self) -> list[p.Avoid]:
        """After every welcome, before `resume`: the whole list, since the server keeps none of it."""
        return avoid_messages(self.people.avoid_tokens())

    def matched(self, msg: p.Matched) -> ev.Matched:
        """Remember who the server paired us with; the event says whether a favourite and blockable."""
        favourite = None if msg.favourite is None else self.people.by_rendezvous(self.server_url).get(msg.favourite)
        if msg.favourite is not None and favourite is None:
            log.info("matched by a rendezvous token that names no favourite of ours (forgotten meanwhile?)")
        self.partner = PartnerSeen(msg.session, msg.partner.avoid, None if favourite is None else favourite.key)
        return ev.Matched(msg.session, msg.initiator, msg.partner.mode, msg.partner.topic,
                          favourite=None if favourite is None else favourite.nickname,
                          avoidable=msg.partner.avoid is not None)

    def resumed(self, msg: p.Resumed) -> None:
        """A fresh token when `resumed` has one; a session rebuilt from tickets may not: keep ours."""
        partner = self.partner
        if partner is not None and partner.session == msg.session and msg.partner.avoid is not None:
            partner.token = msg.partner.avoid

    def set_again(self, session: str, nickname: str) -> None:
        if self.partner is not None and self.partner.session == session:
            self.partner.nickname = nickname.strip()

    def call_ended(self, session: str, study: StudySession | None, today: dt.date) -> None:
        """Both ticks stand as the call ends: the partner becomes a favourite (FavouriteSaved)."""
        key = None if study is None else study.both_again()
        if key is None:
            return
        partner = self.partner
        nickname = partner.nickname if partner is not None and partner.session == session else ""
        known = {f.key: f.nickname for f in self.people.favourites()}
        nickname = nickname or known.get(key) or default_nickname(today)
        self.people.add_favourite(key, nickname)
        self._emit(ev.FavouriteSaved(session, nickname))

    def block(self, reason: str, session: str | None = None) -> list[p.Avoid]:
        """Block the partner of `session` (None: of the call now or the last one); PartnerBlocked
        says whether it took. Returns what to tell the server."""
        partner = self.partner
        if partner is None or (session is not None and partner.session != session):
            self._emit(ev.PartnerBlocked(session or "", False, messages.PARTNER_BLOCK_NOBODY))
            return []
        if partner.token is None:
            self._emit(ev.PartnerBlocked(partner.session, False, messages.PARTNER_BLOCK_UNNAMED))
            return []
        self.people.block(partner.token, reason)
        if partner.favourite is not None:  # a favourite we never want to meet is no favourite
            self.people.forget(partner.favourite)
        self._emit(ev.PartnerBlocked(partner.session, True, messages.PARTNER_BLOCKED))
        return [p.Avoid((partner.token,))]
