"""What the searching page says about who else is there (docs/protocol.md, "Live counts while searching"),
and when it offers "Search any subject". Pure: no Qt; times are seconds on one clock, passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from client import events as ev
from client import messages

# Searching a subject with nobody else in it for this long: the page offers any subject instead.
ANY_SUBJECT_AFTER = 30.0


def plural(forms: Mapping[str, str], n: int) -> str:
    """One of a sentence's two forms ("one" / "other"), as English and Spanish pick them."""
    return forms["one" if n == 1 else "other"].format(n=n)


def counts_line(counts: ev.Counts, topic: str) -> str:
    """"41 students online · 6 searching for video · 2 for audio · 1 in maths"; the last part only
    while searching a subject (the server counts the others in it, not this client)."""
    parts = [
        plural(messages.COUNTS_ONLINE, counts.online),
        messages.COUNTS_VIDEO.format(n=counts.video),
        messages.COUNTS_AUDIO.format(n=counts.audio),
    ]
    if counts.topic is not None and topic:
        if counts.topic == 0:
            parts.append(messages.COUNTS_TOPIC_NOBODY.format(topic=topic))
        else:
            parts.append(messages.COUNTS_TOPIC.format(n=counts.topic, topic=topic))
    return " · ".join(parts)


def offer_any_subject(since: float, seen: Sequence[ev.Counts], now: float, *, after: float = ANY_SUBJECT_AFTER) -> bool:
    """Offer "Search any subject" after `after` seconds of searching a subject (`since`: when that
    search began) in which every count seen since said nobody else was there. Without any count
    (a server that sends none) nothing is known, so nothing is offered."""
    return now - since >= after and bool(seen) and all(c.topic == 0 for c in seen)
