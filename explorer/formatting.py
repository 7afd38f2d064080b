"""How amounts, dates and record kinds read to a person. Pure functions, no Qt."""

from __future__ import annotations

import datetime as dt
import math

from explorer import schema
from explorer.models import DatePrecision, day_to_date

CURRENCY_SYMBOL = {"USD": "US$", "JPY": "¥", "INR": "₹"}

# What a person calls one record of each type: the registry's label.
KIND_LABEL: schema.PerKind[str] = schema.PerKind(lambda k: k.label)


def short_number(value: float) -> str:
    """12 340 000 000 → '12.3 bn'; keeps three significant figures."""
    if value is None or not math.isfinite(value):
        return "—"
    sign = "-" if value < 0 else ""
    value = abs(value)
    for limit, suffix in ((1e12, "tn"), (1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if value >= limit:
            scaled = value / limit
            text = f"{scaled:.3g}" if scaled < 100 else f"{scaled:,.0f}"
            return f"{sign}{text} {suffix}"
    return f"{sign}{value:,.0f}" if value == int(value) else f"{sign}{value:,.2f}"


def money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    symbol = CURRENCY_SYMBOL.get(currency or "", f"{currency} " if currency else "")
    return f"{symbol}{short_number(amount)}"


def usd(amount: float | None) -> str:
    return "—" if amount is None or (isinstance(amount, float) and math.isnan(amount)) else money(amount, "USD")


def full_amount(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return "—"
    return f"{currency or ''} {amount:,.0f}".strip()


def date_text(value: dt.date | None, precision: str | None = "day") -> str:
    if value is None:
        return "undated"
    try:
        p = DatePrecision(precision or "day")
    except ValueError:
        p = DatePrecision.DAY
    return p.format(value)


def day_text(day: float | None, precision: str | None = "day") -> str:
    if day is None or (isinstance(day, float) and math.isnan(day)):
        return "undated"
    return date_text(day_to_date(int(day)), precision)


def period_text(start: dt.date | None, end: dt.date | None, precision: str | None) -> str:
    if start is None:
        return "undated"
    if end is None or end == start:
        return date_text(start, precision)
    return f"{date_text(start, precision)} – {date_text(end, precision)}"


PRECISION_NOTE = {
    "day": "exact day",
    "month": "known to the month",
    "year": "known to the year",
    "approximate": "approximate",
}


def history_value(
    text: str | None, kind: str, *, currency: str | None = None, field: str = "", labels: dict[int, str] | None = None
) -> str:
    """A value from the change log (stored as text: "10000000000000.0", "2025-08-29", "17")
    written as the detail pane writes it: ¥10 tn, 29 Aug 2025, the linked record's name."""
    if text is None or text == "":
        return "—"
    try:
        if kind in ("money", "float", "int") or field == "amount_usd":
            number = float(text)
            if field == "amount_usd":
                return usd(number)
            if kind == "money" and field == "amount":
                return money(number, currency)
            if kind == "int" or number.is_integer():
                return f"{number:,.0f}"
            return f"{number:,.6g}"
        if kind == "rate":
            return f"{float(text):g} USD per unit"
        if kind == "date":
            return date_text(dt.date.fromisoformat(text[:10]))
        if kind == "ref":
            key = int(float(text))
            return (labels or {}).get(key, f"record {key}")
    except ValueError:
        pass
    if kind in ("choice", "precision"):
        return text.replace("_", " ")
    return text if len(text) <= 120 else text[:117] + "…"
