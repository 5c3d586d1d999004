"""The security options on the command line and in the environment."""

from __future__ import annotations

import pytest

from server.cli import parse_config


def test_security_options_from_the_command_line() -> None:
    config = parse_config(
        ["--token-secret", "s" * 20, "--allowed-origin", "https://a.example", "--allowed-origin", "https://b.example",
         "--require-origin", "--max-connections-per-ip", "5", "--turn", "turn:t.example:3478",
         "--turn-secret", "k", "--turn-ttl", "60", "--report-threshold", "2", "--report-window", "30",
         "--report-penalty", "90", "--real-ip-header", "X-Real-IP"],
        env={},
    )
    assert config.token_secret == "s" * 20
    assert config.allowed_origins == ("https://a.example", "https://b.example")
    assert config.require_origin is True
    assert (config.max_connections_per_ip, config.turn, config.turn_ttl) == (5, ("turn:t.example:3478",), 60.0)
    assert (config.report_threshold, config.report_window, config.report_penalty) == (2, 30.0, 90.0)
    assert config.real_ip_header == "X-Real-IP"


def test_security_options_from_the_environment() -> None:
    config = parse_config([], env={
        "STUDYMATCH_REQUIRE_ORIGIN": "1", "STUDYMATCH_ALLOWED_ORIGIN": "https://a.example,https://b.example",
        "STUDYMATCH_TURN": "turn:t.example,turns:t.example:5349", "STUDYMATCH_TURN_SECRET": "k",
        "STUDYMATCH_TLS_CERT": "/c.pem", "STUDYMATCH_TLS_KEY": "/k.pem",
    })
    assert config.require_origin is True
    assert config.allowed_origins == ("https://a.example", "https://b.example")
    assert config.turn == ("turn:t.example", "turns:t.example:5349")
    assert (config.tls_cert, config.tls_key) == ("/c.pem", "/k.pem")
    assert parse_config([], env={}).require_origin is False


@pytest.mark.parametrize(
    "argv",
    [
        ["--turn", "turn:t.example"],  # TURN without its secret
        ["--turn", "stun:t.example", "--turn-secret", "k"],  # not a TURN URL
        ["--tls-cert", "/c.pem"],  # a certificate without its key
        ["--token-secret", "short"],
        ["--max-connections-per-ip", "0"],
        ["--report-threshold", "0"],
        ["--report-penalty", "-1"],
    ],
)
def test_unsafe_combinations_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_config(argv, env={})
    assert exit_.value.code == 2
