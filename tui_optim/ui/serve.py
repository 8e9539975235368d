"""`tui-optim serve`: the dashboard in a web browser, through textual-serve.

Every browser tab that opens the page gets its own `tui-optim` process (its own runs, keys and
screen); the server only relays the terminal's bytes. It binds to 127.0.0.1 unless told
otherwise: from another machine, `ssh -L 8000:localhost:8000 HOST` and open
http://localhost:8000. The page's addresses are built from the address the browser used, so a
tunnel to any local port, or a name on the LAN, works as well as the server's own name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import signal
import sys
from pathlib import Path
from typing import Any, Callable, TextIO

import aiohttp_jinja2
from aiohttp import web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from tui_optim.errors import UserError

QUIT_GRACE = 5.0        # seconds a visitor's dashboard gets to quit before it is killed


class CannotServe(UserError):
    """The address cannot be bound (in use, or not this machine's)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DashboardServer(Server):
    """textual-serve's server, with page addresses taken from the request and every visitor's
    process stopped when the server stops."""

    def __init__(self, command: str, *, host: str, port: int, title: str, font_size: int) -> None:
        super().__init__(command, host=host, port=port, title=title,
                         templates_path=Path(__file__).parent / "web")
        self.font_size = font_size
        self.sessions: set[tuple[web.WebSocketResponse, AppService]] = set()

    def initialize_logging(self) -> None:
        """textual-serve's logging prints a banner and rich tracebacks; ours says one line."""

    async def on_startup(self, app: web.Application) -> None:
        """Announced by `serve()`, which knows the port actually bound."""

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = f"{request.scheme}://{request.host}"
        ws_base = ("wss://" if request.scheme == "https" else "ws://") + request.host
        router = request.app.router
        return {
            "font_size": min(72, max(6, to_int(request.query.get("fontsize", ""), self.font_size))),
            "app_websocket_url": ws_base + str(router["websocket"].url_for()),
            "config": {"static": {"url": base + str(router["static"].url_for(filename="/")).rstrip("/") + "/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One visitor: one dashboard process, for as long as the page is open."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)
        service = AppService(self.command, write_bytes=websocket.send_bytes,
                             write_str=websocket.send_str, close=websocket.close,
                             download_manager=self.download_manager, debug=False)
        session = (websocket, service)
        self.sessions.add(session)
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except (asyncio.CancelledError, ConnectionResetError):
            pass
        finally:
            self.sessions.discard(session)
            await _stop(service)
            if not websocket.closed:
                await websocket.close()
        return websocket

    async def close_sessions(self) -> None:
        """Every open page is told the server is going, and its dashboard quits (or is killed)."""
        for websocket, _service in list(self.sessions):
            await websocket.close(code=1001, message=b"server stopping")
        for _ws, service in list(self.sessions):
            await _stop(service)


async def _stop(service: AppService) -> None:
    """Ask the dashboard to quit, as a closed tab does; kill it if it has not after QUIT_GRACE."""
    process = service._process
    try:
        await asyncio.wait_for(service.stop(), QUIT_GRACE)
    except (asyncio.TimeoutError, ConnectionResetError, BrokenPipeError, RuntimeError):
        pass
    if process is not None and process.returncode is None:
        process.kill()
        await process.wait()


def serve(command: str, *, host: str, port: int, title: str, font_size: int = 16,
          out: TextIO = sys.stdout, on_ready: Callable[[str], None] | None = None) -> int:
    """Serve until SIGINT, SIGTERM or SIGHUP; returns the exit status (0 on a clean stop).
    Raises CannotServe when the address cannot be bound. `font_size` (px) is the page's default;
    a visitor's `?fontsize=N` wins."""
    server = DashboardServer(command, host=host, port=port, title=title, font_size=font_size)

    async def main() -> None:
        app = await server._make_app()
        runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=QUIT_GRACE)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            try:
                await site.start()
            except OSError as e:
                raise CannotServe(f"cannot serve on {host} port {port}: {e.strerror or e}") from None
            bound = runner.addresses[0][1]
            shown = f"[{host}]" if ":" in host else host
            url = f"http://{shown}:{bound}"
            print(f"tui-optim: serving {title} on {url}", file=out)
            if is_loopback(host):
                print(f"  this machine only. From another machine: ssh -L {bound}:localhost:{bound} "
                      f"THIS-HOST, then open http://localhost:{bound}", file=out)
            else:
                print(f"  open to the network: anyone who can reach this machine on port {bound} "
                      "can open the dashboard", file=out)
            print("  each browser tab gets its own dashboard; Ctrl+C stops the server", file=out,
                  flush=True)
            if on_ready is not None:
                on_ready(url)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            try:
                print("tui-optim: stopping the server", file=out, flush=True)
            except OSError:
                pass                # whoever read our output has gone; stop all the same
            await server.close_sessions()
        finally:
            await runner.cleanup()

    asyncio.run(main())
    return 0
