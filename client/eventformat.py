"""Engine events as lines: JSON for scripts (`--events json`), short text for people.

The JSON names and fields are the command-line contract in the README ("Headless client")
(plus `partner_camera`, added since: README.md lists every event); tests and
benchmarks parse them, so they change only additively. Events not
in that table (frames, stats, chat...) have no JSON line.
"""

from __future__ import annotations

import json
from typing import Any

from . import events as ev


def to_record(event: ev.EngineEvent, t: float) -> dict[str, Any] | None:
    """The JSON object for an event (with `event` and `t`, Unix time), or None."""
    fields: dict[str, Any]
    match event:
        case ev.Connected(server=server):
            name, fields = "connected", {"server": server}
        case ev.Queued(mode=mode, topic=topic):
            name, fields = "queued", {"mode": mode, "topic": topic}
        case ev.Matched(session=session, initiator=initiator):
            name, fields = "matched", {"session": session, "initiator": initiator}
        case ev.MediaConnected(session=session, ms_since_matched=ms):
            name, fields = "media_connected", {"session": session, "ms_since_matched": ms}
        case ev.FirstRemoteFrame(session=session, kind=kind, ms_since_matched=ms):
            name, fields = "first_remote_frame", {"session": session, "kind": kind, "ms_since_matched": ms}
        case ev.DeviceErrorEvent(device=device, code=code, message=message):
            name, fields = "device_error", {"device": device, "code": code, "message": message}
        case ev.PartnerLeft(session=session, reason=reason):
            name, fields = "partner_left", {"session": session, "reason": reason}
        case ev.PartnerCamera(session=session, on=on):
            name, fields = "partner_camera", {"session": session, "on": on}
        case ev.CallEnded():
            name = "call_ended"
            fields = {
                "session": event.session,
                "seconds": event.seconds,
                "video_frames": event.video_frames,
                "audio_frames": event.audio_frames,
            }
            # Only a synthetic source carries its capture time.
            if event.latency_ms_p50 is not None:
                fields["latency_ms_p50"] = round(event.latency_ms_p50, 1)
        case ev.ErrorEvent(code=code, message=message):
            name, fields = "error", {"code": code, "message": message}
        case _:
            return None
    return {"event": name, "t": t, **fields}


def to_json_line(event: ev.EngineEvent, t: float) -> str | None:
    record = to_record(event, t)
    return None if record is None else json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def to_text(event: ev.EngineEvent) -> str | None:
    """One line a person can read, or None for events too frequent to print."""
    match event:
        case ev.Connected(server=server):
            return f"connected to {server}"
        case ev.Disconnected(message=message):
            return message
        case ev.Queued(mode=mode, topic=topic):
            return f"looking for a {mode} partner ({'topic ' + topic if topic else 'any topic'})"
        case ev.Matched(session=session, initiator=initiator):
            return f"matched (session {session}{', you call' if initiator else ''})"
        case ev.MediaConnected(ms_since_matched=ms):
            return f"connected to your partner in {ms:.0f} ms"
        case ev.MediaFailed(message=message):
            return message
        case ev.FirstRemoteFrame(kind=kind, ms_since_matched=ms):
            return f"first {kind} from your partner after {ms:.0f} ms"
        case ev.ChatMessage(text=text, mine=mine):
            return f"{'you' if mine else 'partner'}: {text}"
        case ev.DeviceErrorEvent(device=device, message=message):
            return f"{device}: {message}"
        case ev.ModeChanged(message=message):
            return message
        case ev.PartnerLeft(reason=reason):
            return f"your partner left ({reason})"
        case ev.PartnerCamera(on=on):
            return f"your partner's camera is {'on' if on else 'off'}"
        case ev.CallEnded(seconds=seconds, video_frames=video, audio_frames=audio, latency_ms_p50=latency):
            extra = "" if latency is None else f", latency p50 {latency:.0f} ms"
            return f"call ended after {seconds:.1f} s ({video} video frames, {audio} audio frames{extra})"
        case ev.Idle():
            return "not looking for a partner"
        case ev.ErrorEvent(code=code, message=message):
            return f"error ({code}): {message}"
        case ev.Shutdown(retry_after=retry_after):
            return f"the server is restarting (retry in {retry_after:.0f} s)"
    return None
