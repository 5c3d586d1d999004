"""The searching page's live counts line and when it offers "Search any subject" (client/ui/searchcounts.py)."""

from __future__ import annotations

import pytest

from client import events as ev
from client import messages
from client.ui.searchcounts import ANY_SUBJECT_AFTER, counts_line, offer_any_subject


@pytest.fixture(autouse=True)
def english():
    messages.set_language("en")
    yield
    messages.set_language("en")


def test_the_line_names_every_figure_and_the_subject():
    assert counts_line(ev.Counts(41, 6, 2, 1), "maths") == (
        "41 students online · 6 searching for video · 2 for audio · 1 in maths")


def test_one_student_is_singular_and_nobody_else_in_the_subject_says_so():
    assert counts_line(ev.Counts(1, 1, 0, 0), "maths") == (
        "1 student online · 1 searching for video · 0 for audio · nobody else in maths yet")


def test_searching_any_subject_leaves_the_subject_out():
    assert counts_line(ev.Counts(12, 3, 4, None), "") == "12 students online · 3 searching for video · 4 for audio"
    assert counts_line(ev.Counts(12, 3, 4, None), "maths") == "12 students online · 3 searching for video · 4 for audio"


def test_the_line_speaks_spanish():
    messages.set_language("es")
    assert counts_line(ev.Counts(1, 2, 3, 0), "mates") == (
        "1 estudiante conectado · 2 buscando por vídeo · 3 por audio · nadie más en mates por ahora")


NOBODY = ev.Counts(5, 2, 1, 0)
SOMEONE = ev.Counts(5, 2, 1, 1)


def test_offered_after_thirty_seconds_with_nobody_else_in_the_subject():
    since = 1000.0  # a fake clock: seconds on the same clock as `now`
    seen = [NOBODY, NOBODY]
    assert ANY_SUBJECT_AFTER == 30.0
    assert not offer_any_subject(since, seen, since + 29.9)
    assert offer_any_subject(since, seen, since + 30.0)
    assert offer_any_subject(since, seen, since + 300.0)


def test_not_offered_when_anyone_else_was_in_the_subject_at_any_time():
    assert not offer_any_subject(0.0, [NOBODY, SOMEONE, NOBODY], 60.0)


def test_not_offered_without_counts_or_when_searching_any_subject():
    assert not offer_any_subject(0.0, [], 60.0)  # a server that sends no counts: nothing is known
    assert not offer_any_subject(0.0, [ev.Counts(5, 2, 1, None)], 60.0)
