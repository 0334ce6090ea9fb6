"""One working session: the store, the client, the pull engine, the catalog and card files.

Both front ends (window and CLI) open a ``Session`` and talk only to it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from walleo_desktop.api.client import WalleoClient
from walleo_desktop.api.signing import GetSigning
from walleo_desktop.engine.cards import CardFiles
from walleo_desktop.engine.catalog import CatalogService
from walleo_desktop.engine.datakey import DataKey, load_data_key
from walleo_desktop.engine.policy import PollPolicy
from walleo_desktop.engine.profiles import Connection, Profiles
from walleo_desktop.engine.pulls import PullEngine
from walleo_desktop.logs import register_secret
from walleo_desktop.store import Store

if TYPE_CHECKING:
    from walleo_desktop.engine.team import TeamAccess

__all__ = ["DEMO_SIMULATOR_STATE", "Session", "history_path"]

log = logging.getLogger("walleo.engine.session")

#: The demo simulator's state, beside the demo history (``SimulatorConfig.state_path``).
DEMO_SIMULATOR_STATE = "demo-simulator.json"


def history_path(data_dir: Path, connection: Connection) -> Path:
    """Demo pulls live in their own file so they never mix with real money."""
    return data_dir / ("demo-history.sqlite3" if connection.demo else "history.sqlite3")


class Session:
    def __init__(
        self,
        connection: Connection,
        store: Store,
        client: WalleoClient,
        *,
        data_dir: Path,
        concurrency: int = 8,
        policy: PollPolicy | None = None,
        agent: str | None = None,
        simulator: Any = None,
        data_key: DataKey | None = None,
        can_issue: bool = True,
    ) -> None:
        """Use ``await Session.open(...)``."""
        self.connection = connection
        self.store = store
        self.data_key = data_key
        self.client = client
        self.data_dir = data_dir
        self.simulator = simulator
        self.engine = PullEngine(
            client,
            store,
            profile=connection.profile,
            currency=connection.currency,
            agent=agent,
            concurrency=concurrency,
            policy=policy,
            can_issue=can_issue,
        )
        self.team: TeamAccess | None = None
        self.catalog = CatalogService(client, store, connection.profile)
        if connection.team is not None:
            self.cards = CardFiles(
                client, store, data_dir / "team-cards" / connection.team.team_id, shared=True
            )
        else:
            self.cards = CardFiles(
                client, store, data_dir / ("demo-cards" if connection.demo else "cards")
            )

    @classmethod
    async def open(
        cls,
        connection: Connection,
        data_dir: Path,
        *,
        concurrency: int = 8,
        policy: PollPolicy | None = None,
        agent: str | None = None,
        profiles: Profiles | None = None,
        simulator_delay_scale: float = 1.0,
        data_key: DataKey | None = None,
    ) -> Session:
        """Open the history and build the client. Raises StoreError / ConfigurationError.

        The history is opened with its key (``datakey``): ``data_key`` when the caller loaded it
        already (the window does, in a thread: the keyring may block), else loaded here
        (blocking). The engine can therefore always record the cards it receives; when the key
        sits in the fallback file, ``key_warning`` says so and the front end must show it.
        """
        if connection.credentials is not None:
            register_secret(connection.credentials.api_key, connection.credentials.shared_key)
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if connection.team is not None:
            return await cls._open_team(
                connection, data_dir, concurrency=concurrency, policy=policy
            )
        path = history_path(data_dir, connection)
        if data_key is None:
            data_key = await asyncio.to_thread(load_data_key, path)
        store = await Store.open_sqlite(path, cipher=data_key.cipher())
        simulator = None
        try:
            agent = agent or await store.get_setting("agent") or None
            if connection.demo:
                from walleo_desktop.simulator import (
                    DEMO_CREDENTIALS,
                    IN_PROCESS_BASE_URL,
                    Simulator,
                    SimulatorConfig,
                )

                simulator = Simulator(
                    SimulatorConfig(
                        credentials=DEMO_CREDENTIALS,
                        delay_scale=simulator_delay_scale,
                        # Walleo remembers its pulls: so must demo mode, across a crash.
                        state_path=data_dir / DEMO_SIMULATOR_STATE,
                    )
                )
                client = WalleoClient(
                    IN_PROCESS_BASE_URL,
                    DEMO_CREDENTIALS,
                    transport=simulator.transport(),
                    max_connections=concurrency,
                )
            else:
                assert connection.credentials is not None

                def learned(variant: GetSigning) -> None:
                    if profiles is not None and connection.source == "profile":
                        from dataclasses import replace

                        prof = profiles.get(connection.profile)
                        if prof is not None:
                            profiles.save(replace(prof, get_signing=variant.value))

                client = WalleoClient(
                    connection.base_url,
                    connection.credentials,
                    max_connections=concurrency,
                    get_signing=GetSigning(connection.get_signing),
                    on_get_signing_learned=learned,
                )
        except BaseException:
            await store.close()
            raise
        session = cls(
            connection,
            store,
            client,
            data_dir=data_dir,
            concurrency=concurrency,
            policy=policy,
            agent=agent,
            simulator=simulator,
            data_key=data_key,
        )
        await session.catalog.load_cached()
        return session

    @classmethod
    async def _open_team(
        cls,
        connection: Connection,
        data_dir: Path,
        *,
        concurrency: int,
        policy: PollPolicy | None,
    ) -> Session:
        """Team mode: log in to the team database as this desktop's member (keyring), open the
        shared history with the team's keys, and the team's Walleo credentials (agents and
        admins; finance gets none and issues nothing)."""
        from dataclasses import replace

        from walleo_desktop.engine.team import open_team

        team = connection.team
        assert team is not None
        access = await asyncio.to_thread(open_team, team)
        try:
            store = await asyncio.to_thread(Store.wrap, access.backend)
        except BaseException:
            await asyncio.to_thread(access.backend.close)
            raise
        connection = replace(
            connection,
            base_url=access.base_url,
            credentials=access.credentials,
            currency=access.currency,
        )
        try:
            client = WalleoClient(
                access.base_url,
                access.credentials,
                max_connections=concurrency,
            )
        except BaseException:
            await store.close()
            raise
        session = cls(
            connection,
            store,
            client,
            data_dir=data_dir,
            concurrency=concurrency,
            policy=policy,
            agent=team.member,  # the database checks it: agent = current_user
            can_issue=access.can_issue,
        )
        session.team = access
        await session.catalog.load_cached()
        return session

    @property
    def can_issue(self) -> bool:
        return self.engine.can_issue

    @property
    def key_warning(self) -> str:
        """What to tell the user about where the history's key is kept ('' when all is well)."""
        return self.data_key.warning if self.data_key is not None else ""

    async def close(self) -> None:
        try:
            await self.engine.close()
            await self.client.aclose()
        finally:
            await self.store.close()
