"""`studymatch` options: parsed once, for the headless client and for the window alike."""

from __future__ import annotations

import pytest

from client.cli import build_parser, engine_config, parse_args
from client.engine import EngineConfig


def test_a_server_not_given_is_none_so_the_window_keeps_its_saved_one() -> None:
    args = parse_args([], env={})
    assert args.server is None
    assert engine_config(args).server == EngineConfig().server  # headless: the default


@pytest.mark.parametrize(("argv", "env", "server"), [
    (["--server", "ws://flag.example/ws"], {}, "ws://flag.example/ws"),
    ([], {"STUDYMATCH_SERVER": "ws://env.example/ws"}, "ws://env.example/ws"),
    (["--server", "ws://flag.example/ws"], {"STUDYMATCH_SERVER": "ws://env.example/ws"}, "ws://flag.example/ws"),
])
def test_a_given_server_is_used_by_both(argv: list[str], env: dict[str, str], server: str) -> None:
    args = parse_args(argv, env=env)
    assert args.server == server
    assert engine_config(args).server == server


def test_the_help_still_shows_the_default_server() -> None:
    assert EngineConfig().server in build_parser({}).format_help()


def test_the_window_options_come_from_the_same_parse() -> None:
    env = {"STUDYMATCH_RELAY_ONLY": "yes", "STUDYMATCH_TOKEN": "t", "STUDYMATCH_FAKE_MEDIA": "false"}
    args = parse_args(["--settings", "s.ini", "--ca-file", "ca.pem"], env=env)
    assert (args.relay_only, args.token, args.fake_media) == (True, "t", False)
    assert (args.settings, args.ca_file) == ("s.ini", "ca.pem")


@pytest.mark.parametrize(("argv", "length", "talk"), [
    ([], None, None),
    (["--length", "25", "--quiet"], 25, "quiet"),
    (["--length", "open", "--talk"], None, "talk"),
    (["--length", "75"], 75, None),
])  # fmt: skip
def test_the_study_terms_go_to_the_engine(argv: list[str], length: int | None, talk: str | None) -> None:
    config = engine_config(parse_args(["--headless", *argv], env={}))
    assert (config.length, config.talk) == (length, talk)


def test_a_length_outside_the_choices_is_a_usage_error() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--length", "30"], env={})


def test_talk_and_quiet_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from client.cli import main

    assert main(["--headless", "--talk", "--quiet"]) == 2
    assert "--quiet" in capsys.readouterr().err
