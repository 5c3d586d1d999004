"""Resume tickets: minted for a client's session or place in line, verified when it comes back.

A ticket is `v1.<payload>.<mac>`: the payload a compact JSON object in
base64url, the MAC an HMAC-SHA256 of `v1.<payload>` under the server's
ticket key, in base64url. Anyone can read a ticket; nobody without the key
can make or change one. Verifying checks the MAC, the expiry and the shape,
and gives a `Claim` (server/core/resume.py); whether the claim still holds
(a spent ticket, a session that ended) the backend decides.

`TicketBook` is one connection's side of it: it watches the messages the
connection is sent and puts a fresh ticket into each `matched`, `queued` and
`resumed`, and knows when the present ticket needs a `ticket` refresh.
Pure: the Unix time is an argument. docs/protocol.md, "Resuming after a
dropped socket", is the contract.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, Final

from server.core import protocol as p
from server.core import texts
from server.core.resume import Claim, QueueClaim, SessionClaim
from server.core.rules import Terms, Wish

VERSION: Final = "v1"
RESUME_OUTCOMES: Final = ("resumed", "rebuilt", "requeued", "ended", "bad_ticket")
# How a resume was answered, from the first message the backend sent back:
# `rebuilt` is a `resumed` at once followed by `partner_reconnecting` (the partner
# is not back yet: a session rebuilt from its tickets, or both sides dropped).
_FIRST_ANSWER: Final[dict[type, str]] = {
    p.Resumed: "resumed?", p.Queued: "requeued", p.Matched: "requeued", p.PartnerLeft: "ended",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def bad_ticket(message: str = texts.BAD_TICKET) -> p.ProtocolError:
    return p.ProtocolError(p.ErrorCode.BAD_TICKET, message)


class Tickets:
    """Mints and verifies tickets with one key; a ticket is valid `ttl` seconds."""

    def __init__(self, key: bytes, ttl: float) -> None:
        self._key = key
        self.ttl = ttl

    def _sign(self, fields: dict[str, Any], now: float) -> str:
        fields["x"] = int(now + self.ttl) + 1  # whole seconds, never shorter than ttl
        body = VERSION + "." + _b64(json.dumps(fields, separators=(",", ":")).encode())
        ticket = body + "." + _b64(hmac.new(self._key, body.encode(), hashlib.sha256).digest())
        assert len(ticket) <= p.MAX_TICKET_CHARS  # ids, topics and subjects are all bounded
        return ticket

    def mint_session(self, claim: SessionClaim, now: float) -> str:
        return self._sign({
            "k": "s", "s": claim.session, "i": claim.initiator, "e": claim.epoch, "m": claim.mode,
            "t": claim.topic, "pm": claim.partner_mode, "pt": claim.partner_topic, "a": claim.abuse_key,
            **({} if claim.length is None else {"l": claim.length}),
            **({} if claim.talk is None else {"tk": claim.talk}),
            **({} if claim.terms is None else {
                "sl": claim.terms.length, "st": claim.terms.talk, "ss": claim.terms.started_at,
            }),
        }, now)

    def mint_queue(
        self, mode: str, topic: str | None, since: float, nonce: str, abuse_key: str, now: float,
        length: int | None = None, talk: str | None = None,
    ) -> str:
        """A place in line that started at the Unix time `since`."""
        fields: dict[str, Any] = {"k": "q", "m": mode, "t": topic, "w": since, "n": nonce, "a": abuse_key}
        if length is not None:
            fields["l"] = length
        if talk is not None:
            fields["tk"] = talk
        return self._sign(fields, now)

    def verify(self, ticket: str, now: float, abuse_key: str | None = None) -> Claim:
        """The claim of a genuine, unexpired ticket; `bad_ticket` for anything else.

        `abuse_key`: the resuming connection's token subject key (`sub:...`), if it has one:
        a ticket made for a subject resumes only for that subject, and one made for a
        subject-less connection never for a subject.
        """
        try:
            version, payload, mac = ticket.split(".")
            body = f"{version}.{payload}"
            expected = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
            if version != VERSION or not hmac.compare_digest(_unb64(mac), expected):
                raise bad_ticket()
            fields = json.loads(_unb64(payload))
            claim = _claim(fields, now)
        except (ValueError, TypeError, KeyError, binascii.Error) as exc:  # garbled, or not ours
            raise bad_ticket() from exc
        if float(fields["x"]) <= now:
            raise bad_ticket()
        subject_bound = claim.abuse_key.startswith("sub:") or abuse_key is not None
        if subject_bound and claim.abuse_key != abuse_key:
            raise bad_ticket(texts.BAD_TICKET_SUBJECT)
        return claim


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _topic(value: object) -> str | None:
    return None if value is None else _text(value)


def _length(value: object) -> int | None:
    if value is not None and (type(value) is not int or value not in p.LENGTHS):
        raise TypeError
    return value


def _talk(value: object) -> str | None:
    if value is not None and value not in p.TALKS:
        raise TypeError
    return None if value is None else _text(value)


def _terms(fields: dict[str, Any]) -> Terms | None:
    """A session ticket's study terms; None in a ticket minted before study sessions."""
    if "ss" not in fields:
        return None
    talk, started_at = _talk(fields["st"]), fields["ss"]
    if talk is None or type(started_at) is not int:
        raise TypeError
    return Terms(_length(fields["sl"]), talk, started_at)


