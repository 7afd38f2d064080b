"""What the timeline's date axis labels at each zoom: the unit and step of its ticks, their
labels and the context row (months over days, years over months). Pure numpy, no Qt: label
widths come from the caller; the axis item in explorer.views.timeline_items draws the plan.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MONTH_ABBR = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# Label steps per unit with the shortest gap (days) between two labelled ticks they give.
# Day ticks follow the month (1, 3, 5 ... or 1, 5, 10 ... 25) so a month always starts at a
# labelled "1"; a tick too close to the next month's 1st is left out.
_DAY_STEPS = ((1, 1), (2, 2), (5, 4), (10, 9))
_MONTH_STEPS = ((1, 28), (2, 59), (3, 89))
# Days at the 1st, 10th and 20th only while months alone would label fewer than four ticks
# (large type on a narrow window); over a longer view the months read better.
_SPARSE_DAYS_SPAN = 120.0
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
_MIN_MINOR_PX = 6.0  # unlabelled ticks closer than this are not drawn


def _day_to_month(days: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of day numbers."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def _month_to_day(months: np.ndarray) -> np.ndarray:
    """Day number of the 1st of each month (months since 1970-01)."""
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _year_to_day(years: np.ndarray) -> np.ndarray:
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)


def _day_ticks(lo: float, hi: float, step: int, min_gap: int) -> np.ndarray:
    """Day numbers in [lo, hi] labelled at this step: the 1st of each month, then every
    ``step``-th day of the month (3, 5 ... for 2; 5, 10 ... for 5), none closer than ``min_gap``
    days to the next month's 1st."""
    days = np.arange(math.ceil(lo), math.floor(hi) + 1, dtype=np.int64)
    if step == 1 or days.size == 0:
        return days
    month = _day_to_month(days)
    first = _month_to_day(month)
    dom = days - first + 1
    to_next = _month_to_day(month + 1) - days
    on_step = (dom % step == 0) if step in (5, 10) else ((dom - 1) % step == 0)
    return days[(dom == 1) | (on_step & (to_next >= min_gap))]


def _month_range(lo: float, hi: float) -> np.ndarray:
    """Months since 1970-01 whose 1st lies in [lo, hi]."""
    m0, m1 = _day_to_month(np.array([math.ceil(lo), math.floor(hi)], dtype=np.int64))
    months = np.arange(m0, m1 + 1, dtype=np.int64)
    return months[_month_to_day(months) >= lo]


def _year_range(lo: float, hi: float) -> np.ndarray:
    """Years whose 1 January lies in [lo, hi]."""
    y0, y1 = _day_to_month(np.array([math.ceil(lo), math.floor(hi)], dtype=np.int64)) // 12 + 1970
    years = np.arange(y0, y1 + 1, dtype=np.int64)
    return years[_year_to_day(years) >= lo]


@dataclass(frozen=True)
class AxisScale:
    """What the date axis labels at one zoom: the unit and step of the labelled (major) ticks,
    the unit and step of the unlabelled (minor) ones, and the form of the context row."""

    unit: str  # "day" | "month" | "year"
    step: int
    min_gap: int  # shortest gap in days between two labelled ticks
    minor_unit: str | None = None
    minor_step: int = 1
    long_context: bool = False  # "August 2025" rather than "Aug 2025"


@dataclass
class AxisPlan:
    """The ticks and labels of one view range, in days."""

    scale: AxisScale
    major: np.ndarray  # day numbers of the labelled ticks
    labels: list[str]
    minor: np.ndarray
    # the periods (months over days, years over months) the view overlaps: start, end, label
    context: list[tuple[float, float, str]]
    bounds: np.ndarray  # period starts inside the view: they get a separator in the context row


