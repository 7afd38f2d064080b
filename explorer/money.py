"""How an amount's USD figure relates to it: computed from the rate, or stated by the source.

The USD figure is kept as a column (a source may state its own, rounded differently from any
rate); whether it was computed is read from the numbers, so it needs no flag of its own.
"""

from __future__ import annotations

import math

# A stated figure the rate reproduces to half a per cent is taken as computed (sources round).
TOLERANCE = 0.005


def computed_usd(amount: float | None, currency: str | None, rate: float | None) -> float | None:
    """amount × rate (USD per unit), or the amount itself in USD; None when it cannot be known."""
    if amount is None or not math.isfinite(amount):
        return None
    if currency == "USD":
        return float(amount)
    if rate is None or not math.isfinite(rate) or rate <= 0:
        return None
    return round(float(amount) * float(rate), 2)


def is_stated(amount: float | None, currency: str | None, rate: float | None, amount_usd: float | None) -> bool:
    """True when the USD figure is not what the amount and rate give (so it came from the source)."""
    if amount_usd is None:
        return False
    expected = computed_usd(amount, currency, rate)
    if expected is None:
        return True
    return abs(amount_usd - expected) > TOLERANCE * max(abs(expected), 1.0)
