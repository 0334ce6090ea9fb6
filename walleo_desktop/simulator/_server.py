"""Running the simulator over real HTTP: in a test thread, or as ``walleo-desktop simulator``."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import uvicorn

from walleo_desktop.api.client import Credentials
from walleo_desktop.api.errors import ConfigurationError
from walleo_desktop.simulator._app import (
    API_PREFIX,
    DEMO_CREDENTIALS,
    SimulatedDrop,
    Simulator,
    SimulatorConfig,
)

__all__ = ["SimulatorServer", "config_from_env", "run_cli", "serve", "serve_in_thread"]

log = logging.getLogger("walleo.simulator")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

# Exact behaviour, whatever extras are installed: the simulator stamps its own Date header (so a
# skewed simulator clock is visible), never trusts X-Forwarded-* and needs no lifespan.
_UVICORN_OPTIONS: dict[str, Any] = {
    "http": "h11",
    "loop": "asyncio",
    "ws": "none",
    "lifespan": "off",
    "date_header": False,
    "proxy_headers": False,
    "timeout_graceful_shutdown": 2,
}


class _HideIntentionalDrops(logging.Filter):
    """uvicorn logs app exceptions as ERROR with a traceback; a simulated drop is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, SimulatedDrop)


_DROP_FILTER = _HideIntentionalDrops()


def _hide_intentional_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if _DROP_FILTER not in logger.filters:
        logger.addFilter(_DROP_FILTER)


def _bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        if os.name != "nt":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API_PREFIX}"


@dataclass(frozen=True, slots=True)
class SimulatorServer:
    """A simulator listening on real TCP (see ``serve_in_thread``)."""

    simulator: Simulator
    host: str
    port: int
    base_url: str


@contextmanager
def serve_in_thread(
    sim: Simulator, host: str = DEFAULT_HOST, port: int = 0, *, startup_timeout: float = 10.0
) -> Iterator[SimulatorServer]:
    """Serve ``sim`` with uvicorn in a daemon thread (port 0: an ephemeral port).

    Returns once the server accepts connections; shuts it down cleanly on exit.
    """
    _hide_intentional_drops()
    sock = _bind(host, port)
    actual_port = int(sock.getsockname()[1])
    config = uvicorn.Config(
        sim.app,
        host=host,
        port=actual_port,
        log_config=None,
        access_log=False,
        **_UVICORN_OPTIONS,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run,
        kwargs={"sockets": [sock]},
        name=f"walleo-simulator-{actual_port}",
        daemon=True,
    )
    thread.start()
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Walleo simulator did not start on {host}:{actual_port}")
            time.sleep(0.002)
        yield SimulatorServer(sim, host, actual_port, _base_url(host, actual_port))
    finally:
        server.should_exit = True
        thread.join(timeout=10.0)
        sock.close()


def serve(
    host: str,
    port: int,
    config: SimulatorConfig,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve a new simulator until interrupted (``walleo-desktop simulator``).

    ``on_ready`` receives the base URL once the port is bound (useful with port 0).
    """
    sim = Simulator(config)
    sock = _bind(host, port)
    try:
        actual_port = int(sock.getsockname()[1])
        uv_config = uvicorn.Config(sim.app, host=host, port=actual_port, **_UVICORN_OPTIONS)
        _hide_intentional_drops()  # after Config: it (re)configures uvicorn's loggers
        if on_ready is not None:
            on_ready(_base_url(host, actual_port))
        uvicorn.Server(uv_config).run(sockets=[sock])
    finally:
        sock.close()


def config_from_env(environ: Mapping[str, str] | None = None) -> SimulatorConfig:
    """Credentials from WALLEO_API_KEY / WALLEO_IDENTIFIER / WALLEO_SHARED_KEY when all three
    are set, else ``DEMO_CREDENTIALS``."""
    env = os.environ if environ is None else environ
    api_key, identifier, shared_key = (
        env.get(name, "").strip()
        for name in ("WALLEO_API_KEY", "WALLEO_IDENTIFIER", "WALLEO_SHARED_KEY")
    )
    if api_key and identifier and shared_key:
        credentials = Credentials(api_key=api_key, identifier=identifier, shared_key=shared_key)
        credentials.validate()
        return SimulatorConfig(credentials=credentials)
    return SimulatorConfig(credentials=DEMO_CREDENTIALS)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="walleo-desktop simulator",
        description=(
            "Run a local stand-in for Walleo's Partners API (signatures, catalog, asynchronous "
            "pulls, cards and PDFs). Uses WALLEO_API_KEY, WALLEO_IDENTIFIER and "
            "WALLEO_SHARED_KEY when all three are set, else fixed demo credentials."
        ),
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (%(default)s)")
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port, 0 for any free one (%(default)s)"
    )
    parser.add_argument(
        "--delay-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="multiply every brand's pull duration by F (%(default)s)",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        metavar="F",
        help="probability, 0 to 1, that a request fails (drop, 500, HTML 502, slow, 429 "
        "equally) (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=None, metavar="N", help="random seed")
    return parser


def run_cli(argv: list[str] | None = None) -> int:
    """``walleo-desktop simulator [--host H] [--port P] [--delay-scale F] [--fault-rate F]
    [--seed N]``; returns the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return exc.code if isinstance(exc.code, int) else 2
    if args.delay_scale < 0 or not 0.0 <= args.fault_rate <= 1.0:
        parser.print_usage(sys.stderr)
        print("error: --delay-scale must be >= 0 and --fault-rate between 0 and 1", file=sys.stderr)
        return 2
    try:
        config = config_from_env()
    except ConfigurationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config.delay_scale = args.delay_scale
    config.seed = args.seed
    config.faults.spread(args.fault_rate)
    config.max_records = 10_000  # a long-running server must not grow without bound
    demo = config.credentials == DEMO_CREDENTIALS

    def announce(base_url: str) -> None:
        print(f"Walleo simulator listening on {base_url}")
        if demo:
            creds = config.credentials
            print("Demo credentials (enter them in a profile with the base URL above):")
            print(f"  Identifier: {creds.identifier}")
            print(f"  API key:    {creds.api_key}")
            print(f"  Shared key: {creds.shared_key}")
        else:
            print("Credentials: from WALLEO_API_KEY, WALLEO_IDENTIFIER and WALLEO_SHARED_KEY")
        if args.fault_rate:
            print(f"Injecting faults in {args.fault_rate:.0%} of API requests")
        print("Press Ctrl+C to stop.", flush=True)

    try:
        serve(args.host, args.port, config, on_ready=announce)
    except OSError as exc:
        print(f"error: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    return 0