def _claim(fields: dict[str, Any], now: float) -> Claim:
    if fields["k"] == "s":
        epoch = fields["e"]
        if type(epoch) is not int or type(fields["i"]) is not bool:
            raise TypeError
        return SessionClaim(
            session=_text(fields["s"]), initiator=fields["i"], epoch=epoch, mode=_text(fields["m"]),
            topic=_topic(fields["t"]), partner_mode=_text(fields["pm"]), partner_topic=_topic(fields["pt"]),
            abuse_key=_text(fields["a"]), terms=_terms(fields),
            length=_length(fields.get("l")), talk=_talk(fields.get("tk")),
        )
    if fields["k"] == "q":
        return QueueClaim(
            mode=_text(fields["m"]), topic=_topic(fields["t"]), waited=max(0.0, now - float(fields["w"])),
            nonce=_text(fields["n"]), expires=float(fields["x"]), abuse_key=_text(fields["a"]),
            length=_length(fields.get("l")), talk=_talk(fields.get("tk")),
        )
    raise ValueError


@dataclass(slots=True)
class _Place:
    """What the present ticket is for: a session side, or a place in line (`since`, `nonce`)."""

    session: SessionClaim | None = None
    mode: str = ""
    topic: str | None = None
    length: int | None = None
    talk: str | None = None
    since: float = 0.0
    nonce: str = ""


class TicketBook:
    """One resumable connection's tickets: added to what it is sent, refreshed in time."""

    __slots__ = ("_answer", "_epoch", "_issued", "_place", "_since", "_wish", "abuse_key", "tickets")

    def __init__(self, tickets: Tickets, abuse_key: str) -> None:
        self.tickets = tickets
        self.abuse_key = abuse_key  # the key its reports follow, bound into each ticket
        self._place: _Place | None = None  # None: idle, no ticket to keep fresh
        self._wish: Wish | None = None  # the last `queued`: this side's wish
        self._since: float | None = None  # a resumed place in line: when it started waiting
        self._epoch = 0  # the epoch of the side a `resumed` gives back (the claim's next one)
        self._issued = 0.0
        self._answer: str | None = None  # a resume's outcome so far (RESUME_OUTCOMES)

    def resumed_with(self, claim: Claim, now: float) -> None:
        """The connection resumes with `claim`: what the backend sends next continues it."""
        self.abuse_key = claim.abuse_key
        self._answer = "asked"
        if isinstance(claim, QueueClaim):
            self._since = now - claim.waited
        else:
            self._wish = Wish(claim.mode, claim.topic, claim.length, claim.talk)
            self._epoch = claim.epoch + 1

    def observe(self, message: p.ServerMessage, now: float) -> p.ServerMessage:
        """The message as it goes out: `matched`, `queued` and `resumed` with a fresh ticket."""
        kind = type(message)
        answer = self._answer
        if answer == "asked":
            self._answer = _FIRST_ANSWER.get(kind, answer)
        elif answer == "resumed?":
            self._answer = "rebuilt" if kind is p.PartnerReconnecting else "resumed"
        if kind is p.Queued:
            assert isinstance(message, p.Queued)
            if message.favourite:
                # No ticket for a search for a favourite (the client finds again); its session's ticket
                # still carries this wish, for a skip after a resume (an ordinary search, then).
                self._place, self._wish = None, Wish(message.mode, message.topic, message.length, message.talk)
                return message
            return dataclasses.replace(message, ticket=self._queued(message, now))
        if kind is p.Matched or kind is p.Resumed:
            assert isinstance(message, (p.Matched, p.Resumed))
            return dataclasses.replace(message, ticket=self._matched(message, now))
        if kind in (p.PartnerLeft, p.Idle, p.Reported, p.Replaced):
            self._place = None
        return message

    def settle(self) -> str | None:
        """The outcome of the resume the backend just answered (None: no answer seen yet)."""
        answer, self._answer = self._answer, None
        return None if answer is None or answer == "asked" else answer.removesuffix("?")

    def refresh(self, now: float) -> p.Ticket | None:
        """A `ticket` to send when half of the present one's life has passed, else None."""
        place = self._place
        if place is None or now < self._issued + self.tickets.ttl / 2:
            return None
        return p.Ticket(self._mint(place, now))

    def _queued(self, message: p.Queued, now: float) -> str:
        place = self._place
        wish = Wish(message.mode, message.topic, message.length, message.talk)
        if place is None or place.session is not None or Wish(place.mode, place.topic, place.length, place.talk) != wish:
            since, self._since = (self._since if self._since is not None else now), None
            place = self._place = _Place(mode=message.mode, topic=message.topic, length=message.length,
                                         talk=message.talk, since=since, nonce=secrets.token_urlsafe(12))
        self._wish = wish
        return self._mint(place, now)

    def _matched(self, message: p.Matched | p.Resumed, now: float) -> str:
        wish = self._wish if self._wish is not None else Wish(message.partner.mode, message.partner.topic)
        epoch = self._epoch if type(message) is p.Resumed else 0
        claim = SessionClaim(
            session=message.session, initiator=message.initiator, epoch=epoch, mode=wish.mode, topic=wish.topic,
            length=wish.length, talk=wish.talk,
            partner_mode=message.partner.mode, partner_topic=message.partner.topic, abuse_key=self.abuse_key,
            terms=None if (s := message.study) is None else Terms(s.length, s.talk, s.started_at),
        )
        self._place = _Place(session=claim)
        return self._mint(self._place, now)

    def _mint(self, place: _Place, now: float) -> str:
        self._issued = now
        if place.session is not None:
            return self.tickets.mint_session(dataclasses.replace(place.session, abuse_key=self.abuse_key), now)
        return self.tickets.mint_queue(
            place.mode, place.topic, place.since, place.nonce, self.abuse_key, now, place.length, place.talk,
        )
