"""Engine events as lines: JSON for scripts (`--events json`), short text for people.

The JSON names and fields are the command-line contract, listed in the README
("Headless client"); tests and benchmarks parse them, so they change only
additively. Events not in that list (frames, the window's stats...) have no JSON line.
"""

from __future__ import annotations

import json
from typing import Any

from . import events as ev
from . import messages


def to_record(event: ev.EngineEvent, t: float) -> dict[str, Any] | None:
    """The JSON object for an event (with `event` and `t`, Unix time), or None."""
    fields: dict[str, Any]
    match event:
        case ev.Connected(server=server):
            name, fields = "connected", {"server": server}
        case ev.Counts(online=online, video=video, audio=audio, topic=topic):
            name, fields = "counts", {"online": online, "video": video, "audio": audio, "topic": topic}
        case ev.Queued(mode=mode, topic=topic):
            name, fields = "queued", {"mode": mode, "topic": topic}
        case ev.Matched(session=session, initiator=initiator, favourite=favourite):
            name, fields = "matched", {"session": session, "initiator": initiator, "favourite": favourite}
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
        case ev.ScreenShare(session=session, on=on, message=message):
            name, fields = "screen_share", {"session": session, "on": on, "message": message}
        case ev.PartnerScreen(session=session, on=on):
            name, fields = "partner_screen", {"session": session, "on": on}
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
        case ev.ChatMessage(session=session, text=text, mine=mine):
            name, fields = "chat", {"session": session, "text": text, "mine": mine}
        case ev.VideoStats(session=session, width=width, height=height, fps=fps, kbps=kbps):
            name = "video_stats"
            fields = {"session": session, "width": width, "height": height, "fps": round(fps, 1),
                      "kbps": None if kbps is None else round(kbps, 1)}
        case ev.SignalingLost(session=session, retry_in=retry_in, message=message):
            name, fields = "signaling_lost", {"session": session, "retry_in": retry_in, "message": message}
        case ev.Resumed(session=session):
            name, fields = "resumed", {"session": session}
        case ev.PartnerReconnecting(session=session):
            name, fields = "partner_reconnecting", {"session": session}
        case ev.PartnerResumed(session=session):
            name, fields = "partner_resumed", {"session": session}
        case ev.MediaReconnecting(session=session, attempt=attempt):
            name, fields = "media_reconnecting", {"session": session, "attempt": attempt}
        case ev.MediaRestored(session=session, gone_ms=gone_ms):
            name, fields = "media_restored", {"session": session, "gone_ms": round(gone_ms, 1)}
        case ev.SessionStarted(session=session, length=length, talk=talk, started_at=started, ends_at=ends):
            name = "session_started"
            fields = {"session": session, "length": length, "talk": talk, "started_at": started, "ends_at": ends}
        case ev.SessionPhase(session=session, phase=phase, until=until):
            name, fields = "phase", {"session": session, "phase": phase, "until": until}
        case ev.PartnerGoal(session=session, text=text):
            name, fields = "partner_goal", {"session": session, "text": text}
        case ev.PartnerReady(session=session):
            name, fields = "partner_ready", {"session": session}
        case ev.PartnerCheckout(session=session, done=done, note=note):
            name, fields = "partner_checkout", {"session": session, "done": done, "note": note}
        case ev.PartnerBrb(session=session, until=until):
            name, fields = "partner_brb", {"session": session, "until": until}
        case ev.Pomodoro(session=session, on=on):
            name, fields = "pomodoro", {"session": session, "on": on}
        case ev.SpeakingWhileMuted(session=session):
            name, fields = "speaking_while_muted", {"session": session}
        case ev.FavouriteSearch(favourites=count, wait=wait):
            name, fields = "favourite_search", {"favourites": count, "wait": wait}
        case ev.FavouriteFallback(message=message):
            name, fields = "favourite_fallback", {"message": message}
        case ev.PartnerAgain(session=session, on=on):
            name, fields = "partner_again", {"session": session, "on": on}
        case ev.FavouriteSaved(session=session, nickname=nickname):
            name, fields = "favourite_saved", {"session": session, "nickname": nickname}
        case ev.PartnerBlocked(session=session, blocked=blocked, message=message):
            name, fields = "partner_blocked", {"session": session, "blocked": blocked, "message": message}
        case _:
            return None
    return {"event": name, "t": t, **fields}


