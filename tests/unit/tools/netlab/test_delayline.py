"""The delay line's pure part: when each packet leaves, in what order, and what a full queue drops."""

from __future__ import annotations

from tools.netlab.delayline import DelayLine


def test_a_packet_leaves_after_the_delay_and_not_before() -> None:
    line = DelayLine(delay_ms=100, jitter_ms=0, seed=1, queue=10)
    line.push(b"p", now=5.0)
    assert line.pop_due(5.099) == []
    assert line.pop_due(5.1) == [b"p"]
    assert line.next_due() is None


def test_jitter_stays_within_its_bounds_and_never_reorders() -> None:
    line = DelayLine(delay_ms=100, jitter_ms=30, seed=7, queue=1000)
    for i in range(500):
        line.push(i.to_bytes(2, "big"), now=i * 0.001)
    dues = [due for due, _ in line.waiting]
    assert dues == sorted(dues)
    assert all(0.07 + i * 0.001 <= due for i, due in enumerate(dues))
    assert max(due - i * 0.001 for i, due in enumerate(dues)) > 0.12  # the jitter is really there
    assert [int.from_bytes(p, "big") for p in line.pop_due(10.0)] == list(range(500))


def test_the_same_seed_gives_the_same_jitter() -> None:
    def dues(seed: int) -> list[float]:
        line = DelayLine(delay_ms=50, jitter_ms=20, seed=seed, queue=100)
        for i in range(50):
            line.push(b"x", now=i * 0.02)
        return [due for due, _ in line.waiting]

    assert dues(3) == dues(3)
    assert dues(3) != dues(4)


def test_a_full_queue_drops_new_packets_and_counts_them() -> None:
    line = DelayLine(delay_ms=100, jitter_ms=0, seed=1, queue=2)
    assert [line.push(b"a", 0.0), line.push(b"b", 0.0), line.push(b"c", 0.0)] == [True, True, False]
    assert line.dropped == 1
    assert line.pop_due(1.0) == [b"a", b"b"]
