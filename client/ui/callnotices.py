"""What the call page says while a call outlives the network (docs/protocol.md, "Resuming after a dropped socket").

`presence` is pure: an engine event of the call on screen in, a `Presence` out
(notices to show, notice keys to clear, and whether the partner's last picture
carries "Reconnecting…"). `CallNotices` applies it through the controller's
signals (client/ui/controller.py), which the views show. Each notice is quiet
(info) and goes by itself when its cause does: the call goes on, and nothing
asks the person to act.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from client import events as ev
from client import messages
from client.ui.widgets.notices import Notice

SIGNALING = "signaling"  # our connection to the server: gone until `Resumed`
PARTNER_AWAY = "partner_away"  # the partner's: gone until they resume, or the media is back


@dataclass(frozen=True)
class Presence:
    show: tuple[Notice, ...] = ()
    clear: tuple[str, ...] = ()
    reconnecting: bool | None = None  # "Reconnecting…" over the partner's last picture; None: as it is


# The call page is left (or a new call shown): nothing of the last call's network stays on it.
CALL_OVER = Presence(clear=(SIGNALING, PARTNER_AWAY), reconnecting=False)

CallNetworkEvent = (
    ev.SignalingLost | ev.Resumed | ev.PartnerReconnecting | ev.PartnerResumed | ev.MediaReconnecting | ev.MediaRestored
)
CALL_NETWORK_EVENTS = (ev.SignalingLost, ev.Resumed, ev.PartnerReconnecting, ev.PartnerResumed,
                       ev.MediaReconnecting, ev.MediaRestored)


class CallNotices:
    """The call page's notices and overlay, said through the controller's signals."""

    def __init__(self, show: Callable[[Notice], None], clear: Callable[[str], None],
                 reconnecting: Callable[[bool], None]) -> None:
        self._show, self._clear, self._reconnecting = show, clear, reconnecting

    def present(self, presence: Presence) -> None:
        for key in presence.clear:
            self._clear(key)
        for notice in presence.show:
            self._show(notice)
        if presence.reconnecting is not None:
            self._reconnecting(presence.reconnecting)

    def new_call(self) -> None:
        """A new partner: what was said about the last one, and its network, goes."""
        for key in ("partner", "media"):
            self._clear(key)
        self.present(CALL_OVER)


def presence(event: CallNetworkEvent) -> Presence:
    match event:
        case ev.SignalingLost():
            # Shown again on each failed retry: same key, so it stays one notice.
            return Presence(show=(Notice(SIGNALING, messages.NOTICE_SIGNALING_LOST),))
        case ev.Resumed():
            return Presence(clear=(SIGNALING,))
        case ev.PartnerReconnecting():
            return Presence(show=(Notice(PARTNER_AWAY, messages.NOTICE_PARTNER_RECONNECTING),))
        case ev.PartnerResumed():
            return Presence(clear=(PARTNER_AWAY,))
        case ev.MediaReconnecting():
            return Presence(reconnecting=True)
        case ev.MediaRestored():
            # Media flowing both ways again means the partner is there, whatever the server said last.
            return Presence(clear=(PARTNER_AWAY,), reconnecting=False)
