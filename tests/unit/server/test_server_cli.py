"""Server options: flags, STUDYMATCH_* variables, defaults, and their checks."""

from __future__ import annotations

import sys

import pytest

from server.cli import _OPTIONS, default_ticket_key_file, env_name, parse_config
from server.config import ServerConfig
from server.ws import app


def test_defaults_are_safe() -> None:
    config = parse_config([], env={"XDG_STATE_HOME": "/state"})
    # The dataclass's defaults, and a ticket key that outlives the process (server/cli.py).
    assert config.replace(ticket_key_file=None) == ServerConfig()
    assert config.ticket_key_file == "/state/studymatch-server/ticket.key"
    assert default_ticket_key_file({"HOME": "/home/x"}) == default_ticket_key_file({"HOME": "/home/x", "XDG_STATE_HOME": ""})
    assert str(default_ticket_key_file({"HOME": "/home/x"})) == "/home/x/.local/state/studymatch-server/ticket.key"
    assert parse_config(["--ticket-key", "k" * 16], env={}).ticket_key_file is None
    assert (config.host, config.port, config.backend) == ("127.0.0.1", 8765, "memory")
    assert config.stun == () and config.tokens == ()
    assert config.max_frame_bytes == 65536 and config.ping_interval == 20.0


def test_every_option_has_an_environment_variable() -> None:
    assert env_name("--rate-finds-per-minute") == "STUDYMATCH_RATE_FINDS_PER_MINUTE"
    fields = {f for _, f, _, _ in _OPTIONS}
    assert fields == set(ServerConfig.__dataclass_fields__) - {"backend_options"}


def test_environment_then_flags() -> None:
    env = {"STUDYMATCH_PORT": "9000", "STUDYMATCH_HOST": "0.0.0.0", "STUDYMATCH_STUN": "stun:a, stun:b",
           "STUDYMATCH_RATE_MESSAGES": "2.5", "STUDYMATCH_TOKEN": "t1"}
    config = parse_config([], env=env)
    assert (config.port, config.host, config.rate_messages) == (9000, "0.0.0.0", 2.5)
    assert config.stun == ("stun:a", "stun:b") and config.tokens == ("t1",)
    config = parse_config(["--port", "0", "--stun", "stun:c", "--token", "x", "--token", "y"], env=env)
    assert config.port == 0 and config.stun == ("stun:c",) and config.tokens == ("x", "y")


def test_a_study_minute_may_be_shortened_for_tests() -> None:
    assert parse_config([], env={}).study_minute == 60.0
    assert parse_config([], env={"STUDYMATCH_STUDY_MINUTE": "0.5"}).study_minute == 0.5
    assert parse_config(["--study-minute", "2"], env={"STUDYMATCH_STUDY_MINUTE": "0.5"}).study_minute == 2.0


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        (["--port", "70000"], {}),
        (["--rate-burst", "0"], {}),
        (["--backend", "mongo"], {}),
        ([], {"STUDYMATCH_PORT": "eighty"}),
        ([], {"STUDYMATCH_BACKEND": "mongo"}),
        ([], {"STUDYMATCH_PING_INTERVAL": "-1"}),
        (["--study-minute", "0"], {}),
        ([], {"STUDYMATCH_STUDY_MINUTE": "-0.5"}),
    ],
)
def test_bad_values_are_usage_errors(argv: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_config(argv, env=env)
    assert exited.value.code == 2
    assert "studymatch-server" in capsys.readouterr().err


def test_redis_backend_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "server.backends.redis.backend", None)
    with pytest.raises(RuntimeError, match="--backend memory"):
        app.make_backend(ServerConfig(backend="redis"))


def test_limits_and_ice_servers_for_welcome() -> None:
    config = ServerConfig(stun=("stun:x:3478",), rate_burst=9)
    assert config.ice_servers() == [{"urls": "stun:x:3478"}]
    assert config.limits()["message_burst"] == 9 and config.limits()["max_frame_bytes"] == 65536
