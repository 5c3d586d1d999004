"""aiortc's unretrieved sends on a dead connection: one INFO line; every other error as before."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from client import lostsends


async def fail_unretrieved(error: BaseException) -> None:
    """A task that fails and is dropped unawaited, as aiortc's SCTP sends are."""

    async def send() -> None:
        raise error

    task = asyncio.get_running_loop().create_task(send())
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.done()
    del task
    gc.collect()  # the task's finalizer reports "Task exception was never retrieved"


async def test_a_send_on_a_connection_already_gone_is_one_info_line(caplog: pytest.LogCaptureFixture) -> None:
    lostsends.install(asyncio.get_running_loop())
    with caplog.at_level(logging.INFO):
        await fail_unretrieved(ConnectionError("Cannot send data, not connected"))
        await fail_unretrieved(ConnectionError("Cannot send encrypted data, not connected"))
    ours = [r for r in caplog.records if r.name == "studymatch.client.lostsends"]
    assert [r.levelno for r in ours] == [logging.INFO, logging.INFO]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("error", [ConnectionError("Connection refused"), RuntimeError("Cannot send data, not connected")])
async def test_any_other_unretrieved_error_still_reaches_the_default_handler(
    error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    lostsends.install(asyncio.get_running_loop())
    with caplog.at_level(logging.INFO):
        await fail_unretrieved(error)
    assert not [r for r in caplog.records if r.name == "studymatch.client.lostsends"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and "never retrieved" in errors[0].getMessage()


async def test_a_handler_already_there_keeps_getting_the_rest() -> None:
    loop = asyncio.get_running_loop()
    seen: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    lostsends.install(loop)
    await fail_unretrieved(ConnectionError("Cannot send data, not connected"))
    await fail_unretrieved(ValueError("a bug of ours"))
    assert [type(c["exception"]) for c in seen] == [ValueError]
