"""`studymatch`: the window, or with `--headless` the same call logic without one.

Every option can also be given as `STUDYMATCH_<OPTION>` in the environment
(`--call-seconds` -> `STUDYMATCH_CALL_SECONDS`; flags take 1/true/yes). The
command line is parsed here, once; the window (client/ui/app.py) is imported
only when it is asked for, so the headless client runs where Qt cannot.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from . import language, messages
from .engine import EngineConfig
from .headless import HeadlessOptions, run_headless
from .heap import freeze_startup_heap

ENV_PREFIX = "STUDYMATCH_"
_DEFAULTS = EngineConfig()
_TRUE = {"1", "true", "yes", "on"}


def env_name(option: str) -> str:
    return ENV_PREFIX + option.removeprefix("--").replace("-", "_").upper()


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, not {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


# (option, type or "flag", default, help)
_OPTIONS: list[tuple[str, Any, Any, str]] = [
    ("--headless", "flag", False, "run without a window"),
    ("--server", str, _DEFAULTS.server, "the StudyMatch server's websocket URL"),
    ("--mode", str, _DEFAULTS.mode, "video or audio"),
    ("--topic", str, None, "only partners studying this topic (default: any topic)"),
    ("--fake-media", "flag", False, "synthetic camera and microphone; no device is touched"),
    ("--camera", str, None, "camera device (a path, index or name); 'fake' = synthetic pattern, 'fake-person' = a synthetic person"),
    ("--microphone", str, None, "microphone device; 'fake' = synthetic tone"),
    ("--calls", _positive(int), None, "exit 0 after this many finished calls (headless)"),
    ("--call-seconds", _positive(float), None, "skip to the next partner after this long in a call (headless)"),
    ("--events", str, "text", "event output: json (one object per line) or text (headless)"),
    ("--connect-timeout", _positive(float), 10.0, "give up when the server is unreachable this long (headless)"),
    ("--media-timeout", _positive(float), _DEFAULTS.media_timeout, "seconds for media to connect"),
    ("--relay-only", "flag", False, "send media only through TURN relays (hides your IP address from partners)"),
    ("--token", str, None, "access token for a server that needs one (prefer STUDYMATCH_TOKEN)"),
    ("--length", str, "open", "study session length in minutes: 25, 50, 75 or open"),
    ("--talk", "flag", False, "only partners who want to talk"),
    ("--quiet", "flag", False, "only partners who want a quiet session (the microphone starts muted)"),
    ("--goal", str, None, "the goal to say at check-in, then ready; checks out at the end (headless)"),
    ("--ca-file", str, None, "extra trusted certificate authority (PEM) for a wss:// server"),
    ("--settings", str, None, "an INI file to keep the window's settings in (tests, demos)"),
    ("--history", str, None, "the history of study sessions, favourites and blocks, a SQLite file "
     "(default: the window's in the data folder; headless: none, kept in memory)"),
    ("--favourite", "flag", False, "tick 'study again' in every call and look for a favourite first (headless)"),
    ("--avoid-last", "flag", False, "never meet a partner again once its call ends (headless)"),
    ("--say", str, None, "send this chat line in every call once the chat opens (headless)"),
    ("--video-stats", "flag", False, "print the partner's decoded video size, frame rate and bitrate each second (headless)"),
    ("--share-screen", str, None, "share a screen in place of the camera once a call is up: 'fake' = "
     "a synthetic screen of text, or a screen's number (headless)"),
    ("--smooth-video", "flag", False, "send every camera frame, still or not (else the rate follows motion)"),
    ("--scene", str, "moving", "what the synthetic camera shows: moving, still or reading (benchmarks)"),
    ("--log-level", str, "warning", "debug, info, warning or error (logs go to stderr)"),
]
# The window keeps the server in its settings, and a server given here (or in the environment)
# replaces the saved one: so "not given" stays visible as None instead of the default.
_SAVED_BY_WINDOW = {"--server"}
_CHOICES = {
    "mode": ("video", "audio"),
    "events": ("json", "text"),
    "log_level": ("debug", "info", "warning", "error"),
    "length": ("25", "50", "75", "open"),
    "scene": ("moving", "still", "reading"),
}


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studymatch",
        description="StudyMatch: find a study partner right now. "
        "Every option can also be set as STUDYMATCH_<OPTION> in the environment.",
    )
    for option, kind, default, help_text in _OPTIONS:
        dest = option.removeprefix("--").replace("-", "_")
        raw = env.get(env_name(option))
        if kind == "flag":
            from_env = raw is not None and raw.strip().lower() in _TRUE
            parser.add_argument(option, action="store_true", default=from_env or default,
                                help=f"{help_text} [{env_name(option)}]")
        else:
            if raw is None:
                raw = None if option in _SAVED_BY_WINDOW else default
            # argparse applies `type` to a string default, so a bad env value is a usage error too.
            parser.add_argument(option, type=kind, choices=_CHOICES.get(dest), default=raw,
                                help=f"{help_text} (default: {default}) [{env_name(option)}]")
    return parser


def parse_args(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> argparse.Namespace:
    return build_parser(os.environ if env is None else env).parse_args(argv)


def engine_config(args: argparse.Namespace) -> EngineConfig:
    """The headless engine's settings from parsed options."""
    return EngineConfig(
        server=_DEFAULTS.server if args.server is None else args.server,
        mode=args.mode,
        topic=args.topic or None,
        camera=args.camera,
        microphone=args.microphone,
        fake_media=args.fake_media,
        media_timeout=args.media_timeout,
        relay_only=args.relay_only,
        token=args.token or None,
        ca_file=args.ca_file or None,
        length=None if args.length == "open" else int(args.length),
        talk="quiet" if args.quiet else "talk" if args.talk else None,
        smooth_video=args.smooth_video,
        scene=args.scene,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.talk and args.quiet:
        print(messages.TALK_OR_QUIET, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
        stream=sys.stderr,
    )
    messages.set_language(language.pick(language.environment_languages()))  # the window picks its own
    freeze_startup_heap()
    if not args.headless:
        try:
            from client.ui.app import WindowOptions, run_window
        except ImportError as exc:  # an installation without Qt: the headless client still runs
            print(messages.WINDOW_MISSING.format(detail=exc), file=sys.stderr)
            return 1
        return run_window(WindowOptions(
            server=args.server,
            fake_media=args.fake_media,
            settings=args.settings,
            relay_only=args.relay_only,
            token=args.token,
            ca_file=args.ca_file,
            history=args.history,
            scene=args.scene,
        ))
    options = HeadlessOptions(
        calls=args.calls,
        call_seconds=args.call_seconds,
        events=args.events,
        connect_timeout=args.connect_timeout,
        goal=args.goal,
        favourite=args.favourite,
        avoid_last=args.avoid_last,
        history=args.history or None,
        say=args.say or None,
        video_stats=args.video_stats,
        share_screen=args.share_screen or None,
    )
    try:
        return run_headless(engine_config(args), options)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
