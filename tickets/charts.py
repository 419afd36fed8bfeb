"""Geometry of the report's charts; templates/admin/tickets/charts/ draw it as inline SVG.

Hand-made rather than pygal: pygal puts its look in a ``<style>`` element and ``style``
attributes, which the Content-Security-Policy (``style-src 'self'``) blocks, and the
charts here are two shapes (horizontal bars, paired columns). The SVG carries only
geometry and class names; colours come from static/css/admin-reports.css, so they follow
the admin's light and dark themes. Every chart stands next to a table with its numbers,
and prints each value as text, so colour never carries the meaning alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.utils.formats import number_format

LABEL_WIDTH = 300
BAR_AREA = 340
VALUE_WIDTH = 140
ROW_HEIGHT = 26
BAR_HEIGHT = 16


def _number(value: float | int) -> str:
    return number_format(value, decimal_pos=1 if isinstance(value, float) else 0)


def horizontal_bars(
    rows: Sequence[tuple[str, float | int | None, str]], *, maximum: float | None = None
) -> dict[str, Any]:
    """One bar per (label, value, text shown after the bar); None draws no bar."""
    values = [v for _label, v, _text in rows if v is not None]
    top = maximum or max(values, default=0) or 1
    bars = []
    for i, (label, value, text) in enumerate(rows):
        y = 6 + i * ROW_HEIGHT
        width = 0 if value is None else round(BAR_AREA * value / top, 1)
        bars.append(
            {
                "label": label,
                "text": text,
                "y": y,
                "text_y": y + BAR_HEIGHT - 3,
                "width": width,
                "value_x": LABEL_WIDTH + width + 6,
            }
        )
    return {
        "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        "height": 12 + len(rows) * ROW_HEIGHT,
        "label_x": LABEL_WIDTH - 8,
        "bar_x": LABEL_WIDTH,
        "bar_height": BAR_HEIGHT,
        "bars": bars,
    }


COLUMN_GROUP = 56
COLUMN_WIDTH = 20
PLOT_HEIGHT = 180
PLOT_TOP = 20
AXIS_LEFT = 44


def paired_columns(rows: Sequence[tuple[date, int, int]]) -> dict[str, Any]:
    """Two columns per week (new, finished) with the count on top of each."""
    top = max((max(a, b) for _w, a, b in rows), default=0) or 1
    base = PLOT_TOP + PLOT_HEIGHT
    groups = []
    for i, (week, first, second) in enumerate(rows):
        x = AXIS_LEFT + 8 + i * COLUMN_GROUP
        columns = []
        for j, value in enumerate((first, second)):
            height = round(PLOT_HEIGHT * value / top, 1)
            cx = x + j * (COLUMN_WIDTH + 2)
            columns.append(
                {
                    "x": cx,
                    "y": base - height,
                    "height": height,
                    "text": _number(value),
                    "text_x": cx + COLUMN_WIDTH / 2,
                    "text_y": base - height - 4,
                    "series": j,
                }
            )
        groups.append(
            {"label": week.strftime("%d-%m"), "label_x": x + COLUMN_WIDTH + 1, "columns": columns}
        )
    return {
        "width": AXIS_LEFT + 16 + len(rows) * COLUMN_GROUP,
        "height": base + 44,
        "axis_left": AXIS_LEFT,
        "base": base,
        "label_y": base + 16,
        "legend_y": base + 36,
        "column_width": COLUMN_WIDTH,
        "top_text": _number(top),
        "top_y": PLOT_TOP,
        "groups": groups,
    }
