"""Every sentence the client shows a person, in one place.

Kept together so the wording stays consistent and can be translated later.
Each device sentence says what happened and what the person can do next.

Section 1 (media: devices) is owned by the media code; the call engine
appends its own sentences in a separate section at the end.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

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
CAMERA_NOT_FOUND = (
    "No camera was found. Plug one in and try again, or continue with audio only."
)
CAMERA_PERMISSION = (
    "StudyMatch is not allowed to use your camera. "
    "Allow it in {hint}, then try again, or continue with audio only."
)
CAMERA_UNKNOWN = (
    "Your camera could not be started. Try again, or continue with audio only."
)
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


# --- end of section 1 (media) -------------------------------------------------


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
NOT_CONNECTED = "Not connected to the StudyMatch server yet; your request will be sent when it is."
NOTHING_TO_SKIP = "There is no call to skip."
CHAT_NOT_OPEN = "The chat is not open yet: wait until you are connected to your partner."
WINDOW_MISSING = (
    "The StudyMatch window is not available in this installation ({detail}). "
    "Run `studymatch --headless` to use StudyMatch without a window."
)

# --- end of section 2 (engine) ------------------------------------------------


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

# --- end of section 3 ----------------------------------------------------------
