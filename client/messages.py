"""Every sentence the client shows a person, in one place: the catalogue to translate.

The engine, the devices, the headless client and the window all read them here, so the
wording stays consistent. Each device sentence says what happened and what the person can
do next. Placeholders are named (`{server}`), so a translation may put them in any order.

The values below are English, the source language. `set_language` rebinds every name to
its translation (client/language.py, client/locale/), so read a sentence as
`messages.NAME` when it is shown, never copy one into another module's constant at import.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from client import language

# --- Section 1: media devices -------------------------------------------------

# Where each OS keeps the switch that grants an app the camera / microphone.
_PRIVACY_HINT = {
    "camera": {
        "darwin": "System Settings > Privacy & Security > Camera",
        "win32": "Settings > Privacy > Camera",
        "linux": (
            "the video group (sudo usermod -aG video $USER, then log in again) or the device permissions"
        ),
    },
    "microphone": {
        "darwin": "System Settings > Privacy & Security > Microphone",
        "win32": "Settings > Privacy > Microphone",
        "linux": "the audio group or your sound server's (PulseAudio/PipeWire) settings",
    },
}

CAMERA_BUSY = (
    "Your camera is being used by another application. "
    "Close that application and try again, or continue with audio only."
)
CAMERA_NOT_FOUND = "No camera was found. Plug one in and try again, or continue with audio only."
CAMERA_PERMISSION = (
    "StudyMatch is not allowed to use your camera. "
    "Allow it in {hint}, then try again, or continue with audio only."
)
CAMERA_UNKNOWN = "Your camera could not be started. Try again, or continue with audio only."
CAMERA_LOST = (
    "Your camera stopped sending video (was it unplugged?). "
    "Plug it back in and try again, or continue with audio only."
)
CAMERA_TIMEOUT = (
    "Your camera did not answer in time. "
    "Check that no other application is using it and try again, or continue with audio only."
)
# avfoundation waits for a first frame forever while macOS has not granted the camera.
CAMERA_TIMEOUT_MACOS = (
    "Your camera did not start. If macOS asked about camera access, allow it in "
    "System Settings > Privacy & Security > Camera, then try again, or continue with audio only."
)

MICROPHONE_BUSY = (
    "Your microphone is being used by another application. "
    "Close that application and try again; until then your partner will not hear you."
)
MICROPHONE_NOT_FOUND = (
    "No microphone was found. Plug one in and try again; "
    "until then you can listen and use the chat."
)
MICROPHONE_PERMISSION = (
    "StudyMatch is not allowed to use your microphone. "
    "Allow it in {hint}, then try again; until then you can listen and use the chat."
)
MICROPHONE_UNKNOWN = (
    "Your microphone could not be started. Try again; until then you can listen and use the chat."
)
SPEAKER_NOT_FOUND = (
    "The speaker you chose ({name}) was not found; sound plays through {used} instead. "
    "Choose another speaker in the lobby."
)
NO_SPEAKER = (
    "No speaker or headphones were found, so you will not hear your partner. "
    "Plug some in; the chat still works."
)


def _platform_key(platform: str) -> str:
    if platform.startswith("darwin"):
        return "darwin"
    if platform.startswith(("win", "cygwin")):
        return "win32"
    return "linux"


def screen_failed(detail: object, platform: str) -> str:
    """Why the screen could not be captured; on macOS, the permission that is most likely missing."""
    return SCREEN_FAILED_MACOS if _platform_key(platform) == "darwin" else SCREEN_FAILED.format(detail=detail)


def camera_timeout(platform: str) -> str:
    return CAMERA_TIMEOUT_MACOS if _platform_key(platform) == "darwin" else CAMERA_TIMEOUT


def device_message(device: str, code: str, platform: str) -> str:
    """The sentence for a device failure: device camera/microphone, code busy/not_found/..."""
    hint = _PRIVACY_HINT.get(device, _PRIVACY_HINT["camera"])[_platform_key(platform)]
    if device == "microphone":
        table = {
            "busy": MICROPHONE_BUSY,
            "not_found": MICROPHONE_NOT_FOUND,
            "permission_denied": MICROPHONE_PERMISSION,
        }
        fallback = MICROPHONE_UNKNOWN
    else:
        table = {
            "busy": CAMERA_BUSY,
            "not_found": CAMERA_NOT_FOUND,
            "permission_denied": CAMERA_PERMISSION,
        }
        fallback = CAMERA_UNKNOWN
    return table.get(code, fallback).format(hint=hint)


# --- Section 2: the call engine and the headless CLI (owner: client/engine.py) ---

SERVER_UNREACHABLE = (
    "Cannot reach the StudyMatch server at {server}. "
    "Trying again in {seconds:.1f} s; check your internet connection."
)
LOCAL_SERVER_UNREACHABLE = (
    "Cannot reach the StudyMatch server at {server}. "
    "Trying again in {seconds:.1f} s; check that the server is running on this computer."
)


def server_unreachable(url: str, seconds: float) -> str:
    """SERVER_UNREACHABLE, or its local twin when the address is this computer (no network involved)."""
    host = (urlsplit(url).hostname or "").lower()
    local = host == "localhost" or host.endswith(".localhost")
    if not local:
        try:
            local = ipaddress.ip_address(host).is_loopback
        except ValueError:
            pass  # a name: it may be anywhere
    return (LOCAL_SERVER_UNREACHABLE if local else SERVER_UNREACHABLE).format(server=url, seconds=seconds)
SERVER_WENT_AWAY = "Lost the connection to the StudyMatch server. Reconnecting in {seconds:.1f} s."
SERVER_RESTARTING = "The StudyMatch server is restarting. Reconnecting in {seconds:.1f} s."
SERVER_REFUSED = "The StudyMatch server refused this app: {detail} Update StudyMatch or check its settings."
CONNECT_GAVE_UP = (
    "Could not reach the StudyMatch server at {server} within {seconds:.0f} s. "
    "Check that the server is running and that the address is right."
)
MEDIA_TIMEOUT = (
    "Could not connect to your partner within {seconds:.0f} s (a firewall may be in the way). "
    "Skip to find someone else."
)
MEDIA_CONNECTION_FAILED = "The connection to your partner failed. Skip to find someone else."
FELL_BACK_TO_AUDIO = "Continuing with audio only because your camera is not available."
BACK_TO_VIDEO = "Your camera works again: your next call will be a video call."
CHAT_NOT_OPEN = "The chat is not open yet: wait until you are connected to your partner."
# A call outlives the server connection (client/engine.py resumes it).
SESSION_NOT_RESUMED = "The server could not take this call back after the connection dropped, so it ended."
SESSION_REPLACED = "This call was taken over by StudyMatch on another connection, so it ended here."
WINDOW_MISSING = (
    "The StudyMatch window is not available in this installation ({detail}). "
    "Run `studymatch --headless` to use StudyMatch without a window."
)
TALK_OR_QUIET = "Choose --talk or --quiet, not both."


# --- Section 3: a secure connection to the server (owner: client/signaling.py) ---

CERTIFICATE_PROBLEM = (
    "The StudyMatch server at {server} could not prove it is the real server, because its "
    "security certificate {why}, so StudyMatch did not connect; tell whoever runs the server "
    "(trying again in {seconds:.0f} s)."
)
_CERTIFICATE_WHY = {
    10: "has expired",  # X509_V_ERR_CERT_HAS_EXPIRED
    9: "is not valid yet (is this computer's clock right?)",  # X509_V_ERR_CERT_NOT_YET_VALID
    18: "was signed by the server itself, not by an authority this computer trusts",
    19: "comes from an authority this computer does not trust",
    20: "comes from an authority this computer does not trust",
    21: "comes from an authority this computer does not trust",
    62: "was made for a different address",  # X509_V_ERR_HOSTNAME_MISMATCH
    64: "was made for a different address",  # X509_V_ERR_IP_ADDRESS_MISMATCH
}


CA_FILE_UNREADABLE = (
    "The certificate file {path} given with --ca-file cannot be read; check the path and that it "
    "holds PEM certificates."
)


RELAY_ONLY_NO_TURN = (
    "You asked to hide your IP address from partners, but this server offers no relay (TURN) "
    "server, so calls cannot connect; ask whoever runs the server to add one, or turn that setting off."
)


def certificate_problem(server: str, verify_code: int, seconds: float) -> str:
    """One sentence for a failed certificate check (`ssl.SSLCertVerificationError.verify_code`)."""
    why = _CERTIFICATE_WHY.get(verify_code, "could not be checked")
    return CERTIFICATE_PROBLEM.format(server=server, why=why, seconds=seconds)

# --- Section 4: the window (owner: client/ui/) -----------------------------------

APP_NAME = "StudyMatch"  # a name, not translated
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
SEARCHING_TIME = "Time searching"  # for screen readers

# Call
PRACTICE_PARTNER = "Practice partner (your own video and voice, a second late)"
PARTNER_VIDEO = "Partner · video"
PARTNER_AUDIO = "Partner · audio only"
PARTNER_SUBJECT = " · {topic}"
CONNECTING = "Connecting…"
MUTE = "Mute"
UNMUTE = "Unmute"
CAMERA_OFF = "Camera off"
CAMERA_ON = "Camera on"
SKIP = "Next"
SKIP_TIP = "Skip to the next partner (N)"
END = "End"
END_TIP = "End the call and go back (Esc)"
REPORT = "Report"
REPORT_TIP = "Don't meet this partner again, or report them for bad behaviour (which also blocks them)"
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
MEDIA_RECONNECTING = "Reconnecting…"  # over the partner's last picture while the media is rebuilt
NOTICE_SIGNALING_LOST = "Connection to the server lost. Your call goes on while StudyMatch reconnects…"
NOTICE_PARTNER_RECONNECTING = "Your partner is reconnecting…"
NOTICE_PARTNER_TIMED_OUT = "Your partner's connection did not come back, so the call ended."
NO_VIDEO_SELF = "Camera off"
# For screen readers
CALL_PARTNER = "Partner"
CALL_TIME = "Call time"
CHAT_MESSAGES = "Chat messages"
CHAT_MESSAGE = "Chat message"
SERVER_STATUS = "Server connection"
NOTICES = "Notices"
NOTICE_A11Y = "Notice: {text}"

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
NOTICE_REPORTED = "Thank you. Your report was sent, and you won't be matched with this person again."
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
SETTINGS_LANGUAGE = "Language"
SETTINGS_LANGUAGE_SYSTEM = "System default"
SETTINGS_LANGUAGE_HINT = "A new language shows the next time you start StudyMatch."

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
    ("H", "Show your history and progress"),
    ("F1 or ?", "Show or hide this help"),
)


# The mini window that stays on top during a call (owner: client/ui/miniwindow.py).
MINI_TITLE = "StudyMatch call"
MINI_AUDIO_CALL = "Audio call"
MINI_PARTNER_LEVEL = "Your partner's voice"  # the level meter, for screen readers
MINI_OPEN_SESSION = "Open session"
MINI_DRAG_TIP = "Drag to move; it comes back here next time"
SETTINGS_MINI_WINDOW = "Show a small window on top during a call while you work in another app"
SETTINGS_SMOOTH_VIDEO = "Always smooth video (uses more battery: a still picture is sent at full rate too)"
LOW_POWER_LINE = "On battery: your video is sent at up to 15 frames a second and 480p"

# --- Section 5: the headless client's lines (owner: client/eventformat.py) ---------
# Codes from the protocol (a partner_left reason, an error code) stay as they are: scripts read them.

HEADLESS_CONNECTED = "connected to {server}"
HEADLESS_QUEUED = "looking for a {mode} partner ({topic})"
HEADLESS_KINDS = {"video": "video", "audio": "audio"}
HEADLESS_TOPIC = "topic {topic}"
HEADLESS_ANY_TOPIC = "any topic"
HEADLESS_MATCHED = "matched (session {session})"
HEADLESS_MATCHED_CALLER = "matched (session {session}, you call)"
HEADLESS_MEDIA_CONNECTED = "connected to your partner in {ms:.0f} ms"
HEADLESS_FIRST_FRAME = "first {kind} from your partner after {ms:.0f} ms"
HEADLESS_YOU = "you"
HEADLESS_PARTNER = "partner"
HEADLESS_PARTNER_LEFT = "your partner left ({reason})"
HEADLESS_PARTNER_CAMERA_ON = "your partner's camera is on"
HEADLESS_PARTNER_CAMERA_OFF = "your partner's camera is off"
HEADLESS_CALL_ENDED = "call ended after {seconds:.1f} s ({video} video frames, {audio} audio frames{latency})"
HEADLESS_LATENCY = ", latency p50 {latency:.0f} ms"
HEADLESS_IDLE = "not looking for a partner"
HEADLESS_ERROR = "error ({code}): {message}"
HEADLESS_SHUTDOWN = "the server is restarting (retry in {seconds:.0f} s)"
HEADLESS_SIGNALING_LOST = "lost the server; the call goes on (reconnecting in {seconds:.1f} s)"
HEADLESS_RESUMED = "back on the server (session {session})"
HEADLESS_PARTNER_RECONNECTING = "your partner is reconnecting"
HEADLESS_PARTNER_RESUMED = "your partner is back"
HEADLESS_MEDIA_RECONNECTING = "the media stopped; reconnecting (attempt {attempt})"
HEADLESS_MEDIA_RESTORED = "the media is back after {ms:.0f} ms"
# A study session (client/study.py)
HEADLESS_SESSION_STARTED = "study session of {length} minutes ({talk})"
HEADLESS_SESSION_OPEN = "open study session ({talk})"
HEADLESS_PHASE = "phase: {phase}"
HEADLESS_PARTNER_GOAL = "your partner's goal: {text}"
HEADLESS_PARTNER_READY = "your partner is ready"
HEADLESS_PARTNER_CHECKOUT = "your partner checked out: {done} {note}"
HEADLESS_PARTNER_BRB = "your partner will be right back"
HEADLESS_PARTNER_BACK = "your partner is back"
HEADLESS_POMODORO_ON = "the Pomodoro is on"
HEADLESS_POMODORO_OFF = "the Pomodoro is off"
HEADLESS_SPEAKING_WHILE_MUTED = "you are muted"
# Coming back (client/comeback.py, docs/protocol.md "Coming back")
HEADLESS_FAVOURITE_SEARCH = "looking for one of your {count} favourites for {seconds:.0f} s"
HEADLESS_MATCHED_FAVOURITE = "matched with your favourite {nickname} (session {session})"
HEADLESS_PARTNER_AGAIN_ON = "your partner would study with you again"
HEADLESS_PARTNER_AGAIN_OFF = "your partner no longer ticks study again"
HEADLESS_FAVOURITE_SAVED = "saved your partner as a favourite: {nickname}"
HEADLESS_HISTORY_UNUSABLE = "Cannot use the history file for favourites and blocks: {detail}"

# Coming back: favourites and "never again" (the engine's events; the window shows them too)
FAVOURITE_DEFAULT_NICKNAME = "Partner of {date}"
FAVOURITE_NONE_CAME = "None of your favourites came in time, so you are looking for anyone now."
FAVOURITE_NOT_SUPPORTED = "This server cannot look for favourites, so you are looking for anyone now."
PARTNER_BLOCKED = "You will not be matched with this partner again."
PARTNER_BLOCK_NOBODY = "There is no partner to block yet."
PARTNER_BLOCK_UNNAMED = (
    "This partner cannot be blocked: their app or the server is too old to tell them apart."
)


# Study session (lobby choices, the call page's study panel)
STUDY_LENGTH_LABEL = "Session"
STUDY_LENGTH_MINUTES = "{minutes} min"
STUDY_LENGTH_OPEN = "Open"
STUDY_TALK_LABEL = "Talking"
STUDY_TALK_CHOICES = {"talk": "Talk", "quiet": "Quiet", "": "Either"}
STUDY_PHASES = {"check_in": "Check-in", "focus": "Focus", "break": "Break", "check_out": "Check-out"}
STUDY_QUIET_BADGE = "Quiet session"
STUDY_GOAL_PLACEHOLDER = "What will you get done in this session?"
STUDY_GOAL_MINE = "You: {goal}"
STUDY_GOAL_PARTNER = "Partner: {goal}"
STUDY_GOAL_NONE = "(no goal yet)"
STUDY_READY = "Ready"
STUDY_PARTNER_READY = "Your partner is ready."
STUDY_POMODORO = "Pomodoro 25/5"
STUDY_POMODORO_TIP = "25 minutes of focus and 5 of break, the same for both of you"
STUDY_BRB = "Be right back"
STUDY_BACK = "I'm back"
STUDY_PARTNER_BRB = "Your partner: back in {time}"
STUDY_CHECKOUT_QUESTION = "Did you reach your goal?"
STUDY_DONE_CHOICES = {"yes": "Done", "partly": "Partly", "no": "Not yet"}
STUDY_NOTE_PLACEHOLDER = "One sentence about how it went (optional)"
STUDY_CHECK_OUT = "Check out"
STUDY_CHECKED_OUT = "Checked out. Thank you!"
STUDY_PARTNER_CHECKOUT = "Your partner: {done}"
STUDY_NEXT_PARTNER = "Next partner"
STUDY_TIME = "Session time"  # for screen readers
NOTICE_YOU_ARE_MUTED = "You are muted. Press M to unmute."

# Coming back: favourites, "never again", and the live counts while searching (issue 14)
COUNTS_ONLINE = {"one": "{n} student online", "other": "{n} students online"}
COUNTS_VIDEO = "{n} searching for video"
COUNTS_AUDIO = "{n} for audio"
COUNTS_TOPIC = "{n} in {topic}"
COUNTS_TOPIC_NOBODY = "nobody else in {topic} yet"
COUNTS_A11Y = "Who else is here"  # for screen readers
SEARCH_ANY_SUBJECT = "Search any subject"
SEARCH_ANY_SUBJECT_TIP = "Nobody else is looking for this subject right now: look for a partner in any subject"
FAVOURITE_SEARCHING = "Looking for a favourite (up to {seconds:.0f} s)…"
FIND_FAVOURITE = "Study with a favourite"
FIND_FAVOURITE_TIP = "Look for one of your favourites who is online, then for anyone"
FIND_FAVOURITE_NONE_TIP = (
    "You have no favourites yet. Tick \"Study again with this partner\" in a call: "
    "when your partner ticks it too, they become a favourite."
)
BLOCK_LAST = "Don't match me with my last partner again"
BLOCK_LAST_TIP = "You will never be matched with the partner of your last call again"
AGAIN = "Study again with this partner"
AGAIN_TIP = "If your partner ticks it too, they become a favourite you can look for later"
AGAIN_NICKNAME = "A nickname only you will see"
PARTNER_AGAIN = "Your partner would like to study again"
PARTNER_FAVOURITE = "Studying with {nickname}"
BLOCK = "Don't match me with this partner again"
BLOCK_TIP = "You will never be matched with this partner again; they are not told"
BLOCK_UNAVAILABLE_TIP = "This server cannot tell your partner apart from others, so it cannot keep you apart"
REPORT_ALSO_BLOCKS = "Reporting also means you are never matched with this partner again."
NOTICE_FAVOURITE_SAVED = "Saved as a favourite: {nickname}"
FAVOURITES = "Favourites"
FAVOURITES_EMPTY = "No favourites yet. Partners you both want to study with again show here."
FAVOURITES_RENAME = "Rename"
FAVOURITES_REMOVE = "Remove"
FAVOURITES_SINCE = "{nickname} · since {date}"
FAVOURITES_BLOCKED = {"one": "{n} partner blocked", "other": "{n} partners blocked"}

# History and progress (the lobby's History button, client/ui/views/history.py)
HISTORY = "History"
HISTORY_TIP = "Your study sessions and progress (H)"
HISTORY_TITLE = "Your history"
HISTORY_CHART_TITLE = "Minutes studied per day, last 4 weeks"
HISTORY_MINUTES = "Minutes"
HISTORY_CURRENT_STREAK = "Current streak (days in a row)"
HISTORY_LONGEST_STREAK = "Longest streak (days in a row)"
HISTORY_GOALS_DONE = "Goals done"
HISTORY_TOTAL_MINUTES = "Minutes in the last 4 weeks"
HISTORY_EMPTY = "No sessions yet. A study session shows here when its call ends, if it lasted a minute or more."
HISTORY_EXPORT = "Export CSV"
HISTORY_CSV_FILTER = "CSV files (*.csv)"
HISTORY_EXPORTED = "Sessions exported: {count}, to {path}"
HISTORY_EXPORT_FAILED = "Could not write {path}: {error}"

# Background effects (issue 16): blur or a plain colour behind you, before the camera is encoded
BACKGROUND_LABEL = "Background"
BACKGROUND_CHOICES = {"none": "Show my room", "blur": "Blur", "colour": "Plain colour"}
BACKGROUND_BUTTON = "Hide background"
BACKGROUND_TIP = "Blur what is behind you, or paint it a plain colour; your partner sees what you see"
BACKGROUND_UNAVAILABLE = (
    "Background blur could not start on this computer, so your partner sees your room as it is."
)

# Screen sharing's sources (client/media/screen.py): what the picker says when it finds nothing
SCREEN_NAME = "Screen {n} ({width}x{height})"
SCREEN_WAYLAND = (
    "Sharing your screen is not supported on Wayland yet. Log in with an X11 session "
    "(\"on Xorg\" on the login screen) to share it."
)
SCREEN_NO_DISPLAY = "There is no screen to share: StudyMatch is not running on a desktop."
SCREEN_FAILED = "Your screen could not be captured ({detail})."
# macOS hands out the screen only with the Screen Recording permission, asked for like the camera's.
SCREEN_FAILED_MACOS = (
    "Your screen could not be captured. StudyMatch needs the Screen Recording permission: allow it in "
    "System Settings > Privacy & Security > Screen Recording, then quit and reopen StudyMatch and try again."
)
SCREEN_NONE = "No screen was found to share."
SCREEN_NOT_FOUND = "There is no screen {n} to share (screens found: {count})."
SCREEN_LOST = "Your screen stopped sending pictures, so your partner sees your camera again."
SCREEN_AUDIO_CALL = "This call has no video, so there is no picture to share your screen in."

# Screen sharing in the call (issue 16)
SCREEN_SHARE = "Share screen"
SCREEN_SHARE_TIP = "Show your partner your screen instead of your camera, until you stop"
SCREEN_STOP = "Stop sharing"
SCREEN_STOP_TIP = "Send your camera again instead of your screen"
SCREEN_PICKER_TITLE = "Share your screen"
SCREEN_PICKER_PROMPT = "Choose a screen. Your partner sees it instead of your camera until you stop sharing."
SCREEN_PICKER_SHARE = "Share"
SCREEN_SHARING_SELF = "You are sharing your screen"
SCREEN_PARTNER_SHARING = "Your partner is sharing their screen"
SCREEN_ZOOM_IN = "Click the picture to see it at full size"
SCREEN_ZOOM_OUT = "Click the picture to fit it to the window"
HEADLESS_SHARING_ON = "sharing the screen"
HEADLESS_SHARING_OFF = "stopped sharing the screen"
HEADLESS_PARTNER_SCREEN_ON = "your partner is sharing their screen"
HEADLESS_PARTNER_SCREEN_OFF = "your partner stopped sharing their screen"

# English, as written above; `set_language` rebinds the names from it.
SOURCE = language.sentences(globals(), untranslated=("APP_NAME", "NOT_MEASURED", "PARTNER_SUBJECT"))
current_language = language.SOURCE_LANGUAGE


def set_language(code: str) -> None:
    """Every sentence in `code` from now on (English where `code` has no translation)."""
    global current_language
    translated: dict[str, Any] = language.translate(SOURCE, code)
    globals().update(translated)
    current_language = code
