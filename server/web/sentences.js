// Every sentence the web client shows, in one place (as client/messages.py is for the desktop).
// The device sentences are the desktop app's, with the browser's own place to allow a device.

const ALLOW_HINT = "your browser's site settings (the icon beside the address)";

export const S = {
  title: "StudyMatch: find a study partner",
  lobbyHeading: "Study with someone, right now",
  lobbySub: "One click finds a random partner who wants to study too.",
  modeLabel: "How do you want to meet?",
  modeVideo: "Video",
  modeAudio: "Audio only",
  subjectLabel: "Subject (optional)",
  subjectPlaceholder: "e.g. calculus (empty: any subject)",
  findPartner: "Find partner",
  previewIdle: "Your camera turns on when you press Find partner.",
  previewAudio: "Audio only: your camera stays off",
  previewNoCamera: "No camera picture: see the message above",
  searchingTitle: "Looking for a study partner…",
  searchingSubject: "Subject: {topic}",
  searchingAny: "Any subject",
  cancel: "Cancel",
  connecting: "Connecting…",
  mute: "Mute",
  unmute: "Unmute",
  cameraOff: "Camera off",
  cameraOn: "Camera on",
  next: "Next",
  end: "End",
  report: "Report",
  reportTitle: "Report this partner",
  reportSend: "Send report",
  reportReasons: ["Inappropriate behaviour", "Harassment", "Spam or advertising", "Other"],
  chatPlaceholder: "Type a message and press Enter",
  chatSend: "Send",
  chatMe: "You",
  chatPartner: "Partner",
  chatEmpty: "Messages you send appear here.",
  partnerCameraOff: "Your partner's camera is off",
  partnerSharing: "Your partner is sharing their screen",
  partnerAudioOnly: "Audio only",
  partnerLeft: "Your partner left the call.",
  partnerLeftAgain: "Your partner left the call. Looking for someone new…",
  partnerReported: "The call ended after a report.",
  reported: "Thank you. Your report was sent, and you won't be matched with this person again.",
  resuming: "Picking up your call…",
  partnerReconnecting: "Your partner is reconnecting…",
  mediaFailed: "The call could not connect. Try the next partner.",
  serverUnreachable: "Cannot reach the StudyMatch server. Check your internet connection and try again.",
  tokenNeeded: "This StudyMatch server only lets in people with an access token. Open the link your school gave you.",
  tokenRejected: "This StudyMatch server did not accept your access token (it may have expired). Open a current link from your school.",
  serverLost: "Connection to the server lost. Reconnecting in {seconds} s…",
  serverShutdown: "The server is restarting. Reconnecting in {seconds} s…",
  serverError: "The server said: {message}",
  noMediaDevices: "This page cannot use a camera or microphone here: open it over https (or on this computer, at localhost).",
  actionAudioOnly: "Continue with audio only",
  actionTryAgain: "Try again",
  actionContinue: "Continue without microphone",
  camera: {
    busy: "Your camera is being used by another application. Close that application and try again, or continue with audio only.",
    not_found: "No camera was found. Plug one in and try again, or continue with audio only.",
    permission_denied: `StudyMatch is not allowed to use your camera. Allow it in ${ALLOW_HINT}, then try again, or continue with audio only.`,
    unknown: "Your camera could not be started. Try again, or continue with audio only.",
  },
  microphone: {
    busy: "Your microphone is being used by another application. Close that application and try again; until then your partner will not hear you.",
    not_found: "No microphone was found. Plug one in and try again; until then you can listen and use the chat.",
    permission_denied: `StudyMatch is not allowed to use your microphone. Allow it in ${ALLOW_HINT}, then try again; until then you can listen and use the chat.`,
    unknown: "Your microphone could not be started. Try again; until then you can listen and use the chat.",
  },
};

// getUserMedia's DOMException names (and Chromium's older aliases) -> the desktop's codes.
const CODES = {
  NotReadableError: "busy",
  TrackStartError: "busy",
  AbortError: "busy",
  NotFoundError: "not_found",
  DevicesNotFoundError: "not_found",
  OverconstrainedError: "not_found",
  NotAllowedError: "permission_denied",
  PermissionDeniedError: "permission_denied",
  SecurityError: "permission_denied",
};

export function deviceCode(error) {
  return CODES[error && error.name] || "unknown";
}

export function deviceMessage(device, error) {
  return S[device][deviceCode(error)];
}

export function fill(text, values) {
  return text.replace(/\{(\w+)\}/g, (whole, key) => (key in values ? String(values[key]) : whole));
}
