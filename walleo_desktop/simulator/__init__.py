"""A Walleo Partners API stand-in, faithful to the docs: demo mode, tests and benchmarks.

No Qt, no SQLite. Use it in-process (``Simulator.transport()`` with ``IN_PROCESS_BASE_URL``) or
over real HTTP (``serve_in_thread`` in tests, ``walleo-desktop simulator`` from a shell).

The simulator itself (Starlette, uvicorn, the card PDF renderer) is imported when one of its
names is first used: the demo credentials and addresses (``_demo``) are all the app needs to
talk to a simulator on this machine, and its start must not wait for the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from walleo_desktop.simulator._demo import DEMO_CREDENTIALS, IN_PROCESS_BASE_URL

if TYPE_CHECKING:
    from walleo_desktop.simulator._app import (
        FAULT_KINDS,
        ArmedFault,
        Faults,
        RequestRecord,
        SimCard,
        SimPullRequest,
        Simulator,
        SimulatorConfig,
    )
    from walleo_desktop.simulator._server import (
        SimulatorServer,
        config_from_env,
        run_cli,
        serve,
        serve_in_thread,
    )

__all__ = [
    "DEMO_CREDENTIALS",
    "FAULT_KINDS",
    "IN_PROCESS_BASE_URL",
    "ArmedFault",
    "Faults",
    "RequestRecord",
    "SimCard",
    "SimPullRequest",
    "Simulator",
    "SimulatorConfig",
    "SimulatorServer",
    "config_from_env",
    "run_cli",
    "serve",
    "serve_in_thread",
]

_WHERE = {
    **dict.fromkeys(
        (
            "FAULT_KINDS",
            "ArmedFault",
            "Faults",
            "RequestRecord",
            "SimCard",
            "SimPullRequest",
            "Simulator",
            "SimulatorConfig",
        ),
        "_app",
    ),
    **dict.fromkeys(
        ("SimulatorServer", "config_from_env", "run_cli", "serve", "serve_in_thread"), "_server"
    ),
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups are plain
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