def to_json_line(event: ev.EngineEvent, t: float) -> str | None:
    record = to_record(event, t)
    return None if record is None else json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def to_text(event: ev.EngineEvent) -> str | None:
    """One line a person can read (client/messages.py), or None for events too frequent to print."""
    match event:
        case ev.Connected(server=server):
            return messages.HEADLESS_CONNECTED.format(server=server)
        case ev.Disconnected(message=message):
            return message
        case ev.Queued(mode=mode, topic=topic):
            where = messages.HEADLESS_TOPIC.format(topic=topic) if topic else messages.HEADLESS_ANY_TOPIC
            return messages.HEADLESS_QUEUED.format(mode=messages.HEADLESS_KINDS.get(mode, mode), topic=where)
        case ev.Matched(session=session, favourite=str(nickname)):
            return messages.HEADLESS_MATCHED_FAVOURITE.format(nickname=nickname, session=session)
        case ev.Matched(session=session, initiator=initiator):
            return (messages.HEADLESS_MATCHED_CALLER if initiator else messages.HEADLESS_MATCHED).format(session=session)
        case ev.MediaConnected(ms_since_matched=ms):
            return messages.HEADLESS_MEDIA_CONNECTED.format(ms=ms)
        case ev.MediaFailed(message=message):
            return message
        case ev.FirstRemoteFrame(kind=kind, ms_since_matched=ms):
            return messages.HEADLESS_FIRST_FRAME.format(kind=messages.HEADLESS_KINDS.get(kind, kind), ms=ms)
        case ev.ChatMessage(text=text, mine=mine):
            return f"{messages.HEADLESS_YOU if mine else messages.HEADLESS_PARTNER}: {text}"
        case ev.DeviceErrorEvent(device=device, message=message):
            return f"{device}: {message}"
        case ev.ModeChanged(message=message):
            return message
        case ev.PartnerLeft(reason=reason):
            return messages.HEADLESS_PARTNER_LEFT.format(reason=reason)
        case ev.PartnerCamera(on=on):
            return messages.HEADLESS_PARTNER_CAMERA_ON if on else messages.HEADLESS_PARTNER_CAMERA_OFF
        case ev.ScreenShare(on=on, message=message):
            said = messages.HEADLESS_SHARING_ON if on else messages.HEADLESS_SHARING_OFF
            return said if message is None else f"{said}: {message}"
        case ev.PartnerScreen(on=on):
            return messages.HEADLESS_PARTNER_SCREEN_ON if on else messages.HEADLESS_PARTNER_SCREEN_OFF
        case ev.CallEnded(seconds=seconds, video_frames=video, audio_frames=audio, latency_ms_p50=latency):
            extra = "" if latency is None else messages.HEADLESS_LATENCY.format(latency=latency)
            return messages.HEADLESS_CALL_ENDED.format(seconds=seconds, video=video, audio=audio, latency=extra)
        case ev.Idle():
            return messages.HEADLESS_IDLE
        case ev.Counts():
            return None  # once a second while searching: too frequent to print
        case ev.ErrorEvent(code=code, message=message):
            return messages.HEADLESS_ERROR.format(code=code, message=message)
        case ev.Shutdown(retry_after=retry_after):
            return messages.HEADLESS_SHUTDOWN.format(seconds=retry_after)
        case ev.SignalingLost(retry_in=retry_in):
            return messages.HEADLESS_SIGNALING_LOST.format(seconds=retry_in)
        case ev.Resumed(session=session):
            return messages.HEADLESS_RESUMED.format(session=session)
        case ev.PartnerReconnecting():
            return messages.HEADLESS_PARTNER_RECONNECTING
        case ev.PartnerResumed():
            return messages.HEADLESS_PARTNER_RESUMED
        case ev.MediaReconnecting(attempt=attempt):
            return messages.HEADLESS_MEDIA_RECONNECTING.format(attempt=attempt)
        case ev.MediaRestored(gone_ms=gone_ms):
            return messages.HEADLESS_MEDIA_RESTORED.format(ms=gone_ms)
        case ev.SessionStarted(length=length, talk=talk):
            if length is None:
                return messages.HEADLESS_SESSION_OPEN.format(talk=talk)
            return messages.HEADLESS_SESSION_STARTED.format(length=length, talk=talk)
        case ev.SessionPhase(phase=phase):
            return messages.HEADLESS_PHASE.format(phase=phase)
        case ev.PartnerGoal(text=text):
            return messages.HEADLESS_PARTNER_GOAL.format(text=text)
        case ev.PartnerReady():
            return messages.HEADLESS_PARTNER_READY
        case ev.PartnerCheckout(done=done, note=note):
            return messages.HEADLESS_PARTNER_CHECKOUT.format(done=done, note=note).rstrip()
        case ev.PartnerBrb(until=until):
            return messages.HEADLESS_PARTNER_BACK if until is None else messages.HEADLESS_PARTNER_BRB
        case ev.Pomodoro(on=on):
            return messages.HEADLESS_POMODORO_ON if on else messages.HEADLESS_POMODORO_OFF
        case ev.SpeakingWhileMuted():
            return messages.HEADLESS_SPEAKING_WHILE_MUTED
        case ev.FavouriteSearch(favourites=count, wait=wait):
            return messages.HEADLESS_FAVOURITE_SEARCH.format(count=count, seconds=wait)
        case ev.FavouriteFallback(message=message) | ev.PartnerBlocked(message=message):
            return message
        case ev.PartnerAgain(on=on):
            return messages.HEADLESS_PARTNER_AGAIN_ON if on else messages.HEADLESS_PARTNER_AGAIN_OFF
        case ev.FavouriteSaved(nickname=nickname):
            return messages.HEADLESS_FAVOURITE_SAVED.format(nickname=nickname)
    return None
