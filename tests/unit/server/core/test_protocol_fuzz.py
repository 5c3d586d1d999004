"""Fuzz the decode path: whatever arrives, `decode_client` answers or raises `ProtocolError`.

Hypothesis generates raw frames (any text, any bytes), any JSON, and messages
that are almost right (a known type with fields of every kind). Nothing else
may escape: an exception other than ProtocolError would reach the shell's
catch-all and close the connection with 1011 instead of a wire error.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.core import protocol as p

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=80),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
field_names = st.sampled_from(["type", "protocol", "client", "token", "mode", "topic", "session", "data",
                               "reason", "retry_after", "id", "ice_servers", "limits"]) | st.text(max_size=8)
near_messages = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(sorted(p.CLIENT_TYPES | p.SERVER_TYPES)) | st.text(max_size=10) | json_values,
    st.dictionaries(field_names, json_values, max_size=6),
)
RUNS = {"count": 0}
# Examples per test for a normal run; STUDYMATCH_FUZZ_EXAMPLES raises it for a long fuzzing session.
EXAMPLES = int(os.environ.get("STUDYMATCH_FUZZ_EXAMPLES", "400"))


def _decode(frame: Any) -> None:
    RUNS["count"] += 1
    try:
        message = p.decode_client(frame)
    except p.ProtocolError as error:
        assert error.code in p.ALL_ERROR_CODES and error.message
        return
    # What decodes must encode again and decode to the same message.
    assert p.decode_client(p.encode(message)) == message


@settings(max_examples=EXAMPLES)
@given(st.text(max_size=400) | st.binary(max_size=400))
def test_raw_frames(frame: str | bytes) -> None:
    _decode(frame)


@settings(max_examples=EXAMPLES)
@given(json_values)
def test_any_json(value: Any) -> None:
    _decode(json.dumps(value))


@settings(max_examples=2 * EXAMPLES)
@given(near_messages)
def test_almost_valid_messages(obj: dict[str, Any]) -> None:
    _decode(json.dumps(obj))


@pytest.mark.parametrize("frame", [
    "[" * 100_000 + "]" * 100_000,
    '{"type": "signal", "session": "s", "data": ' + '{"a":' * 5000 + "1" + "}" * 5001,
])
def test_deep_nesting_is_a_bad_json_error_not_a_crash(frame: str) -> None:
    with pytest.raises(p.ProtocolError) as info:
        p.decode_client(frame)
    assert info.value.code == p.ErrorCode.BAD_JSON
