"""The fast frame reader agrees with websockets' own parser, however the bytes are cut."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.frames import Frame, Opcode

from server.ws.wsframes import lone_text, split_frames, text_frame

LIMIT = 70_000
PLAIN = st.builds(
    Frame,
    st.sampled_from([Opcode.TEXT, Opcode.BINARY]),
    # Lengths around the 7-bit / 16-bit boundaries of the header.
    st.one_of(st.binary(max_size=130), st.integers(65_530, 65_535).map(lambda n: b"x" * n)),
)
OTHER = st.one_of(
    st.builds(Frame, st.just(Opcode.PING), st.binary(max_size=20)),
    st.builds(Frame, st.just(Opcode.TEXT), st.binary(max_size=20), st.just(False)),  # a first fragment
    st.builds(Frame, st.just(Opcode.CLOSE), st.just(b"\x03\xe8")),
    st.just(Frame(Opcode.TEXT, b"y" * (LIMIT + 1))),  # over the limit: websockets closes with 1009
    st.just(Frame(Opcode.BINARY, b"z" * 65_536)),  # a 64-bit length
)


def wire(frame: Frame) -> bytes:
    return frame.serialize(mask=True, extensions=[])


def read_in_pieces(stream: bytes, cuts: list[int]) -> tuple[list[Frame], int, bool]:
    """Feed `stream` cut at `cuts` as RelayConnection does; stop at the first non-plain frame."""
    frames: list[Frame] = []
    pending = bytearray()
    offset = 0  # of pending's first byte in the stream
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        pending += stream[start:end]
        split = split_frames(pending, LIMIT)
        frames += split.frames
        if not split.plain:
            return frames, offset + split.end, False
        del pending[: split.end]
        offset += split.end
    return frames, offset, True


@given(
    st.lists(PLAIN, max_size=6),
    st.one_of(st.none(), OTHER),
    st.lists(st.integers(0, 2**20)),
)
def test_plain_frames_come_out_whole_and_the_first_other_frame_is_left_untouched(
    plain: list[Frame], other: Frame | None, cut_at: list[int]
) -> None:
    prefix = b"".join(wire(f) for f in plain)
    stream = prefix + (wire(other) if other is not None else b"")
    cuts = sorted({c % (len(stream) + 1) for c in cut_at})
    frames, end, all_plain = read_in_pieces(stream, cuts)
    assert [(f.opcode, f.data, f.fin) for f in frames] == [(f.opcode, f.data, True) for f in plain]
    assert end == len(prefix)
    # The other frame, and all after it, is left to websockets (seen from its header alone).
    assert all_plain == (other is None)


@pytest.mark.parametrize("first_byte", [0x01, 0x02, 0x09, 0x0A, 0x08, 0x00, 0xC1, 0xA1, 0x91, 0x83])
def test_anything_but_a_fin_text_or_binary_frame_without_rsv_bits_is_not_plain(first_byte: int) -> None:
    frame = bytes([first_byte, 0x80 | 2]) + b"\x00\x00\x00\x00hi"
    assert split_frames(frame, LIMIT) == ([], 0, False)


def test_an_unmasked_client_frame_is_not_plain() -> None:
    assert split_frames(Frame(Opcode.TEXT, b"hi").serialize(mask=False, extensions=[]), LIMIT) == (
        [],
        0,
        False,
    )


def test_the_limit_is_judged_from_the_header_alone() -> None:
    header = wire(Frame(Opcode.TEXT, b"x" * 200))[:8]
    assert split_frames(header, 199) == ([], 0, False)  # refused before the payload arrives
    assert split_frames(header, 200) == ([], 0, True)  # within the limit: wait for the rest


def lone_text_by_split(buffer: bytes) -> bytes | None:
    """What `lone_text` must say, from `split_frames`: the payload of one whole text frame."""
    split = split_frames(buffer, LIMIT)
    if len(split.frames) == 1 and split.end == len(buffer) and split.frames[0].opcode is Opcode.TEXT:
        return bytes(split.frames[0].data)  # websockets types it bytes | bytearray | memoryview
    return None


@given(
    st.lists(st.one_of(PLAIN, OTHER), min_size=1, max_size=3),
    st.one_of(st.none(), st.integers(0, 2**20)),
)
def test_lone_text_reads_exactly_what_split_frames_reads_as_one_whole_text_frame(
    frames: list[Frame], cut_at: int | None
) -> None:
    stream = b"".join(wire(f) for f in frames)
    if cut_at is not None:  # a frame still arriving, or a frame and the start of the next
        stream = stream[: cut_at % (len(stream) + 1)]
    assert lone_text(stream, LIMIT) == lone_text_by_split(stream)


@pytest.mark.parametrize(
    ("buffer", "expected"),
    [
        (wire(Frame(Opcode.TEXT, b"hi")), b"hi"),
        (wire(Frame(Opcode.TEXT, b"x" * 300)), b"x" * 300),  # a 16-bit length
        (wire(Frame(Opcode.TEXT, b"hi")) * 2, None),  # two frames: `_read`'s to split
        (wire(Frame(Opcode.TEXT, b"hi"))[:-1], None),  # cut short
        (wire(Frame(Opcode.BINARY, b"hi")), None),
        (wire(Frame(Opcode.PING, b"hi")), None),
        (Frame(Opcode.TEXT, b"hi").serialize(mask=False, extensions=[]), None),  # unmasked
        (wire(Frame(Opcode.TEXT, b"y" * (LIMIT + 1))), None),  # over the limit: websockets says 1009
        (b"", None),
    ],
)
def test_lone_text_cases(buffer: bytes, expected: bytes | None) -> None:
    assert lone_text(buffer, LIMIT) == expected


@given(st.one_of(st.binary(max_size=130), st.integers(65_530, 65_540).map(lambda n: b"x" * n)))
def test_text_frame_is_websockets_serialization(data: bytes) -> None:
    # Lengths around the 7-, 16- and 64-bit boundaries of the header.
    assert text_frame(data) == Frame(Opcode.TEXT, data).serialize(mask=False, extensions=[])
