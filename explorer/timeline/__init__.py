"""The timeline without Qt: its records, level of detail, rows, labels, date-axis plan and
keyboard order (explorer.timeline.model holds them together). explorer.views.timeline paints
what it works out and takes the input.
"""

from explorer.timeline.axis import MONTH_ABBR, MONTH_NAMES, AxisPlan, AxisScale, choose_scale, plan_axis
from explorer.timeline.labels import (
    arrow_control,
    candidate_rects,
    distinguishing_tails,
    format_usd,
    label_priority,
    label_room,
    pack_rows,
    place_labels,
)
from explorer.timeline.lod import (
    BIN_PX,
    DETAIL_LIMIT,
    SECONDS_PER_DAY,
    Bins,
    Extents,
    LaneIndex,
    LaneLOD,
    aggregate,
    bin_edges,
    crowding_limit,
    density_profile,
    level_of_detail,
    uncertainty_extents,
    visible_indices,
)
from explorer.timeline.model import LabelFonts, LaneGeometry, Layout, TimelineModel

__all__ = [
    "BIN_PX",
    "DETAIL_LIMIT",
    "MONTH_ABBR",
    "MONTH_NAMES",
    "SECONDS_PER_DAY",
    "AxisPlan",
    "AxisScale",
    "Bins",
    "Extents",
    "LabelFonts",
    "LaneGeometry",
    "LaneIndex",
    "LaneLOD",
    "Layout",
    "TimelineModel",
    "aggregate",
    "arrow_control",
    "bin_edges",
    "candidate_rects",
    "choose_scale",
    "crowding_limit",
    "density_profile",
    "distinguishing_tails",
    "format_usd",
    "label_priority",
    "label_room",
    "level_of_detail",
    "pack_rows",
    "place_labels",
    "plan_axis",
    "uncertainty_extents",
    "visible_indices",
]
