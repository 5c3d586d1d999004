"""Screenshots of the real window for the README: lobby, a call, a device-error notice,
the help overlay, the settings dialog, a study session's check-in, focus, mini window
and check-out, the live counts while searching, "Study again" ticked on both sides and the lobby with a favourite, and the History
view with its favourites, background blur, and a shared screen as the partner sees it.

    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshots.py [--dark] [--language es]
        [--only-blur | --only-screen] [out_dir]

--dark paints the window with a dark palette (as a desktop in dark mode
hands Qt) and names the files *-dark.png, to check that everything stays readable.
--language es starts every window in that language (as chosen in Settings) and names
the files *-es.png, to check that the translation fits.

A local server on a free port, windows with synthetic media (the moving test
pattern and a tone), and one window whose camera path really fails.
Settings and the history go to a temporary folder, never the user's.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import qasync
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from client.engine import Engine
from client.history.progress import Session
from client.history.store import HistoryStore
from client.people import People
from client.signaling import WebSocketSignaling
from client.ui.app import App, make_qapp
from client.ui.palette import dark_palette
from client.ui.settings import Settings
from client.ui.views.history import local_zone
from server.config import ServerConfig
from server.ws.app import running_server

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE = ""  # --language: the Settings choice every window starts with ("": the system's)
SIZE = (1180, 740)
STUDY_MINUTE = 3.0  # seconds: check-in (2 minutes) outlasts the media's start; the session takes 75 s


async def until(predicate: Callable[[], object], within: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError(str(predicate))
        await asyncio.sleep(0.05)


def settings(folder: Path, name: str, server: str, **values: object) -> Settings:
    s = Settings(QSettings(str(folder / f"{name}.ini"), QSettings.Format.IniFormat))
    s.server = server
    s.language = LANGUAGE
    for key, value in values.items():
        setattr(s, key, value)
    return s


async def open_app(s: Settings, *, fake_media: bool = True, history: Path | None = None) -> App:
    app = App(s, fake_media=fake_media, history=history)
    app.window.resize(*SIZE)
    app.window.show()
    await app.start()
    await until(lambda: app.controller.connected)
    return app


async def main(out: Path, suffix: str = "") -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(folder / "data")  # the windows' history files, not the user's
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            a = await open_app(settings(folder, "a", srv.url, topic="Linear algebra"))
            b = await open_app(settings(folder, "b", srv.url, topic="Linear algebra"))
            wa, wb = a.window, b.window
            await until(lambda: wa.lobby.preview.has_frame())
            await asyncio.sleep(0.3)
            wa.grab().save(str(out / f"lobby{suffix}.png"))

            wa.lobby.find_button.click()
            await until(lambda: wa.pages.currentWidget() is wa.searching)
            await asyncio.sleep(1.2)
            wa.grab().save(str(out / f"searching{suffix}.png"))

            wb.lobby.find_button.click()
            await until(lambda: wa.pages.currentWidget() is wa.call and wa.call.remote.has_frame(), 60)
            await until(lambda: wa.call.self_view.has_frame(), 30)
            b.controller.send_chat("Hi! Shall we start with eigenvalues?")
            await until(lambda: len(wa.call.chat_texts()) == 1)
            a.controller.send_chat("Sure, I'm on exercise 4.2")
            await until(lambda: wa.call.quality.quality.level != "unknown", 30)
            await asyncio.sleep(1.5)
            wa.grab().save(str(out / f"call{suffix}.png"))
            b.controller.set_camera(False)  # the partner turns their camera off: a says so, not black
            await until(lambda: not wa.call.partner_camera_on, 30)
            await asyncio.sleep(0.5)
            wa.grab().save(str(out / f"partner-camera-off{suffix}.png"))
            # The partner's socket drops (a Wi-Fi blink): the call goes on and a says why it waits.
            engine_b = b.controller.engine
            assert isinstance(engine_b, Engine) and isinstance(engine_b.signaling, WebSocketSignaling)
            await engine_b.signaling.drop()
            await until(lambda: wa.notices.item("partner_away") is not None, 10)
            wa.grab().save(str(out / f"partner-reconnecting{suffix}.png"))
            wa.call.end_button.click()
            await a.close()
            await b.close()

            broken = await open_app(settings(folder, "c", srv.url, camera="/dev/video9", microphone="fake"),
                                    fake_media=False)
            wc = broken.window
            await until(lambda: wc.notices.item("device:camera") is not None)
            await asyncio.sleep(0.3)
            wc.grab().save(str(out / f"device-error{suffix}.png"))
            wc.help.toggle()
            await asyncio.sleep(0.2)
            wc.grab().save(str(out / f"help{suffix}.png"))
            wc.help.toggle()
            wc.open_settings()
            assert wc.settings_dialog is not None
            await asyncio.sleep(0.3)
            wc.settings_dialog.grab().save(str(out / f"settings{suffix}.png"))
            wc.settings_dialog.close()
            await broken.close()
        await study(folder, out, suffix)
        await come_back(folder, out, suffix)
        await history(folder, out, suffix)


async def study(folder: Path, out: Path, suffix: str) -> None:
    """The study session's phases, from two real windows on a server whose minute is short."""
    config = ServerConfig(port=0, log_level="warning", study_minute=STUDY_MINUTE)
    async with running_server(config) as srv:
        a = await open_app(settings(folder, "sa", srv.url, topic="Linear algebra", study_length=25, study_talk="quiet"))
        b = await open_app(settings(folder, "sb", srv.url, topic="Linear algebra", study_length=25))
        wa, wb = a.window, b.window
        pa, pb = wa.call.study, wb.call.study
        wa.lobby.find_button.click()
        wb.lobby.find_button.click()
        await until(lambda: pa.isVisible() and wa.call.remote.has_frame(), 60)
        pb.goal.setText("Finish the eigenvalue exercises in chapter 4")
        pb.ready_button.click()
        await until(lambda: "chapter 4" in pa.partner_goal.text())
        pa.goal.setText("Read sections 4.1 to 4.3 and summarise them")
        await asyncio.sleep(0.5)
        wa.grab().save(str(out / f"study-check-in{suffix}.png"))
        pa.ready_button.click()
        await until(lambda: pa.current_phase == "focus")
        pb.brb_button.click()
        await until(lambda: pa.brb_text() != "")
        await asyncio.sleep(0.5)
        wa.grab().save(str(out / f"study-focus{suffix}.png"))
        wa.mini.show()  # what minimising shows (the window manager's part is tested, not shot, here)
        await until(wa.mini.picture.has_frame)
        await asyncio.sleep(0.3)
        wa.mini.grab().save(str(out / f"study-mini{suffix}.png"))
        wa.mini.hide()
        await until(lambda: pa.current_phase == "check_out", 120)  # the session is 75 s
        pb.done_group.buttons()[0].click()
        pb.note.setText("All of chapter 4 done")
        pb.checkout_button.click()
        await until(lambda: "chapter 4" in pa.partner_status.text())
        pa.done_group.buttons()[1].click()
        await asyncio.sleep(0.3)
        wa.grab().save(str(out / f"study-check-out{suffix}.png"))
        await a.close()
        await b.close()


