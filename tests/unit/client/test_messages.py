"""The reconnect sentence names the likely cause: this computer's server, or the network."""

from __future__ import annotations

import pytest

from client import messages


@pytest.mark.parametrize(
    "url",
    [
        "ws://127.0.0.1:8765/ws",
        "ws://127.0.0.53:1/ws",
        "ws://localhost:8765/ws",
        "wss://LOCALHOST/ws",
        "ws://[::1]:8765/ws",
        "ws://app.localhost:8765/ws",
    ],
)
def test_a_server_on_this_computer_is_not_an_internet_problem(url: str) -> None:
    text = messages.server_unreachable(url, 2.0)
    assert text.startswith(f"Cannot reach the StudyMatch server at {url}. Trying again in 2.0 s;")
    assert "running on this computer" in text and "internet" not in text


@pytest.mark.parametrize(
    "url",
    [
        "wss://studymatch.example.org/ws",
        "ws://10.0.0.7:8765/ws",
        "ws://[2001:db8::1]/ws",
        "ws://localhost.example/ws",
    ],
)
def test_a_server_elsewhere_points_at_the_connection(url: str) -> None:
    assert messages.server_unreachable(url, 2.0) == messages.SERVER_UNREACHABLE.format(
        server=url, seconds=2.0
    )
