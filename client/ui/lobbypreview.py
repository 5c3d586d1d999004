"""The lobby's live camera, kept in step with what the window wants.

Opening the camera takes a while, and the page, mode or camera button can
change meanwhile; so one switch runs at a time, and after each the wish is
read again and followed if it moved. In a call the engine's own frames are
the preview (LocalVideoFrame), so this only ever runs in the lobby.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from client.ui.seams import PreviewHooks


class LobbyPreview:
    def __init__(
        self,
        hooks: PreviewHooks | None,
        wanted: Callable[[], bool],
        start: Callable[[PreviewHooks], Awaitable[None]],
        spawn: Callable[[Coroutine[Any, Any, None]], object],
        unseen: Callable[[], bool] = lambda: False,
    ) -> None:
        """`hooks` None: no preview at all (controller tests). `start` opens it through the hooks.
        `unseen`: nobody can see the window, so a stopped preview also closes an unused camera."""
        self._unseen = unseen
        self._hooks = hooks
        self._wanted = wanted
        self._start = start
        self._spawn = spawn
        self._busy = False

    def update(self) -> None:
        hooks = self._hooks
        if hooks is None or self._busy:
            return
        want = self._wanted()
        if want != hooks.previewing():
            self._busy = True
            self._spawn(self._switch(hooks, want))

    async def _switch(self, hooks: PreviewHooks, want: bool) -> None:
        try:
            if want:
                await self._start(hooks)
            else:
                await hooks.stop_preview(release=self._unseen())
        finally:
            self._busy = False
        if self._wanted() != want and (want or hooks.previewing()):
            self.update()

    async def stop(self) -> None:
        if self._hooks is not None:
            await self._hooks.stop_preview()
