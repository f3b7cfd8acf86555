"""textual-serve's ``Server``, made safe to leave running: only this machine's pages may drive the explorer.

textual-serve accepts a WebSocket from any page, so while it runs, any web site open in the user's browser
could connect to ``ws://localhost:PORT/ws`` and type into the explorer (cross-site WebSocket hijacking), or
reach it through a name that resolves to 127.0.0.1 (DNS rebinding). Here the WebSocket must come from the
page this server sent (``Origin`` matches ``Host``), and a server bound to loopback answers only to loopback
names. Page URLs follow the address the browser used, so an SSH tunnel to another local port works too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server


class ExplorerServer(Server):
    """textual-serve's server with nnview's own start-up lines and the origin checks above."""

    def __init__(self, command: str, *, host: str, port: int, title: str, local: bool) -> None:
        super().__init__(command, host=host, port=port, title=title)
        self.local = local
        self._tabs: set[asyncio.Task[Any]] = set()

    def initialize_logging(self) -> None:
        """textual-serve's log, less aiohttp's line per request: errors and explorers that fail still show."""
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    async def on_startup(self, app: web.Application) -> None:
        """nnview prints its own lines (address, reach, tunnel) before serving: no logo, no command line."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C: end every tab's session now (each explorer is told to quit), not when its browser goes away."""
        for tab in list(self._tabs):
            tab.cancel()

    async def handle_index(self, request: web.Request) -> Any:
        """The page, with its script and WebSocket URLs on the address the browser used."""
        self._check_host(request)
        self.public_url = f"{request.scheme}://{request.host}"  # read at once below: no await in between
        return await super().handle_index(request)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """Start an explorer for this tab, only for this server's own page."""
        self._check_host(request)
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc.lower() != request.host.lower():
            raise web.HTTPForbidden(text=f"nnview serve: a page from {origin} may not drive this explorer\n")
        tab = asyncio.current_task()
        assert tab is not None  # aiohttp runs each request in a task
        self._tabs.add(tab)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(tab)

    def _check_host(self, request: web.Request) -> None:
        """On loopback, refuse a request addressed to any other name (DNS rebinding)."""
        if self.local and not is_loopback_name(request.host):
            raise web.HTTPForbidden(
                text=f"nnview serve listens on this machine only; open http://localhost:{self.port}\n"
            )


def is_loopback_name(host_header: str) -> bool:
    """Whether a ``Host`` header (``name[:port]``, ``[v6]:port``) names this machine's loopback."""
    name = host_header.lower()
    if name.startswith("["):
        name = name[1 : name.find("]")]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
