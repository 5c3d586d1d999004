"""Which notice a problem becomes, and what the person can do about it.

Pure functions from engine events (plus the few settings they depend on) to a
`Notice`; the controller emits them. Every problem that stops calls names a
way forward as a button, so nobody is left with a sentence and nothing to click.
"""

from __future__ import annotations

from client import events as ev
from client import messages
from client.ui.widgets.notices import Notice


# Functions, not constants: a button's label is read in the language of the moment it is shown.
def _open_settings() -> tuple[str, str]:
    return ("open_settings", messages.ACTION_OPEN_SETTINGS)


def _relay_off() -> tuple[str, str]:
    return ("relay_off", messages.ACTION_RELAY_OFF)

def _next() -> tuple[str, str]:
    return ("next", messages.ACTION_SKIP)


# The engine stops retrying after these (client/engine.py FATAL_CODES): the notice stays until acted on.
UNAUTHORIZED = "unauthorized"
BAD_CA_FILE = "bad_ca_file"
NO_RELAY = "no_relay"


def error_key(code: str) -> str:
    return f"error:{code}"


def error_notice(event: ev.ErrorEvent, *, server: str, token: str, ca_file: str) -> Notice:
    key = error_key(event.code)
    if event.code == UNAUTHORIZED:
        template = messages.NOTICE_TOKEN_REJECTED if token else messages.NOTICE_TOKEN_NEEDED
        return Notice(key, template.format(server=server), "error", (_open_settings(),))
    if event.code == BAD_CA_FILE:
        text = messages.NOTICE_BAD_CA_FILE.format(path=ca_file, server=server)
        return Notice(key, text, "error", (_open_settings(),))
    if event.code == NO_RELAY:
        # The engine's sentence already says why and that the setting can be turned off.
        return Notice(key, event.message, "warning", (_relay_off(),))
    return Notice(key, event.message, "warning", timeout=10)


def disconnected_notice(event: ev.Disconnected) -> Notice:
    """The engine's own sentence says which problem it is (unreachable, went away, restarting, or a
    certificate that failed its check, naming the server); Settings is where the address is fixed."""
    return Notice("server", event.message, "warning", (_open_settings(),))


def device_notice(event: ev.DeviceErrorEvent) -> Notice:
    if event.device == "camera":
        actions: tuple[tuple[str, str], ...] = (
            ("audio_only", messages.ACTION_AUDIO_ONLY),
            ("try_again", messages.ACTION_TRY_AGAIN),
            ("choose_camera", messages.ACTION_CHOOSE_CAMERA),
        )
    else:
        actions = (("try_again", messages.ACTION_TRY_AGAIN), ("choose_microphone", messages.ACTION_CHOOSE_MICROPHONE))
    return Notice(f"device:{event.device}", event.message, "error", actions)


def media_failed_notice(event: ev.MediaFailed, *, practice: bool) -> Notice:
    """No media: in a real call the way forward is the next partner (a test call has none)."""
    actions = () if practice else (_next(),)
    return Notice("media", messages.NOTICE_MEDIA_FAILED.format(message=event.message), "error", actions)


def partner_left_notice(reason: str) -> Notice:
    texts = {"reported": messages.NOTICE_PARTNER_REPORTED, "timeout": messages.NOTICE_PARTNER_TIMED_OUT}
    text = texts.get(reason, messages.NOTICE_PARTNER_LEFT)
    return Notice("partner", text, "info", (_next(),))


def speaker_notice(text: str) -> Notice:
    """The speaker is not the one chosen (or there is none): worth knowing, nothing to fix mid-call."""
    return Notice("speaker", text, "info", timeout=15)


# Keys of the notices a new connection (new settings) makes out of date.
CONNECTION_KEYS = ("server", error_key(UNAUTHORIZED), error_key(BAD_CA_FILE), error_key(NO_RELAY))


def background_unavailable() -> Notice:
    """Blur was asked for and the face detector cannot load: the camera goes on unblurred (issue 16)."""
    return Notice("background", messages.BACKGROUND_UNAVAILABLE, level="warning")