def choose_scale(
    ppd: float, span_days: float, width: Callable[[str], float], context_width: Callable[[str], float], gap: float
) -> AxisScale:
    """The finest labelling whose widest label fits between two ticks with ``gap`` pixels to
    spare, at ``ppd`` pixels a day: days under their month, months under their year, or years."""
    digit = max("0123456789", key=width)
    day_w = width(digit * 2)
    month_w = max(width(m) for m in MONTH_ABBR)
    year_w = width(digit * 4)
    cdigit = max("0123456789", key=context_width)
    short_ctx = max(context_width(f"{m} {cdigit * 4}") for m in MONTH_ABBR)
    long_ctx = max(context_width(f"{m} {cdigit * 4}") for m in MONTH_NAMES)
    month_px = 28 * ppd
    # days only while each month also has room for its name: no day numbers without context
    if month_px >= short_ctx + gap:
        for step, min_gap in _DAY_STEPS:
            if step == 10 and span_days > _SPARSE_DAYS_SPAN:
                break
            if min_gap * ppd >= day_w + gap:
                minor = "day" if step > 1 and ppd >= _MIN_MINOR_PX else None
                return AxisScale("day", step, min_gap, minor, 1, month_px >= long_ctx + gap)
    for step, min_gap in _MONTH_STEPS:
        if min_gap * ppd >= month_w + gap:
            return AxisScale("month", step, min_gap, "month" if step > 1 else None, 1)
    for step in _YEAR_STEPS:
        if 365 * step * ppd >= year_w + gap:
            break
    # the finest year step dividing the label step that still leaves room between ticks
    minor_unit, minor_step = None, 1
    if step == 1:
        if month_px >= _MIN_MINOR_PX:
            minor_unit = "month"
    else:
        for sub in _YEAR_STEPS:
            if sub < step and step % sub == 0 and 365 * sub * ppd >= _MIN_MINOR_PX:
                minor_unit, minor_step = "year", sub
                break
    return AxisScale("year", step, 365 * step, minor_unit, minor_step)


def _unit_ticks(unit: str, step: int, lo: float, hi: float, min_gap: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Tick day numbers of a unit in [lo, hi] and the numbers they label (day of month,
    month 0-11, year)."""
    if unit == "day":
        days = _day_ticks(lo, hi, step, min_gap)
        return days, days - _month_to_day(_day_to_month(days)) + 1
    if unit == "month":
        months = _month_range(lo, hi)
        months = months[(months % 12) % step == 0]
        return _month_to_day(months), months % 12
    years = _year_range(lo, hi)
    years = years[years % step == 0]
    return _year_to_day(years), years


def plan_axis(lo: float, hi: float, scale: AxisScale) -> AxisPlan:
    """Ticks, labels and context periods for the days [lo, hi] at this scale."""
    major, numbers = _unit_ticks(scale.unit, scale.step, lo, hi, scale.min_gap)
    if scale.unit == "day":
        labels = [str(n) for n in numbers.tolist()]
    elif scale.unit == "month":
        labels = [MONTH_ABBR[n] for n in numbers.tolist()]
    else:
        labels = [str(n) for n in numbers.tolist()]
    if scale.minor_unit is None:
        minor = np.zeros(0, dtype=np.int64)
    else:
        minor, _ = _unit_ticks(scale.minor_unit, scale.minor_step, lo, hi)
        minor = minor[~np.isin(minor, major)]
    context: list[tuple[float, float, str]] = []
    bounds = np.zeros(0, dtype=np.int64)
    if scale.unit in ("day", "month"):
        first_month, last_month = _day_to_month(np.array([math.floor(lo), math.floor(hi)], dtype=np.int64))
        if scale.unit == "day":
            months = np.arange(first_month, last_month + 1, dtype=np.int64)
            starts, ends = _month_to_day(months), _month_to_day(months + 1)
            names = MONTH_NAMES if scale.long_context else MONTH_ABBR
            texts = [f"{names[m % 12]} {m // 12 + 1970}" for m in months.tolist()]
        else:
            years = np.arange(first_month // 12, last_month // 12 + 1, dtype=np.int64) + 1970
            starts, ends = _year_to_day(years), _year_to_day(years + 1)
            texts = [str(y) for y in years.tolist()]
        context = list(zip(starts.tolist(), ends.tolist(), texts, strict=True))
        bounds = starts[(starts >= lo) & (starts <= hi)]
    return AxisPlan(scale, major, labels, minor, context, bounds)