async def come_back(folder: Path, out: Path, suffix: str) -> None:
    """a searches alone (the counts, then "Search any subject"); both tick "Study again" (a nickname typed
    on a's side); the call ends; a's lobby has a favourite."""
    config = ServerConfig(port=0, log_level="warning", study_minute=STUDY_MINUTE)
    async with running_server(config) as srv:
        for name in ("ca", "cb"):
            (folder / name).mkdir()
        a = await open_app(settings(folder, "ca", srv.url, topic="Linear algebra", study_length=25),
                           history=folder / "ca" / "history.sqlite3")
        b = await open_app(settings(folder, "cb", srv.url, topic="Linear algebra", study_length=25),
                           history=folder / "cb" / "history.sqlite3")
        wa, wb = a.window, b.window
        wa.lobby.find_button.click()  # alone in the subject for 30 s: the live counts, then the offer
        await until(lambda: wa.searching.any_button.isVisible(), 45)
        wa.grab().save(str(out / f"searching-counts{suffix}.png"))
        wb.lobby.find_button.click()
        await until(lambda: wa.call.again.isVisible() and wb.call.again.isVisible() and wa.call.remote.has_frame(), 60)
        wb.call.again.tick.click()
        await until(wa.call.again.partner.isVisible)
        wa.call.again.tick.click()
        wa.call.again.nickname.setText("Bea")
        wa.call.again.submit_nickname()
        await asyncio.sleep(0.5)
        wa.grab().save(str(out / f"study-again{suffix}.png"))
        wa.call.end_button.click()
        await until(lambda: wa.notices.item("favourite") is not None and wa.pages.currentWidget() is wa.lobby)
        await until(lambda: wa.lobby.preview.has_frame())
        await asyncio.sleep(0.3)
        wa.grab().save(str(out / f"lobby-favourite{suffix}.png"))
        await a.close()
        await b.close()


