"""Coming back in the window (issue 14): the live counts and "Search any subject" on the searching
page, "Study with a favourite", "Study again", "never again", and the History view's favourites.

The views alone, and the window around a recording engine (tests/gui/recording.py) whose events
the test plays; the end-to-end test with the real engine is test_comeback_end_to_end.py.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView

from client import events as ev
from client import messages
from client.history.store import HistoryStore
from client.ui.views.searching import SearchingView

NOBODY_ELSE = ev.Counts(41, 6, 2, 0)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def searching(qtbot, clock: FakeClock) -> SearchingView:
    view = SearchingView(now=clock)
    qtbot.addWidget(view)
    view.show()
    return view


def test_the_counts_update_in_place(qtbot):
    view = searching(qtbot, FakeClock())
    view.start("maths")
    assert view.counts.isHidden()  # nothing to say before the server counts
    view.show_event(ev.Counts(41, 6, 2, 1))
    assert view.counts.text() == "41 students online · 6 searching for video · 2 for audio · 1 in maths"
    view.show_event(ev.Counts(40, 5, 2, 0))
    assert view.counts.text() == "40 students online · 5 searching for video · 2 for audio · nobody else in maths yet"
    view.stop()
    view.start("")  # a new search, any subject: the old figures go
    assert view.counts.isHidden()
    view.show_event(ev.Counts(40, 5, 2, None))
    assert view.counts.text() == "40 students online · 5 searching for video · 2 for audio"


def test_any_subject_is_offered_after_thirty_seconds_alone_in_the_subject(qtbot):
    clock = FakeClock()
    view = searching(qtbot, clock)
    view.start("maths")
    view.show_event(NOBODY_ELSE)
    clock.now += 29.0
    view.refresh()
    assert view.any_button.isHidden()
    clock.now += 1.0
    view.refresh()  # the page's timer calls it four times a second
    assert view.any_button.isVisible()
    with qtbot.waitSignal(view.any_subject_requested):
        qtbot.mouseClick(view.any_button, Qt.MouseButton.LeftButton)
    view.start("")  # the controller's search in any subject: nothing more to offer
    assert view.any_button.isHidden()
    clock.now += 60.0
    view.show_event(ev.Counts(41, 6, 2, None))
    assert view.any_button.isHidden()


def test_no_offer_when_someone_else_was_in_the_subject(qtbot):
    clock = FakeClock()
    view = searching(qtbot, clock)
    view.start("maths")
    view.show_event(NOBODY_ELSE)
    view.show_event(ev.Counts(41, 6, 2, 1))  # someone came, and went
    view.show_event(NOBODY_ELSE)
    clock.now += 45.0
    view.refresh()
    assert view.any_button.isHidden()


def test_a_favourite_search_says_so_and_so_does_its_fallback(qtbot):
    clock = FakeClock()
    view = searching(qtbot, clock)
    view.start("maths")
    view.show_event(ev.FavouriteSearch(2, 30.0))
    assert view.note.isVisible() and view.note.text() == "Looking for a favourite (up to 30 s)…"
    view.show_event(NOBODY_ELSE)
    clock.now += 31.0
    view.refresh()
    assert view.any_button.isHidden()  # only favourites were looked for: the subject is not the point
    view.show_event(ev.FavouriteFallback("No favourite is online, so StudyMatch looks for anyone."))
    assert view.note.text() == "No favourite is online, so StudyMatch looks for anyone."
    view.show_event(NOBODY_ELSE)
    clock.now += 30.0
    view.refresh()
    assert view.any_button.isVisible()  # thirty seconds of the search for anyone, alone in maths


def test_the_window_shows_the_counts_and_searches_any_subject(harness, aloop):
    h, w = harness, harness.window
    w.lobby.set_topic("maths")
    w.lobby.find_button.click()
    aloop.run(h.settle())
    h.engine.emit(ev.Queued("video", "maths"))
    h.engine.emit(ev.Counts(41, 6, 2, 1))
    assert w.searching.counts.text() == "41 students online · 6 searching for video · 2 for audio · 1 in maths"
    w.searching.any_button.click()  # as after 30 s alone in the subject
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("find", None, "")
    assert h.page is w.searching and w.searching.subject.text() == messages.SEARCHING_ANY
    assert h.controller.settings.topic == "maths"  # this search only: the lobby keeps the subject
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.emit(ev.Counts(1, 1, 1, 0))  # a late count reaches no page but the searching one
    assert h.page is w.call


def test_study_with_a_favourite_is_offered_only_with_a_favourite(harness, aloop):
    h, w = harness, harness.window
    button = w.lobby.favourite_button
    assert not button.isEnabled() and button.toolTip() == messages.FIND_FAVOURITE_NONE_TIP
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None))
    h.engine.people.add_favourite("key-ana", "Ana")  # both ticked: the engine keeps her and says so
    h.engine.emit(ev.FavouriteSaved("s1", "Ana"))
    assert f"{messages.NOTICE_FAVOURITE_SAVED.format(nickname='Ana')}" in w.notices.texts()
    assert button.isEnabled() and button.toolTip() == messages.FIND_FAVOURITE_TIP
    w.call.end_button.click()
    aloop.run(h.settle())
    w.lobby.set_topic("physics")
    w.lobby.set_mode("audio")
    button.click()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("find_favourite", "audio", "physics")
    assert h.page is w.searching
    h.engine.emit(ev.FavouriteSearch(1, 30.0))
    assert w.searching.note.text() == messages.FAVOURITE_SEARCHING.format(seconds=30)
    h.engine.emit(ev.FavouriteFallback("No favourite came; looking for anyone."))
    assert w.searching.note.text() == "No favourite came; looking for anyone."
    h.engine.emit(ev.Matched("s2", True, "audio", "physics", favourite="Ana", avoidable=True))
    h.engine.emit(ev.SessionStarted("s2", 25, "talk", 0.0, 1500.0))
    assert w.call.partner.text() == messages.PARTNER_FAVOURITE.format(nickname="Ana") + " · physics"
    assert w.call.again.isHidden()  # a favourite already


def test_study_again_goes_to_the_engine_and_the_partners_tick_shows(harness, aloop, qtbot):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None, avoidable=True))
    again = w.call.again
    assert again.isHidden()  # the tick travels with the study session: none yet
    h.engine.emit(ev.SessionStarted("s1", 25, "talk", 0.0, 1500.0))
    assert again.isVisible() and not again.tick.isChecked() and again.partner.isHidden()
    qtbot.mouseClick(again.tick, Qt.MouseButton.LeftButton)
    assert h.engine.calls[-1] == ("set_again", True, "")
    assert again.nickname.isVisible()
    qtbot.keyClicks(again.nickname, "Bea from maths")
    qtbot.keyClick(again.nickname, Qt.Key.Key_Return)
    assert h.engine.calls[-1] == ("set_again", True, "Bea from maths")
    h.engine.emit(ev.PartnerAgain("s1", True))
    assert again.partner.isVisible() and again.partner.text() == messages.PARTNER_AGAIN
    h.engine.emit(ev.PartnerAgain("old", False))  # another call's: nothing changes
    assert again.partner.isVisible()
    h.engine.emit(ev.PartnerAgain("s1", False))
    assert again.partner.isHidden()
    qtbot.mouseClick(again.tick, Qt.MouseButton.LeftButton)
    assert h.engine.calls[-1] == ("set_again", False, "Bea from maths")
    h.engine.emit(ev.SessionPhase("s1", "check_out", None))
    assert again.isVisible() and w.call.study.isVisible()  # beside the check-out form: the same tick
    h.engine.emit(ev.PartnerLeft("s1", "left"))
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s2", True, "video", None))
    assert again.isHidden()
    h.engine.emit(ev.SessionStarted("s2", 25, "talk", 0.0, 1500.0))
    assert not again.tick.isChecked() and again.nickname.text() == "" and again.partner.isHidden()


def test_never_again_in_the_call_and_from_the_lobby(harness, aloop):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None, avoidable=False))
    block = w.call.block_action
    assert not block.isEnabled() and block.toolTip() == messages.BLOCK_UNAVAILABLE_TIP
    w.call.skip_button.click()
    h.engine.emit(ev.Matched("s2", True, "video", None, avoidable=True))
    assert block.isEnabled() and block.toolTip() == messages.BLOCK_TIP
    block.trigger()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("block_partner",)
    h.engine.emit(ev.PartnerBlocked("s2", True, messages.PARTNER_BLOCKED))
    assert messages.PARTNER_BLOCKED in w.notices.texts()
    # the next partner, left early: the lobby keeps "never again" for them
    w.call.skip_button.click()
    h.engine.emit(ev.Matched("s3", True, "video", None, avoidable=True))
    w.call.end_button.click()
    aloop.run(h.settle())
    assert h.page is w.lobby and w.lobby.block_last_button.isVisible()
    w.lobby.block_last_button.click()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("block_partner",)
    h.engine.emit(ev.PartnerBlocked("s3", True, messages.PARTNER_BLOCKED))
    assert w.lobby.block_last_button.isHidden()
    h.engine.emit(ev.PartnerBlocked("s3", False, "The server could not say who your last partner was."))
    assert "The server could not say who your last partner was." in w.notices.texts()


def test_a_new_engine_has_no_last_partner_to_block(harness, aloop):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None, avoidable=True))
    w.call.end_button.click()
    aloop.run(h.settle())
    assert w.lobby.block_last_button.isVisible()
    h.controller.reconnect()  # new settings: a new engine, which knows no last call
    aloop.run(h.settle())
    assert len(h.engines) == 2 and w.lobby.block_last_button.isHidden()


def test_the_last_partner_is_not_offered_when_the_server_cannot_keep_them_apart(harness, aloop):
    h, w = harness, harness.window
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None, avoidable=False))
    w.call.end_button.click()
    aloop.run(h.settle())
    assert h.page is w.lobby and w.lobby.block_last_button.isHidden()


def test_a_report_says_it_blocks_and_its_block_needs_no_second_notice(harness, aloop):
    h, w = harness, harness.window
    assert w.call.report_menu.actions()[0] is w.call.block_action  # never again first, without a report
    assert messages.REPORT_ALSO_BLOCKS in [a.text() for a in w.call.report_menu.actions()]
    assert all(a.toolTip() == messages.REPORT_ALSO_BLOCKS for a in w.call.report_actions)
    w.lobby.find_button.click()
    h.engine.emit(ev.Matched("s1", True, "video", None, avoidable=True))
    w.call.report_actions[1].trigger()
    aloop.run(h.settle())
    assert h.engine.calls[-1] == ("report", "Harassment")
    h.engine.emit(ev.PartnerBlocked("s1", True, messages.PARTNER_BLOCKED))
    assert messages.NOTICE_REPORTED in w.notices.texts()
    assert messages.PARTNER_BLOCKED not in w.notices.texts()


def test_a_test_call_offers_neither_study_again_nor_never_again(harness):
    w = harness.window
    w.call.start("video", "", practice=True, own_mode="video")
    w.call.study_started()
    assert w.call.again.isHidden() and not w.call.report_button.isEnabled()


def test_the_history_lists_favourites_to_rename_and_remove(make_harness, qtbot, tmp_path):
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        h = make_harness(history=store)
        w = h.window
        h.engine.people.add_favourite("key-ana", "Ana")
        h.engine.people.add_favourite("key-bea", "Bea")
        h.engine.people.block("a1.token-one", "never_again")
        h.engine.people.block("a1.token-two", "report")
        qtbot.mouseClick(w.lobby.history_button, Qt.MouseButton.LeftButton)
        panel = w.history_dialog.favourites
        assert panel.nicknames() == ["Ana", "Bea"] and panel.blocked.text() == "2 partners blocked"
        assert not panel.rename_button.isEnabled()
        panel.list.setCurrentRow(0)
        qtbot.mouseClick(panel.rename_button, Qt.MouseButton.LeftButton)
        assert panel.list.state() == QAbstractItemView.State.EditingState  # the name is edited in place
        panel.list.item(0).setText("Zoe")  # what committing the editor does
        assert {f.key: f.nickname for f in h.engine.people.favourites()} == {"key-ana": "Zoe", "key-bea": "Bea"}
        assert panel.nicknames() == ["Bea", "Zoe"]  # shown afresh, in order
        panel.list.item(0).setText("  ")  # no name is no rename
        assert panel.nicknames() == ["Bea", "Zoe"]
        assert {f.key: f.nickname for f in h.engine.people.favourites()} == {"key-ana": "Zoe", "key-bea": "Bea"}
        panel.list.setCurrentRow(1)
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
        assert panel.nicknames() == ["Bea"] and [f.key for f in h.engine.people.favourites()] == ["key-bea"]
        assert w.lobby.favourite_button.isEnabled()
        panel.list.setCurrentRow(0)
        qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
        assert panel.nicknames() == [] and panel.empty.isVisible() and panel.list.isHidden()
        assert not w.lobby.favourite_button.isEnabled()  # nobody left to look for
        w.history_dialog.close()
