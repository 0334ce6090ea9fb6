"""Walleo's time zone and the day a card expires: shared by the API client, the history (which
stores that day beside the card) and the window, so that they all say the day Walleo means.

It sits beside the layers (like ``logs``): ``api`` and ``store`` must not know each other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["WALLEO_TIMEZONE", "expiry_day"]


def _paris() -> tzinfo:
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo("Europe/Paris")
    except Exception:  # no tz database (Windows without tzdata): Walleo's winter offset
        return timezone(timedelta(hours=1), "CET")


#: Walleo's own time zone. Its timestamps carry Paris offsets (``+01:00`` in February,
#: ``+02:00`` in June in the documented examples) and a card expires at midnight there
#: (``"expire_at": "2022-06-24T00:00:00.000+02:00"``).
WALLEO_TIMEZONE = _paris()


def expiry_day(expire_at: datetime) -> date:
    """The calendar day a card expires, the one Walleo means and prints on the card's PDF.

    It is the date of ``expire_at`` in the offset Walleo sent it with: 24 June for
    ``2022-06-24T00:00:00+02:00``, wherever the computer is. The same instant read as a UTC or
    local date is 23 June west of Paris, a day early. The history keeps instants in UTC, so the
    day is taken in ``WALLEO_TIMEZONE`` (the offsets Walleo sends). Naive values are UTC.
    """
    if expire_at.tzinfo is None:
        expire_at = expire_at.replace(tzinfo=UTC)
    return expire_at.astimezone(WALLEO_TIMEZONE).date()