def sample_history(path: Path) -> None:
    """Four weeks of sessions up to today: most days, a few gaps, a streak running now."""
    last = dt.datetime.now(local_zone()) - dt.timedelta(hours=2)  # today's last one is over
    with HistoryStore(path) as store:
        for back in range(27, -1, -1):
            if back in (4, 11, 12, 20, 23):  # days off
                continue
            for n, minutes in enumerate((25, 50, 75, 50, 25, 50, 75)[back % 7: back % 7 + 1 + back % 2]):
                start = last - dt.timedelta(days=back, hours=3 * n)
                store.add(Session(start, start + dt.timedelta(minutes=minutes + 4), minutes, minutes,
                                  "Linear algebra", "video", "Chapter 4 exercises", ("yes", "partly", "yes")[back % 3]))


async def history(folder: Path, out: Path, suffix: str) -> None:
    """The History view over a sample of four weeks."""
    path = folder / "history.sqlite3"
    sample_history(path)
    with HistoryStore(path) as store:
        people = People.beside(store)
        for key, nickname in ((b"a" * 32, "Bea from linear algebra"), (b"b" * 32, "Sam")):
            people.add_favourite(base64.urlsafe_b64encode(key).decode().rstrip("="), nickname)
        people.block("a1.a-token-the-server-sealed", "never_again")
    async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
        app = await open_app(settings(folder, "h", srv.url), history=path)
        app.window.lobby.history_button.click()
        dialog = app.window.history_dialog
        assert dialog is not None
        await asyncio.sleep(0.5)
        dialog.grab().save(str(out / f"history{suffix}.png"))
        dialog.close()
        await app.close()


