"""Money as the user's locale writes it: ``1 234,50 €`` in French, ``€1,234.50`` in English."""

from __future__ import annotations

from PySide6.QtCore import QLocale

__all__ = ["currency_symbol", "format_amount"]

_CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF", "CAD": "CA$"}


def currency_symbol(currency: str) -> str:
    return _CURRENCY_SYMBOLS.get((currency or "").upper(), currency)


def format_amount(
    amount: int | float, currency: str, locale: QLocale | None = None, *, cents: bool = False
) -> str:
    """``50, "EUR"`` → ``"50 €"`` (fr_FR) / ``"€50"`` (en); unknown currencies keep their code.

    ``cents=True`` always shows two decimals, for columns of costs that must line up.
    """
    loc = locale or QLocale()
    if loc.language() == QLocale.Language.C:
        loc = QLocale("en_GB")
    code = (currency or "").upper()
    if loc.currencySymbol(QLocale.CurrencySymbolFormat.CurrencyIsoCode) == code:
        symbol = loc.currencySymbol(QLocale.CurrencySymbolFormat.CurrencySymbol)
    else:
        symbol = currency_symbol(code)
    if cents or (isinstance(amount, float) and not amount.is_integer()):
        return loc.toCurrencyString(float(amount), symbol, 2)
    return loc.toCurrencyString(int(amount), symbol)
