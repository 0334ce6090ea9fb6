"""The gift-card catalog: cached in the store so the form works at once, refreshed from Walleo."""

from __future__ import annotations

import logging
from datetime import datetime

from walleo_desktop.api.client import WalleoClient
from walleo_desktop.api.errors import WalleoError
from walleo_desktop.api.models import GiftCard, Inventory
from walleo_desktop.store import Store
from walleo_desktop.store.records import utcnow

__all__ = ["CatalogService"]

log = logging.getLogger("walleo.engine.catalog")


class CatalogService:
    def __init__(self, client: WalleoClient, store: Store, profile: str) -> None:
        self._client = client
        self._store = store
        self._profile = profile
        self._cards: dict[str, GiftCard] = {}
        self._logos: dict[str, bytes | None] = {}
        self.fetched_at: datetime | None = None

    async def load_cached(self) -> list[GiftCard]:
        """The last catalog seen for this profile (possibly empty), read from the history
        without any request to Walleo."""
        if not self._cards:
            entry = await self._store.load_catalog(self._profile)
            if entry is not None and not self._cards:
                fetched_at, items = entry
                self._set(items, fetched_at)
        return self.gift_cards()

    def cached(self) -> list[GiftCard]:
        """The catalog as last loaded (``load_cached``) or refreshed; no I/O."""
        return self.gift_cards()

    def gift_cards(self) -> list[GiftCard]:
        return sorted(self._cards.values(), key=lambda g: g.name.casefold())

    def find(self, code: str) -> GiftCard | None:
        return self._cards.get(code) or next(
            (g for g in self._cards.values() if g.code.lower() == code.lower()), None
        )

    async def refresh(self) -> list[GiftCard]:
        """Fetch the catalog from Walleo and cache it. Errors propagate (typed WalleoError)."""
        cards = await self._client.list_gift_cards()
        now = utcnow()
        await self._store.save_catalog(self._profile, [dict(g.raw) for g in cards], now)
        self._cards = {g.code: g for g in cards}
        self.fetched_at = now
        return self.gift_cards()

    async def gift_card(self, code: str) -> GiftCard:
        """One gift card: from the catalog when known, else asked from Walleo."""
        found = self.find(code)
        if found is not None:
            return found
        card = await self._client.get_gift_card(code)
        self._cards[card.code] = card
        return card

    async def logo(self, gift_card: GiftCard) -> bytes | None:
        """The brand's square logo (else its wide one), downloaded once per run; None if none.

        A logo is decoration: a failed download is logged and remembered, never raised.
        """
        if gift_card.code in self._logos:
            return self._logos[gift_card.code]
        url = gift_card.logo_square_url or gift_card.logo_url
        content: bytes | None = None
        if url:
            try:
                content = await self._client.download_logo(url)
            except WalleoError as exc:
                log.info("no logo for %s: %s", gift_card.code, exc)
        self._logos[gift_card.code] = content
        return content

    async def inventory(self, code: str) -> Inventory:
        return await self._client.get_inventory(code)

    def _set(self, items: list[dict[str, object]], fetched_at: datetime) -> None:
        cards: dict[str, GiftCard] = {}
        for item in items:
            try:
                g = GiftCard.from_json(item)
            except ValueError:
                continue
            cards[g.code] = g
        self._cards = cards
        self.fetched_at = fetched_at
