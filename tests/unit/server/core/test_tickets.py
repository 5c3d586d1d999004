"""Resume tickets (server/core/tickets.py): what is signed verifies, anything else is `bad_ticket`."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json

import pytest

from server.core import protocol as p
from server.core.resume import QueueClaim, SessionClaim
from server.core.rules import Terms
from server.core.tickets import TicketBook, Tickets

KEY = b"k" * 32
NOW = 1_800_000_000.0
CLAIM = SessionClaim("s1", True, 2, "video", "maths", "audio", None, "conn-a")


def refused(tickets: Tickets, ticket: str, now: float = NOW, subject: str | None = None) -> str:
    with pytest.raises(p.ProtocolError) as caught:
        tickets.verify(ticket, now, subject)
    assert caught.value.code == p.ErrorCode.BAD_TICKET and caught.value.message
    return caught.value.message


def test_a_session_ticket_gives_back_its_claim_until_it_expires() -> None:
    tickets = Tickets(KEY, ttl=600)
    ticket = tickets.mint_session(CLAIM, NOW)
    assert len(ticket) <= p.MAX_TICKET_CHARS
    assert tickets.verify(ticket, NOW + 599) == CLAIM
    refused(tickets, ticket, NOW + 602)


def test_a_queue_ticket_says_how_long_its_holder_waited() -> None:
    tickets = Tickets(KEY, ttl=600)
    ticket = tickets.mint_queue("audio", None, NOW - 30, "n1", "conn-a", NOW)
    claim = tickets.verify(ticket, NOW + 10)
    assert isinstance(claim, QueueClaim)
    assert (claim.mode, claim.topic, claim.nonce, claim.abuse_key) == ("audio", None, "n1", "conn-a")
    assert claim.waited == pytest.approx(40)
    assert claim.expires > NOW + 599


def test_tickets_keep_the_study_terms_and_wish_and_older_tickets_still_verify() -> None:
    tickets = Tickets(KEY, ttl=600)
    studying = dataclasses.replace(CLAIM, terms=Terms(50, "quiet", 1_800_000_000_123), length=50, talk=None)
    assert tickets.verify(tickets.mint_session(studying, NOW), NOW) == studying
    assert tickets.verify(tickets.mint_session(CLAIM, NOW), NOW) == CLAIM  # no terms: as before study sessions
    queue = tickets.verify(tickets.mint_queue("audio", None, NOW, "n1", "conn-a", NOW, 25, "talk"), NOW)
    assert isinstance(queue, QueueClaim) and (queue.length, queue.talk) == (25, "talk")


@pytest.mark.parametrize("fields", [{"sl": 30}, {"sl": "25"}, {"st": "loud"}, {"st": None}, {"ss": 1.5}])
def test_a_ticket_with_bad_study_terms_is_refused(fields: dict[str, object]) -> None:
    # Only a key holder can sign one; still, what it carries is checked like the rest.
    payload = {"k": "s", "s": "s1", "i": True, "e": 0, "m": "video", "t": None, "pm": "video", "pt": None,
               "a": "conn-a", "sl": 25, "st": "talk", "ss": 1, "x": int(NOW) + 600, **fields}
    body = "v1." + base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    mac = base64.urlsafe_b64encode(hmac.new(KEY, body.encode(), hashlib.sha256).digest()).rstrip(b"=").decode()
    refused(Tickets(KEY, ttl=600), f"{body}.{mac}")


def test_longest_fields_still_fit() -> None:
    long = SessionClaim("s" * p.MAX_ID_CHARS, False, 10**6, "video", "t" * p.MAX_TOPIC_CHARS, "audio",
                        "u" * p.MAX_TOPIC_CHARS, "sub:" + "x" * 64, Terms(75, "quiet", 10**13), 75, "quiet")
    ticket = Tickets(KEY, ttl=600).mint_session(long, NOW)
    assert len(ticket) <= p.MAX_TICKET_CHARS


@pytest.mark.parametrize("garbled", ["", "x", "v1.a.b", "v1..", "v2.e30.AAAA", "v1.e30.e30.e30", "é.é.é"])
def test_garbled_tickets_are_refused(garbled: str) -> None:
    refused(Tickets(KEY, ttl=600), garbled)


def test_a_forged_or_altered_ticket_is_refused() -> None:
    ticket = Tickets(KEY, ttl=600).mint_session(CLAIM, NOW)
    refused(Tickets(b"another key, as long" * 2, ttl=600), ticket)
    version, payload, mac = ticket.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields["s"] = "someone-elses-session"
    forged = base64.urlsafe_b64encode(json.dumps(fields).encode()).rstrip(b"=").decode()
    refused(Tickets(KEY, ttl=600), f"{version}.{forged}.{mac}")


def test_a_ticket_of_a_token_subject_resumes_only_for_that_subject() -> None:
    tickets = Tickets(KEY, ttl=600)
    mine = tickets.mint_session(dataclasses.replace(CLAIM, abuse_key="sub:ann"), NOW)
    assert tickets.verify(mine, NOW, "sub:ann").abuse_key == "sub:ann"
    refused(tickets, mine, subject="sub:bob")
    refused(tickets, mine, subject=None)
    anonymous = tickets.mint_session(CLAIM, NOW)
    refused(tickets, anonymous, subject="sub:ann")


# --- the book: tickets added to what a resuming connection is sent -------------------------


def test_the_book_tickets_queued_and_matched_and_keeps_the_queue_start() -> None:
    tickets = Tickets(KEY, ttl=600)
    book = TicketBook(tickets, "conn-a")
    first = book.observe(p.Queued("video", "maths"), NOW)
    assert isinstance(first, p.Queued) and first.ticket is not None
    again = book.observe(p.Queued("video", "maths"), NOW + 20)
    assert isinstance(again, p.Queued) and again.ticket is not None
    a, b = tickets.verify(first.ticket, NOW + 30), tickets.verify(again.ticket, NOW + 30)
    assert isinstance(a, QueueClaim) and isinstance(b, QueueClaim)
    assert a.waited == b.waited == pytest.approx(30) and a.nonce == b.nonce, "an unchanged wish keeps its place"
    other = book.observe(p.Queued("audio", None), NOW + 25)
    assert isinstance(other, p.Queued) and other.ticket is not None
    c = tickets.verify(other.ticket, NOW + 30)
    assert isinstance(c, QueueClaim) and c.waited == pytest.approx(5) and c.nonce != a.nonce
    matched = book.observe(p.Matched("s9", False, p.Partner("audio", "x")), NOW + 40)
    assert isinstance(matched, p.Matched) and matched.ticket is not None
    assert tickets.verify(matched.ticket, NOW + 40) == SessionClaim(
        "s9", False, 0, "audio", None, "audio", "x", "conn-a")
    assert book.observe(p.Signal("s9", {}), NOW) == p.Signal("s9", {})


def test_the_book_refreshes_at_half_life_and_stops_when_idle() -> None:
    tickets = Tickets(KEY, ttl=100)
    book = TicketBook(tickets, "conn-a")
    assert book.refresh(NOW) is None, "no ticket yet: nothing to refresh"
    book.observe(p.Queued("video", None), NOW)
    book.observe(p.Matched("s1", True, p.Partner("video", None)), NOW)
    assert book.refresh(NOW + 49) is None
    fresh = book.refresh(NOW + 51)
    assert fresh is not None
    claim = tickets.verify(fresh.ticket, NOW + 140)
    assert isinstance(claim, SessionClaim) and claim.session == "s1" and claim.epoch == 0
    assert book.refresh(NOW + 60) is None, "the refresh is the new present ticket"
    book.observe(p.PartnerLeft("s1", "left"), NOW + 70)
    assert book.refresh(NOW + 500) is None


def test_the_book_continues_a_resumed_claim() -> None:
    tickets = Tickets(KEY, ttl=600)
    book = TicketBook(tickets, "conn-new")
    book.resumed_with(CLAIM, NOW)
    resumed = book.observe(p.Resumed("s1", True, p.Partner("audio", None)), NOW)
    assert isinstance(resumed, p.Resumed) and resumed.ticket is not None
    assert tickets.verify(resumed.ticket, NOW) == SessionClaim(
        "s1", True, CLAIM.epoch + 1, "video", "maths", "audio", None, "conn-a"), "the next epoch, the same key"
    book.observe(p.PartnerReconnecting("s1"), NOW)
    assert book.settle() == "rebuilt"

    queue = TicketBook(tickets, "conn-q")
    queue.resumed_with(QueueClaim("video", None, 50.0, "n1", NOW + 600, "conn-old"), NOW)
    queued = queue.observe(p.Queued("video", None), NOW)
    assert isinstance(queued, p.Queued) and queued.ticket is not None
    claim = tickets.verify(queued.ticket, NOW + 10)
    assert isinstance(claim, QueueClaim)
    assert claim.waited == pytest.approx(60) and claim.nonce != "n1" and claim.abuse_key == "conn-old"
    assert queue.settle() == "requeued"
