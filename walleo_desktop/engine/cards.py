"""Card files: each card's PDF is downloaded once into the data dir and reused."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from walleo_desktop.api.client import WalleoClient
from walleo_desktop.engine.files import write_private
from walleo_desktop.store import Store
from walleo_desktop.store.records import CardRecord

__all__ = ["CardFiles"]

log = logging.getLogger("walleo.engine.cards")


class CardFiles:
    def __init__(
        self, client: WalleoClient, store: Store, directory: Path, *, shared: bool = False
    ) -> None:
        """``shared``: the history is a team's, read by many desktops: a PDF's path on this
        one means nothing on theirs, so it is not written there (each keeps its own copy)."""
        self._client = client
        self._store = store
        self.directory = directory
        self._shared = shared
        self._locks: dict[str, asyncio.Lock] = {}

    async def pdf(self, card: CardRecord) -> Path:
        """The local path of the card's PDF, downloading it the first time.

        Raises ``WalleoError`` when the download fails or the file is not a PDF.
        """
        lock = self._locks.setdefault(card.card_id, asyncio.Lock())
        async with lock:
            path = self.directory / f"{_safe(card.card_id)}.pdf"
            if self._shared:
                if await asyncio.to_thread(path.is_file):
                    return path
            else:
                current = await self._store.get_card(card.card_id) or card
                if current.pdf_path and Path(current.pdf_path).is_file():
                    return Path(current.pdf_path)
            if not card.pdf_url:
                raise FileNotFoundError("Walleo gave no PDF for this card.")
            content = await self._client.download_pdf(card.pdf_url)
            await asyncio.to_thread(write_private, path, content)
            if not self._shared:
                await self._store.set_card_pdf_path(card.card_id, str(path))
            log.info("saved the PDF of card %s (%d bytes)", card.card_id, len(content))
            return path


def _safe(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "-_") or "card"
