"""What one instance believes each of its clients was told, and how to catch up.

Pure: no Redis, no asyncio. The Redis backend keeps a `ClientView` per local
connection, updated by every message it passes on. Redis is the truth; the
view is what the client knows. Two things keep them equal:

- `admit` drops a message that would contradict what the client was already
  told (a `matched` it already has, a `partner_left` or `signal` for a
  session that is not its current one), and tells a client whose session
  ended unheard that it did before telling it of a new one; both can only
  happen around a catch-up.
- `reconcile` turns the truth read by the script's `sync` op (which arrives
  in the same ordered stream as every other message) into the messages that
  bring the client from its view to the truth: used after a lost
  subscription (pub/sub drops what is published while we reconnect), a
  restarted Redis, or an instance that was wrongly reaped.

Resuming (docs/protocol.md, "Resuming after a dropped socket") adds to the
view whether the partner is away (`partner_reconnecting` until
`partner_resumed`), so a catch-up tells only the change it missed; and the
session a `resume` asks for, so its `partner_left` (the session ended) passes.
A session the client's side was kept in, taken back by a catch-up, is the same
session: nothing is said about it but its partner's coming and going.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from server.backends.redis.script import Truth
from server.core import protocol as p
from server.core.rules import Wish, queued

# Enough to recognise the stale messages of the last few sessions.
_ENDED_REMEMBERED = 8


@dataclass(slots=True)
class ClientView:
    wish: Wish | None = None  # the last find's, as the client was told in `queued`
    where: str = "i"  # i | q | s, as in the script
    session: str | None = None
    told_unavailable: bool = False  # got `backend_unavailable` while queued
    partner_away: bool = False  # told `partner_reconnecting` and not yet `partner_resumed`
    resuming: str | None = None  # the session a `resume` under way claims
    ended: deque[str] = field(default_factory=lambda: deque(maxlen=_ENDED_REMEMBERED))

    def _end(self) -> None:
        if self.session is not None:
            self.ended.append(self.session)
        self.where, self.session, self.partner_away = "i", None, False


def admit(view: ClientView, msg: p.ServerMessage) -> list[p.ServerMessage]:
    """What to pass on to the client for `msg` (often just it, or nothing); updates the view."""
    if isinstance(msg, p.Matched):
        if msg.session == view.session or msg.session in view.ended:
            return []
        out: list[p.ServerMessage] = []
        if view.session is not None:
            # Redis ended that session and we missed how: the client still hears it ended.
            out.append(p.PartnerLeft(view.session, "disconnected"))
        view._end()
        view.where, view.session, view.told_unavailable = "s", msg.session, False
        return [*out, msg]
    if isinstance(msg, p.Resumed):
        # Only ever to a connection that asked for it, idle until then.
        view.resuming = None
        view._end()
        view.where, view.session = "s", msg.session
    elif isinstance(msg, p.PartnerLeft):
        if msg.session == view.resuming:  # the session a resume claimed had ended
            view.resuming = None
            view.ended.append(msg.session)
            return [msg]
        if msg.session != view.session:
            return []
        view._end()
    elif isinstance(msg, (p.PartnerReconnecting, p.PartnerResumed)):
        if msg.session != view.session:
            return []
        view.partner_away = isinstance(msg, p.PartnerReconnecting)
    elif isinstance(msg, p.Replaced):
        view._end()
    elif isinstance(msg, p.Signal):
        return [msg] if msg.session == view.session else []
    elif isinstance(msg, p.Queued):
        view._end()  # a skip ends the session without a partner_left to the skipper
        view.where, view.wish, view.told_unavailable = "q", Wish(msg.mode, msg.topic, msg.length, msg.talk), False
    elif isinstance(msg, (p.Idle, p.Reported)):
        view._end()
    return [msg]


def reconcile(view: ClientView, truth: Truth) -> list[p.ServerMessage]:
    """The messages that take the client from what it knows to the truth (view updated)."""
    out: list[p.ServerMessage] = []
    told_session_over = False
    if view.resuming is not None and truth.last_session == view.resuming and truth.session != view.resuming:
        out.append(p.PartnerLeft(view.resuming, truth.last_reason or "disconnected"))  # its resume's answer, unheard
    if view.session is not None and truth.session != view.session:
        if truth.last_session == view.session and truth.last_reason:
            out.append(p.PartnerLeft(view.session, truth.last_reason))
            told_session_over = True
        elif truth.last_session != view.session:  # forgotten: for all we know the partner is gone
            out.append(p.PartnerLeft(view.session, "disconnected"))
            told_session_over = True
        # else the client ended it itself; where it is now is said below
    if truth.where == "s" and truth.session != view.session:
        assert truth.session is not None and truth.partner is not None
        if view.session is not None and not told_session_over and truth.wish is not None:
            # It skipped and was paired again before it heard `queued`: replay both.
            out.append(queued(truth.wish))
        if truth.session == view.resuming:  # its resume went through, unheard
            out.append(p.Resumed(truth.session, truth.initiator, truth.partner, study=truth.study))
        else:
            out.append(p.Matched(truth.session, truth.initiator, truth.partner, study=truth.study))
    elif truth.where == "q" and truth.wish is not None and (
        view.where != "q" or view.told_unavailable or view.wish != truth.wish
    ):
        out.append(queued(truth.wish))
    elif truth.where == "i" and (view.where == "q" or (view.where == "s" and not told_session_over)):
        out.append(p.Idle())
    if truth.where == "s":
        same = truth.session == view.session
        if truth.partner_away and not (same and view.partner_away):
            out.append(p.PartnerReconnecting(truth.session or ""))
        elif not truth.partner_away and same and view.partner_away:
            out.append(p.PartnerResumed(truth.session or ""))
    passed = [passed for m in out for passed in admit(view, m)]
    if truth.wish is not None:
        view.wish = truth.wish
    view.told_unavailable = False
    return passed
