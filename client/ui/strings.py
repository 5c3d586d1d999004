"""Every sentence the window shows, in one place (the engine's and devices' own
sentences live in client/messages.py and arrive inside events)."""

from __future__ import annotations

APP_NAME = "StudyMatch"
WINDOW_TITLE = "StudyMatch: find a study partner"

# Lobby
LOBBY_HEADING = "Study with someone, right now"
LOBBY_SUBHEADING = "One click finds a random partner who wants to study too."
MODE_LABEL = "How do you want to meet?"
MODE_VIDEO = "Video"
MODE_AUDIO = "Audio only"
SUBJECT_LABEL = "Subject (optional)"
SUBJECT_PLACEHOLDER = "e.g. calculus (empty: any subject)"
CAMERA_LABEL = "Camera"
MICROPHONE_LABEL = "Microphone"
SPEAKER_LABEL = "Speaker"
SYSTEM_DEFAULT = "System default"
NO_DEVICES = "None found"
FIND_PARTNER = "Find partner"
TEST_CALL = "Test call"
TEST_CALL_TIP = "Practise with yourself: your video and voice come back a second later."
SETTINGS = "Settings"
HELP = "Keyboard shortcuts"
PREVIEW_OFF = "Camera preview"
PREVIEW_NO_CAMERA = "No camera picture: see the message above"
PREVIEW_AUDIO = "Audio only: your camera stays off"

# Searching
SEARCHING_TITLE = "Looking for a study partner…"
SEARCHING_SUBJECT = "Subject: {topic}"
SEARCHING_ANY = "Any subject"
CANCEL = "Cancel"

# Call
PRACTICE_PARTNER = "Practice partner (your own video and voice, a second late)"
PARTNER_VIDEO = "Partner · video"
PARTNER_AUDIO = "Partner · audio only"
PARTNER_SUBJECT = " · {topic}"
CONNECTING = "Connecting…"
PARTNER_AUDIO_ONLY = "Your partner joined with audio only"
MUTE = "Mute"
UNMUTE = "Unmute"
CAMERA_OFF = "Camera off"
CAMERA_ON = "Camera on"
SKIP = "Next"
SKIP_TIP = "Skip to the next partner (N)"
END = "End"
END_TIP = "End the call and go back (Esc)"
REPORT = "Report"
REPORT_TIP = "Report this partner for bad behaviour"
REPORT_REASONS = ("Inappropriate behaviour", "Harassment", "Spam or advertising", "Other")
CHAT_PLACEHOLDER = "Type a message and press Enter"
CHAT_SEND = "Send"
CHAT_ME = "You"
CHAT_PARTNER = "Partner"
CHAT_EMPTY = "Messages you send appear here."
SELF_VIEW = "Your camera"
REMOTE_VIEW = "Your partner's video"
NO_VIDEO_PARTNER = "Audio only"
PARTNER_CAMERA_OFF = "Your partner's camera is off"
NO_VIDEO_SELF = "Camera off"

# Quality
NOT_MEASURED = "–"  # noqa: RUF001 (an en dash reads as "no value" in a table)
QUALITY_UNKNOWN = "Connection: measuring…"
QUALITY_TEXT = "Connection: {label}"
QUALITY_DETAIL = "Round trip {rtt} · loss {loss} · {bitrate}"
QUALITY_LABELS = {"good": "good", "fair": "fair", "poor": "poor", "unknown": "measuring…"}

# Notices (inside the window; never modal)
NOTICE_PARTNER_LEFT = "Your partner left the call."
NOTICE_PARTNER_LEFT_AGAIN = "Your partner left the call. Looking for someone new…"
NOTICE_PARTNER_REPORTED = "The call ended after a report."
NOTICE_RECONNECTED = "Connected to {server}."
NOTICE_MEDIA_FAILED = "The call could not connect: {message} Try the next partner."
NOTICE_SERVER_SHUTDOWN = "The server is restarting. Reconnecting in {seconds:.0f} s…"
NOTICE_REPORTED = "Thank you. Your report was sent, and you won't meet this person again soon."
NOTICE_CALL_ENDED = "Call ended after {duration}."
NOTICE_LOCAL_SERVER = "No server answered at {server}, so StudyMatch started one on this computer."
NOTICE_PRACTICE_FAILED = "The test call could not start: {message}"
NOTICE_TOKEN_NEEDED = (
    "The server at {server} only lets in people with an access token. "
    "Enter the one your school gave you in Settings."
)
NOTICE_TOKEN_REJECTED = (
    "The server at {server} did not accept your access token (it may have expired). "
    "Enter a current one in Settings."
)
NOTICE_BAD_CA_FILE = (
    "The certificate file {path} cannot be read, so StudyMatch did not connect to {server}. "
    "Choose another file in Settings, or clear the field."
)
ACTION_AUDIO_ONLY = "Continue with audio only"
ACTION_TRY_AGAIN = "Try again"
ACTION_CHOOSE_CAMERA = "Choose another camera"
ACTION_CHOOSE_MICROPHONE = "Choose another microphone"
ACTION_SKIP = "Next partner"
ACTION_DISMISS = "Dismiss"
ACTION_OPEN_SETTINGS = "Open Settings"
ACTION_RELAY_OFF = "Stop hiding my IP address"

# Settings dialog
SETTINGS_TITLE = "StudyMatch settings"
SETTINGS_SERVER = "Server address"
SETTINGS_SERVER_HINT = "Leave the default to use a server on this computer."
SETTINGS_AUTO_SEARCH = "Search again automatically when a partner leaves"
SETTINGS_SOUNDS = "Play a sound when a partner joins or leaves"
SETTINGS_NOTIFY = "Show a system notification when matched in the background"
SETTINGS_BAD_SERVER = "The address must start with ws:// or wss://"
SETTINGS_RELAY_ONLY = "Hide my IP address from partners (calls may take longer to connect)"
SETTINGS_TOKEN = "Access token"
SETTINGS_TOKEN_PLACEHOLDER = "none"
SETTINGS_TOKEN_HINT = "Only if your school's server needs one; whoever runs the server gives it out."
SETTINGS_CA_FILE = "Certificate file"
SETTINGS_CA_FILE_PLACEHOLDER = "none (this computer's trusted authorities)"
SETTINGS_CA_FILE_HINT = (
    "Only for a wss:// server whose certificate your school issued itself: the path of its .pem file."
)
SETTINGS_BAD_CA_FILE = "There is no certificate file at that path."

# Notifications
NOTIFY_MATCHED_TITLE = "Partner found"
NOTIFY_MATCHED_BODY = "Your study partner is here. Say hello!"

# Help overlay
HELP_TITLE = "Keyboard shortcuts"
HELP_CLOSE = "Press Esc or F1 to close"
SHORTCUTS = (
    ("Enter", "Find partner"),
    ("M", "Mute or unmute your microphone"),
    ("V", "Turn your camera on or off"),
    ("N", "Skip to the next partner"),
    ("Esc", "End the call, or stop searching"),
    ("F1 or ?", "Show or hide this help"),
)


def duration(seconds: float) -> str:
    """'0:07', '12:34', '1:02:03': the clock format people read at a glance."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"
