"""A Walleo Partners API stand-in, faithful to the docs: demo mode, tests and benchmarks.

No Qt, no SQLite. Use it in-process (``Simulator.transport()`` with ``IN_PROCESS_BASE_URL``) or
over real HTTP (``serve_in_thread`` in tests, ``walleo-desktop simulator`` from a shell).
"""

from walleo_desktop.simulator._app import (
    DEMO_CREDENTIALS,
    FAULT_KINDS,
    IN_PROCESS_BASE_URL,
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
