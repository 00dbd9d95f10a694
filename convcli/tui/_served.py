"""textual-serve's server as convcli serves the explorer: its own start-up lines, no request for Google's font,
and Ctrl-C ending every open tab's explorer. Imported only by ``explore --serve`` (textual-serve is optional)."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys

from aiohttp import web
from aiohttp.typedefs import Handler
from textual_serve.server import Server

# textual-serve's page asks Google for its font; a classroom may have no network: the page does without
FONT_LINK = re.compile(r"<link[^>]*fonts\.googleapis\.com[^>]*>\s*", re.IGNORECASE)


@web.middleware
async def offline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The page without its request for Google's font (the browser's own monospace font is used)."""
    response = await handler(request)
    if request.path == "/" and isinstance(response, web.Response) and response.text:
        response.text = FONT_LINK.sub("", response.text)
    return response


class ExplorerServer(Server):
    """Serves one command, each browser tab running its own copy; ``say``: the lines printed once listening."""

    def __init__(self, command: str, host: str, port: int, say: list[str]) -> None:
        super().__init__(command, host=host, port=port, title="convcli explore")
        self.say = say
        self.tabs: set[asyncio.Task[object]] = set()

    def initialize_logging(self) -> None:
        logging.basicConfig(level="WARNING", format="%(message)s", stream=sys.stderr)

    async def _make_app(self) -> web.Application:
        app: web.Application = await super()._make_app()
        app.middlewares.append(offline)
        return app

    def serve(self, debug: bool = False) -> None:
        """Listen until Ctrl-C or SIGTERM. The lines are said once the port is bound (a taken port is said
        alone, by the caller)."""
        self.initialize_logging()
        loop = asyncio.new_event_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, self.request_exit)
            except NotImplementedError:  # Windows: Ctrl-C is a KeyboardInterrupt, which run_app ends on
                pass
        web.run_app(
            self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop, print=self._listening
        )

    def _listening(self, *_: object) -> None:
        for line in self.say:
            print(line, file=sys.stderr, flush=True)

    async def on_startup(self, app: web.Application) -> None:
        """Nothing: textual-serve's banner would come before the port is bound."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One tab: its explorer runs while the tab is open; the task is kept so that stopping can end it."""
        task = asyncio.current_task()
        if task is not None:
            self.tabs.add(task)
        try:
            response: web.WebSocketResponse = await super().handle_websocket(request)
            return response
        finally:
            if task is not None:
                self.tabs.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl-C: each open tab's explorer is told to quit (textual-serve's own stop) and awaited; the server
        would otherwise wait for every tab to close."""
        for task in list(self.tabs):
            task.cancel()
        if self.tabs:
            await asyncio.wait(list(self.tabs), timeout=5)
