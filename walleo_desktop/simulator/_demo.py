"""What demo mode and a simulator on this machine are known by, without the simulator itself:
``engine.profiles`` reads the demo credentials for a ``WALLEO_BASE_URL`` on 127.0.0.1, and the
window's start must not import the simulator's web stack (Starlette, uvicorn, the PDF
renderer) for that."""

from __future__ import annotations

from walleo_desktop.api.client import Credentials

__all__ = ["API_PREFIX", "DEMO_CREDENTIALS", "IN_PROCESS_BASE_URL"]

API_PREFIX = "/partners/v1"
IN_PROCESS_BASE_URL = "http://walleo-simulator.localhost" + API_PREFIX

#: Fixed demo credentials, printed by ``walleo-desktop simulator`` and used by demo mode.
DEMO_CREDENTIALS = Credentials(
    api_key="demo-80chjRjjQlFU3-OKDQkRYl-DNedQBCObTRjE7aYhAjV0MBTXFWFIlpmoeP5",
    identifier="d2514209-7369-4121-aa94-5b05c32c1d6f",
    shared_key="9F9560465B6840A438C9BB64C4A3FFC6",
)
