"""A fast reader for the WebSocket frames a signaling client sends most: pure, no I/O.

websockets parses every frame with layered generators; for a relay that is
most of the cost of a message. `split_frames` reads only the plainest frame,
the one a client sends for every JSON message: unfragmented (FIN), text or
binary, masked, no extension bits, a 7- or 16-bit length within the limit.
It stops at the first frame that is anything else (a control frame, a
fragment, a frame over the limit, bad bits) and says where, so that frame
and everything after it go to websockets' own parser, which decides: pings,
closes, fragments, protocol errors and 1009 keep their exact behaviour.

`text_frame` is the other direction: the bytes of one unmasked text frame
from the server, as websockets' `Frame.serialize` would make them without
extensions, in one concatenation instead of a dataclass and a general encoder.
"""

from __future__ import annotations

import struct
from typing import NamedTuple

from websockets.frames import Frame, Opcode

try:  # websockets ships a C version; its pure-Python fallback is the same function.
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover
    from websockets.utils import apply_mask

_HEAD_7 = struct.Struct("!BB").pack
_HEAD_16 = struct.Struct("!BBH").pack
_HEAD_64 = struct.Struct("!BBQ").pack
_OPCODES = {0x81: Opcode.TEXT, 0x82: Opcode.BINARY}  # first byte: FIN, no RSV bits, opcode


class Split(NamedTuple):
    frames: list[Frame]
    end: int  # how many bytes of the buffer the frames used
    plain: bool  # False: the bytes from `end` on start a frame this reader leaves to websockets


def split_frames(buffer: bytes | bytearray, max_size: int | None) -> Split:
    """The complete plain frames at the start of `buffer`; an incomplete one waits for more bytes."""
    frames: list[Frame] = []
    pos, size = 0, len(buffer)
    while size - pos >= 2:
        opcode = _OPCODES.get(buffer[pos])
        length = buffer[pos + 1] ^ 0x80  # the mask bit must be set: clear it
        if opcode is None or length > 126:  # not plain, unmasked, or a 64-bit length
            return Split(frames, pos, False)
        head = 6
        if length == 126:
            if size - pos < 4:
                break
            length = int.from_bytes(buffer[pos + 2 : pos + 4])
            head = 8
        if max_size is not None and length > max_size:
            return Split(frames, pos, False)
        end = pos + head + length
        if end > size:
            break
        data = apply_mask(buffer[pos + head : end], buffer[pos + head - 4 : pos + head])
        frames.append(Frame(opcode, data))
        pos = end
    return Split(frames, pos, True)


def lone_text(buffer: bytes, max_size: int | None) -> bytes | None:
    """The unmasked payload when `buffer` is exactly one plain text frame, else None.

    The paced relay's case: a client's message read on its own. The same rules as
    `split_frames` (None for anything it would not cut as a whole text frame).
    """
    size = len(buffer)
    if size < 6 or buffer[0] != 0x81:
        return None
    length = buffer[1] ^ 0x80
    head = 6
    if length == 126:
        length = int.from_bytes(buffer[2:4])
        head = 8
    elif length > 126:  # not masked, or a 64-bit length
        return None
    if head + length != size or (max_size is not None and length > max_size):
        return None
    return apply_mask(buffer[head:], buffer[head - 4 : head])


def text_frame(data: bytes) -> bytes:
    """A server's text frame (FIN, unmasked, no extension bits) carrying UTF-8 `data`."""
    size = len(data)
    if size < 126:
        return _HEAD_7(0x81, size) + data
    if size < 0x10000:
        return _HEAD_16(0x81, 126, size) + data
    return _HEAD_64(0x81, 127, size) + data
