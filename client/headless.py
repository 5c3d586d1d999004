"""`studymatch --headless`: the call engine without a window, for tests, benchmarks and bots.

It searches (with `--length`, `--talk`/`--quiet`), says `--goal` at a study
session's check-in and is ready at once, checks out by itself at the end and
leaves once both have, stays in each call for `--call-seconds` (then skips), queues
again after every call whoever ended it, and exits 0 after `--calls`
finished calls. It gives up (exit 1, with a sentence on stderr) when the
server stays unreachable for `--connect-timeout` seconds or refuses us.

Coming back (docs/protocol.md): `--favourite` ticks "Study again" in every call and
searches for a favourite first (anyone after the engine's wait); `--avoid-last` blocks
each partner when its call ends, before searching again. Favourites and blocks are kept
in `--history FILE` (the identity beside it), or in memory for the run.

`--share-screen fake` sends the synthetic screen of text (client/media/screen.py) in place of
the camera in every call once its media is up (`--share-screen 1`: the real screen 1).

For tests of other clients (the browser's): `--say TEXT` sends a chat line in every
call once its chat channel opens, and `--video-stats` prints the partner's decoded
video (size, frame rate) and the received bitrate once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import events as ev
from . import lostsends, messages
from .engine import FATAL_CODES, Engine, EngineConfig
from .eventformat import to_json_line, to_text
from .history.store import HistoryError, HistoryStore
from .people import People
from .session import CallState
from .videorate import VideoRate

CHAT_POLL = 0.05  # seconds between looks at a call's chat channel before --say


@dataclass(frozen=True)
class HeadlessOptions:
    calls: int | None = None  # None: run until interrupted
    call_seconds: float | None = None  # None: stay until the partner ends the call
    events: str = "text"  # "json" | "text"
    connect_timeout: float = 10.0
    goal: str | None = None  # said at check-in, then ready; None: just ready
    favourite: bool = False  # tick "Study again" in every call; search for a favourite first
    avoid_last: bool = False  # block each partner when its call ends
    history: str | None = None  # the local database (favourites, blocks); None: in memory
    say: str | None = None  # a chat line sent in every call, once the chat channel is open
    video_stats: bool = False  # a video_stats event once a second in a call
    share_screen: str | None = None  # "fake" or a screen's number: shared in every call once it is up


class HeadlessRunner:
    def __init__(self, config: EngineConfig, options: HeadlessOptions, out: TextIO, err: TextIO) -> None:
        self.config = config
        self.options = options
        self.out = out
        self.err = err
        # Opened before the engine: a history that cannot be used is an error the caller reports.
        self.store = None if options.history is None else open_store(options.history)
        people = People.in_memory() if self.store is None else People.beside(self.store)
        self.engine = Engine(config, self.on_event, people=people)
        self.finished_calls = 0
        self.exit_code: int | None = None
        self._done = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._deadline: asyncio.TimerHandle | None = None
        self._skip_timer: asyncio.TimerHandle | None = None
        self._video = VideoRate()
        self._kbps: float | None = None

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows has no signal handlers
                loop.add_signal_handler(sig, self._finish, 0)
        self._arm_deadline()
        try:
            await self.engine.start()
            await (self.engine.find_favourite() if self.options.favourite else self.engine.find())
            await self._done.wait()
        finally:
            # The handlers stay through the (bounded) goodbye: a SIGTERM that comes while we are
            # already leaving (our own deadline, the call's end) must not kill us half-way.
            self._cancel_timers()
            await self.engine.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            if self.store is not None:
                self.store.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
        return self.exit_code or 0

    # --- events -------------------------------------------------------------------------------

    def on_event(self, event: ev.EngineEvent) -> None:
        self._print(event)
        self._measure(event)
        match event:
            case ev.Connected():
                if self._deadline is not None:
                    self._deadline.cancel()
                    self._deadline = None
            case ev.Disconnected() if not self.engine.model.in_session:
                self._arm_deadline()  # a call goes on without the server: no giving up under it
            case ev.ErrorEvent(code=code, message=message) if code in FATAL_CODES:
                self.err.write(message + "\n")
                self._finish(1)
            case ev.MediaConnected(session=session) if self.options.call_seconds is not None:
                self._skip_later(session, self.options.call_seconds)
            case ev.MediaFailed(session=session):
                self._skip_later(session, 0.0)  # nothing to wait for: next partner
            case ev.CallEnded():
                self._call_ended()
            case ev.SessionStarted():
                if self.options.goal is not None:
                    self.engine.set_goal(self.options.goal)
                self.engine.set_ready()
                if self.options.favourite:
                    self.engine.set_again(True)
            case ev.SessionPhase(phase="check_out") if self.engine.study is not None \
                    and self.engine.study.mine.checkout is None:  # fmt: skip
                # A bot finishes the ritual: its goal counts as done.
                self.engine.check_out("yes" if self.options.goal else "no")
                self._leave_if_checked_out(event.session)
            case ev.PartnerCheckout(session=session):
                self._leave_if_checked_out(session)

    def _measure(self, event: ev.EngineEvent) -> None:
        """--say and --video-stats: what other clients' tests read from this one."""
        match event:
            case ev.MediaConnected(session=session):
                if self.options.share_screen is not None:
                    self._spawn(self.engine.share_screen(self.options.share_screen))
                if self.options.say is not None:
                    self._spawn(self._say_when_open(session, self.options.say))
                if self.options.video_stats:
                    self._video = VideoRate()
                    self._kbps = None
                    self._spawn(self._report_video(session))
            case ev.RemoteVideoFrame(frame=frame) if self.options.video_stats:
                self._video.frame(frame.width, frame.height, time.monotonic())
            case ev.CallStats(bitrate_kbps=kbps):
                self._kbps = kbps

    async def _say_when_open(self, session: str, text: str) -> None:
        # The channels open a moment after the media (and on a rebuilt connection, again).
        deadline = time.monotonic() + self.config.media_timeout
        while self.engine.model.is_current(session) and time.monotonic() < deadline:
            if self.engine.chat_open:
                await self.engine.send_chat(text)
                return
            await asyncio.sleep(CHAT_POLL)

    async def _report_video(self, session: str) -> None:
        while self.engine.model.is_current(session):
            await asyncio.sleep(1.0)
            if not self.engine.model.is_current(session):
                return
            now = time.monotonic()
            self._print(ev.VideoStats(session, self._video.width, self._video.height,
                                      self._video.fps(now), self._kbps))

    def _leave_if_checked_out(self, session: str) -> None:
        """Both checked out: the session is over, so the bot goes on to its next partner (or
        exits, after --calls), as a person would press Next or End."""
        study = self.engine.study
        if study is not None and study.mine.checkout is not None and study.partner.checkout is not None:
            self._skip_later(session, 0.0)

    def _call_ended(self) -> None:
        if self._skip_timer is not None:
            self._skip_timer.cancel()
            self._skip_timer = None
        self.finished_calls += 1
        if self.options.calls is not None and self.finished_calls >= self.options.calls:
            self._finish(0)
        else:
            self._spawn(self._search_again(skipped=self.engine.state is CallState.SKIPPED))

    async def _search_again(self, skipped: bool) -> None:
        if self.options.avoid_last:
            await self.engine.block_partner()  # told to the server before the next find
        if self.options.favourite:
            await self.engine.find_favourite()
        elif not skipped:  # our own skip re-queues us on the server; any other ending leaves us idle
            await self.engine.find()

    def _print(self, event: ev.EngineEvent) -> None:
        if self.options.events == "json":
            line = to_json_line(event, time.time())
        else:
            line = to_text(event)
        if line is not None:
            self.out.write(line + "\n")
            self.out.flush()

    # --- timers -------------------------------------------------------------------------------

    def _arm_deadline(self) -> None:
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().call_later(
                self.options.connect_timeout, self._give_up
            )

    def _give_up(self) -> None:
        self.err.write(
            messages.CONNECT_GAVE_UP.format(server=self.config.server, seconds=self.options.connect_timeout)
            + "\n"
        )
        self._finish(1)

    def _skip_later(self, session: str, seconds: float) -> None:
        async def skip_if_still_there() -> None:
            # Checked when the task runs: the partner may have left since the timer fired,
            # and a skip outside a call would mean "find", which _call_ended already does.
            if self.engine.model.is_current(session):
                await self.engine.skip()

        def skip() -> None:
            self._skip_timer = None
            self._spawn(skip_if_still_there())

        if self._skip_timer is not None:
            self._skip_timer.cancel()
        self._skip_timer = asyncio.get_running_loop().call_later(seconds, skip)

    def _cancel_timers(self) -> None:
        for timer in (self._deadline, self._skip_timer):
            if timer is not None:
                timer.cancel()

    def _finish(self, code: int) -> None:
        if self.exit_code is None:
            self.exit_code = code
        self._done.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def open_store(path: str) -> HistoryStore:
    """The local database at `path`, its folder made if missing (raises HistoryError)."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"cannot make the folder of {path}: {exc}") from exc
    return HistoryStore(path)


def run_headless(
    config: EngineConfig, options: HeadlessOptions, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    async def main() -> int:
        lostsends.install(asyncio.get_running_loop())
        try:
            runner = HeadlessRunner(config, options, out or sys.stdout, err or sys.stderr)
        except HistoryError as exc:
            (err or sys.stderr).write(messages.HEADLESS_HISTORY_UNUSABLE.format(detail=exc) + "\n")
            return 1
        return await runner.run()

    return asyncio.run(main())
