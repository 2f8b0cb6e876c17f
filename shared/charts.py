"""Vega-Lite v5 specs of a habit's history, and their server-side rendering.

The builders are pure: they take the metrics service's history (``rpc.metrics.history.v1``) and
shape it, inlining the values, so a chart shows exactly what the metrics computed. The gateway's
``GET /v1/habits/{id}/chart`` and the agent's ``create_visualization`` tool both use them.
``render`` is CPU work (a V8 isolate inside ``vl-convert``); callers on an event loop run it in
a thread. See docs/charts.md for the chart types.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal, get_args

from shared.contracts.metrics import HistoryDay, HistoryOut, HistoryQuery

ChartType = Literal["line", "bar", "heatmap", "streak"]
ChartPeriod = Literal["30d", "90d", "1y", "all"]
ImageFormat = Literal["png", "svg"]
CHART_TYPES: tuple[str, ...] = get_args(ChartType)
CHART_PERIODS: tuple[str, ...] = get_args(ChartPeriod)
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
# The Vega-Lite release vl-convert compiles with; a v5 one, as ``SCHEMA`` says.
VEGA_LITE_VERSION = "5.21"
WIDTH = 640
# Like Loop's "best streaks": the longest ones, shown in date order.
MAX_STREAK_BARS = 12
# Columns of a calendar year: a year touches 53 or 54 Monday-started weeks.
YEAR_WEEKS = 53
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Days looked at, the rolling rate's window and how bars group days, per period.
PERIODS: dict[str, tuple[int, int, Literal["week", "month"]]] = {
    "30d": (30, 7, "week"),
    "90d": (90, 30, "week"),
    "1y": (365, 30, "month"),
    "all": (3653, 30, "month"),
}
_STATUS_COLOURS = {
    "completed": "#2e7d32",
    "pending": "#c5e1a5",
    "skipped": "#90a4ae",
    "missed": "#ebedf0",
    "none": "#ebedf0",
    "unscheduled": "#ffffff",
}


def history_query(
    user_id: Any, habit_id: Any, period: ChartPeriod, end: date | None = None
) -> HistoryQuery:
    """The history request a chart of ``period`` needs (ending on the owner's today by default).

    Args:
        user_id: The habit's owner.
        habit_id: The habit.
        period: ``30d``, ``90d``, ``1y`` or ``all`` (ten years at most, from the habit's start).
        end: The last day; ``None`` for the owner's today.

    Returns:
        The query for ``rpc.metrics.history.v1``.
    """
    days, window, granularity = PERIODS[period]
    return HistoryQuery(
        user_id=user_id,
        habit_id=habit_id,
        days=days,
        end=end,
        window=window,
        granularity=granularity,
    )


def build_spec(history: HistoryOut, chart_type: ChartType, period: ChartPeriod) -> dict[str, Any]:
    """Build the Vega-Lite v5 spec of one chart, with its data inlined.

    Args:
        history: The metrics service's history of the habit over the period.
        chart_type: ``line``, ``bar``, ``heatmap`` or ``streak``.
        period: The period the history covers, for the subtitle and ``usermeta``.

    Returns:
        A JSON-ready spec.

    Raises:
        ValueError: For an unknown chart type.
    """
    builders = {"line": _line, "bar": _bar, "heatmap": _heatmap, "streak": _streak}
    if chart_type not in builders:
        raise ValueError(f"unknown chart type {chart_type!r}")
    body = builders[chart_type](history)
    subtitle = f"{history.start.isoformat()} to {history.end.isoformat()}"
    return {
        "$schema": SCHEMA,
        "title": {"text": history.title, "subtitle": body.pop("subtitle", subtitle)},
        "width": WIDTH,
        "background": "white",
        **body,
        "usermeta": {
            "habyss": {
                "habit_id": str(history.habit_id),
                "type": chart_type,
                "period": period,
                "start": history.start.isoformat(),
                "end": history.end.isoformat(),
            }
        },
    }


def _target_value(history: HistoryOut) -> float | None:
    target = history.target or {}
    value = target.get("value")
    return float(value) if value is not None else None


def _unit(history: HistoryOut) -> str:
    return str((history.target or {}).get("unit") or "value")


def _line(history: HistoryOut) -> dict[str, Any]:
    """Quantity: each day's sum against the target; otherwise the rolling completion rate.

    Multi-day periods have no daily rate; their line is the strength score.
    """
    x = {"field": "date", "type": "temporal", "title": None}
    if history.kind == "quantity":
        values = [{"date": d.date.isoformat(), "value": d.value} for d in history.days]
        layers: list[dict[str, Any]] = [
            {
                "mark": {"type": "line", "point": True},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative", "title": _unit(history)},
                },
            }
        ]
        target = _target_value(history)
        if target is not None:
            layers.append(
                {
                    "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#c62828"},
                    "encoding": {"y": {"datum": target, "type": "quantitative"}},
                }
            )
        return {"height": 240, "data": {"values": values}, "layer": layers}
    if any(d.rate is not None for d in history.days):
        field, title = "rate", f"Completion rate ({history.window}-day)"
        values = [
            {"date": d.date.isoformat(), "rate": d.rate} for d in history.days if d.rate is not None
        ]
    else:
        field, title = "strength", "Habit strength"
        values = [{"date": d.date.isoformat(), "strength": d.strength} for d in history.days]
    return {
        "height": 240,
        "data": {"values": values},
        "mark": {"type": "line", "interpolate": "monotone"},
        "encoding": {
            "x": x,
            "y": {
                "field": field,
                "type": "quantitative",
                "title": title,
                "scale": {"domain": [0, 1]},
                "axis": {"format": "%"},
            },
        },
    }


def _bar(history: HistoryOut) -> dict[str, Any]:
    """Completed days (quantity habits: the total) per ISO week or calendar month."""
    quantity = history.kind == "quantity"
    field = "total" if quantity else "completed"
    title = f"Total {_unit(history)}" if quantity else "Days completed"
    values = [{"period": p.period, field: getattr(p, field)} for p in history.periods]
    return {
        "height": 240,
        "data": {"values": values},
        "mark": {"type": "bar", "color": "#4a6fa5"},
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "title": None, "sort": None},
            "y": {"field": field, "type": "quantitative", "title": title},
            "tooltip": [{"field": "period"}, {"field": field, "type": "quantitative"}],
        },
    }


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def heatmap_cell(day: HistoryDay) -> dict[str, Any]:
    """One calendar square: its column (the week's Monday), row (weekday), status and value.

    ``year`` and ``year_week`` (the column within the calendar year, 0..53) place the square
    when a long history is drawn as one calendar row per year.
    """
    monday = _monday(day.date)
    return {
        "date": day.date.isoformat(),
        "week": monday.isoformat(),
        "year": day.date.year,
        "year_week": (monday - _monday(date(day.date.year, 1, 1))).days // 7,
        "weekday": WEEKDAYS[day.date.weekday()],
        "status": day.status,
        "value": day.value,
    }


def _heatmap(history: HistoryOut) -> dict[str, Any]:
    """A GitHub-style calendar: weeks as columns, weekdays as rows, one square a day."""
    values = [heatmap_cell(d) for d in history.days]
    colour: dict[str, Any]
    if history.kind == "quantity":
        colour = {
            "field": "value",
            "type": "quantitative",
            "title": _unit(history),
            "scale": {"scheme": "greens"},
        }
    else:
        statuses = [s for s in _STATUS_COLOURS if any(v["status"] == s for v in values)]
        colour = {
            "field": "status",
            "type": "nominal",
            "title": None,
            "scale": {"domain": statuses, "range": [_STATUS_COLOURS[s] for s in statuses]},
        }
    weeks = len({v["week"] for v in values}) or 1
    x: dict[str, Any] = {
        "field": "week",
        "type": "ordinal",
        "title": None,
        "axis": {"labelExpr": "slice(datum.value, 5, 10)", "labelOverlap": True},
    }
    rows: dict[str, Any] = {}
    if weeks > YEAR_WEEKS:
        # Longer than a year: one GitHub-style year per row, weeks of the year as columns.
        x = {"field": "year_week", "type": "ordinal", "title": None, "axis": None}
        x["scale"] = {"domain": list(range(YEAR_WEEKS + 1))}
        rows = {"row": {"field": "year", "type": "ordinal", "title": None, "sort": "descending"}}
        weeks = YEAR_WEEKS + 1
    return {
        "width": max(120, min(WIDTH, 12 * weeks)),
        "height": 7 * 12,
        "data": {"values": values},
        "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1.5},
        "encoding": {
            "x": x,
            **rows,
            "y": {"field": "weekday", "type": "ordinal", "title": None, "sort": list(WEEKDAYS)},
            "color": colour,
            "tooltip": [
                {"field": "date", "type": "temporal"},
                {"field": "status"},
                {"field": "value", "type": "quantitative"},
            ],
        },
    }


def _streak(history: HistoryOut) -> dict[str, Any]:
    """The longest streaks as bars of their length, from first to last day, like Loop's."""
    longest = sorted(history.streaks, key=lambda s: (-s.length, s.start))[:MAX_STREAK_BARS]
    values = [
        {
            "start": s.start.isoformat(),
            "end": s.end.isoformat(),
            "length": s.length,
            "label": f"{s.start.isoformat()} – {s.end.isoformat()}",
        }
        for s in sorted(longest, key=lambda s: s.start)
    ]
    y = {"field": "label", "type": "ordinal", "title": None, "sort": None}
    unit = f"Length ({history.streak_unit}s)"
    return {
        "height": {"step": 22},
        "subtitle": f"Longest {len(values)} of {len(history.streaks)} streaks, "
        f"{history.start.isoformat()} to {history.end.isoformat()}",
        "data": {"values": values},
        "encoding": {"y": y},
        "layer": [
            {
                "mark": {"type": "bar", "color": "#4a6fa5"},
                "encoding": {"x": {"field": "length", "type": "quantitative", "title": unit}},
            },
            {
                "mark": {"type": "text", "align": "left", "dx": 4},
                "encoding": {
                    "x": {"field": "length", "type": "quantitative"},
                    "text": {"field": "length", "type": "quantitative"},
                },
            },
        ],
    }


def render(spec: dict[str, Any], fmt: ImageFormat) -> bytes:
    """Render a spec to PNG or SVG, with no network access (the data is inlined).

    Args:
        spec: A spec from :func:`build_spec`.
        fmt: ``png`` or ``svg``.

    Returns:
        The image's bytes (SVG as UTF-8).
    """
    # Imported here: a V8 runtime that only the processes that render need to load.
    import vl_convert

    if fmt == "png":
        png: bytes = vl_convert.vegalite_to_png(
            spec, vl_version=VEGA_LITE_VERSION, scale=2, allowed_base_urls=[]
        )
        return png
    svg: str = vl_convert.vegalite_to_svg(spec, vl_version=VEGA_LITE_VERSION, allowed_base_urls=[])
    return svg.encode()