async def blur(out: Path, suffix: str) -> None:
    """Background blur (issue 16): a synthetic person in a synthetic room, blurred in the lobby's
    preview, and as the partner receives it, beside the partner's own room left as it is."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            a = await open_app(settings(folder, "a", srv.url, topic="Chemistry", camera="fake-person",
                                        background="blur"))
            b = await open_app(settings(folder, "b", srv.url, topic="Chemistry", camera="fake-person"))
            wa, wb = a.window, b.window
            await until(lambda: wa.lobby.preview.has_frame())
            await asyncio.sleep(1.0)  # the mask settles
            wa.grab().save(str(out / f"lobby-blur{suffix}.png"))
            wa.lobby.find_button.click()
            await until(lambda: wa.pages.currentWidget() is wa.searching)
            wb.lobby.find_button.click()
            await until(lambda: wb.pages.currentWidget() is wb.call and wb.call.remote.has_frame(), 60)
            await until(lambda: wb.call.quality.quality.level != "unknown", 30)
            await asyncio.sleep(1.5)
            wb.grab().save(str(out / f"call-partner-blurred{suffix}.png"))
            wa.call.end_button.click()
            await a.close()
            await b.close()


# What the shared screen shows: a worked exercise, drawn as client/media/screentext.py draws its text.
NOTES = [
    "Kinematics - worked example 3.2",
    "",
    "A ball is thrown straight up at u = 12 m/s from a ledge 1.5 m high.",
    "",
    "(a) Time to the top:     v = u - g t   ->   0 = 12 - 9.81 t",
    "                         t = 12 / 9.81 = 1.22 s",
    "",
    "(b) Greatest height:     s = u t - g t^2 / 2",
    "                         s = 12 (1.22) - 4.905 (1.22)^2 = 7.34 m above the ledge",
    "",
    "(c) Time to the ground:  s = -1.5 m",
    "                         -1.5 = 12 t - 4.905 t^2",
    "                         4.905 t^2 - 12 t - 1.5 = 0",
    "                         t = (12 + sqrt(144 + 29.43)) / 9.81 = 2.57 s",
    "",
    "(d) Speed at the ground: v^2 = u^2 + 2 g h = 144 + 2 (9.81)(1.5)",
    "                         v = 13.2 m/s, downwards",
    "",
    "Check with energy:  m g (7.34 + 1.5) = m v^2 / 2  ->  v = 13.2 m/s   ok",
    "",
    "Next: exercise 3.3 (a stone dropped from a moving lift)",
]


async def screen_share(out: Path, suffix: str) -> None:
    """Screen sharing (issue 16): the picker on this (Xvfb) display, and a's notes on b's window,
    as the partner sees a shared screen: said above it, fitted, a click away from actual size."""
    import cv2

    from client.media import screentext
    from client.media.screen import ScreenTrack

    notes = cv2.cvtColor(screentext.render(NOTES, 1280, 720), cv2.COLOR_GRAY2BGR)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        async with running_server(ServerConfig(port=0, log_level="warning")) as srv:
            a = await open_app(settings(folder, "a", srv.url, topic="Physics"))
            b = await open_app(settings(folder, "b", srv.url, topic="Physics"))
            wa, wb = a.window, b.window
            wa.lobby.find_button.click()
            await until(lambda: wa.pages.currentWidget() is wa.searching)
            wb.lobby.find_button.click()
            await until(lambda: wb.pages.currentWidget() is wb.call and wb.call.remote.has_frame(), 60)
            await until(lambda: wa.call.share_button.isVisible(), 30)
            wa.call.share_button.click()  # the real picker, on this display
            picker = wa.screen_picker
            assert picker is not None
            await asyncio.sleep(0.5)
            picker.grab().save(str(out / f"screen-picker{suffix}.png"))
            picker.close()
            engine_a = a.controller.engine
            assert isinstance(engine_a, Engine) and engine_a.call is not None
            engine_a.call.share_screen(ScreenTrack(lambda: notes))
            await until(lambda: wb.call.partner_screen and wb.call.remote.frame_size() == (1280, 720), 30)
            b.controller.send_chat("Can you show me how you got 2.57 s?")
            await until(lambda: wb.call.quality.quality.level != "unknown", 30)
            await asyncio.sleep(3.0)  # the encoder sharpens a still screen frame by frame
            wb.grab().save(str(out / f"call-partner-screen{suffix}.png"))
            wa.call.end_button.click()
            await a.close()
            await b.close()


def run() -> int:
    global LANGUAGE
    args = sys.argv[1:]
    only_blur = "--only-blur" in args  # just the blur screenshots (the others take minutes)
    only_screen = "--only-screen" in args  # just the screen sharing ones
    args = [a for a in args if a not in ("--only-blur", "--only-screen")]
    dark = "--dark" in args
    args = [a for a in args if a != "--dark"]
    if "--language" in args:
        at = args.index("--language")
        LANGUAGE = args[at + 1]
        del args[at : at + 2]
    out = Path(args[0]) if args else ROOT / "assets" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    qapp = make_qapp([sys.argv[0]])
    qapp.setQuitOnLastWindowClosed(False)
    if dark:
        QApplication.setStyle("Fusion")  # the offscreen/xcb default style ignores some palette roles
        qapp.setPalette(dark_palette())
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    with loop:
        suffix = ("-dark" if dark else "") + (f"-{LANGUAGE}" if LANGUAGE else "")
        if not (only_blur or only_screen):
            loop.run_until_complete(main(out, suffix))
        if not only_screen:
            loop.run_until_complete(blur(out, suffix))
        if not only_blur:
            loop.run_until_complete(screen_share(out, suffix))
    for png in sorted(out.glob("*.png")):
        print(png)
    return 0


if __name__ == "__main__":
    sys.exit(run())
