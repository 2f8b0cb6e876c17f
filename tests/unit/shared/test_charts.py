"""The Vega-Lite spec builders: valid specs carrying exactly the metrics' values; real images."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
import vl_convert

from shared.charts import (
    CHART_TYPES,
    MAX_STREAK_BARS,
    SCHEMA,
    VEGA_LITE_VERSION,
    build_spec,
    history_query,
    render,
)
from shared.contracts.metrics import HistoryDay, HistoryOut, HistoryPeriod, HistoryStreak

END = date(2026, 3, 15)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
STATUSES = ("completed", "missed", "skipped", "completed", "unscheduled", "completed", "pending")


def _history(kind: str = "boolean", days: int = 40, streaks: int = 3) -> HistoryOut:
    start = END - timedelta(days=days - 1)
    quantity = kind == "quantity"
    return HistoryOut(
        habit_id=uuid.UUID(int=7),
        title="Running",
        kind=kind,
        target={"value": 5, "unit": "km", "direction": "at_least"} if quantity else None,
        start=start,
        end=END,
        window=7,
        granularity="week",
        streak_unit="day",
        days=[
            HistoryDay(
                date=start + timedelta(i),
                status=STATUSES[i % len(STATUSES)],  # type: ignore[arg-type]
                value=float(i % 9) if quantity else None,
                rate=None if kind == "weekly" else (i % 5) / 4,
                strength=i / days,
            )
            for i in range(days)
        ],
        streaks=[
            HistoryStreak(
                start=start + timedelta(3 * i), end=start + timedelta(3 * i + 1), length=i + 1
            )
            for i in range(streaks)
        ],
        periods=[
            HistoryPeriod(
                period=f"2026-W{w:02d}", completed=w % 7, total=w * 1.5 if quantity else None
            )
            for w in range(3, 9)
        ],
    )


def _marks(spec: dict[str, Any]) -> list[str]:
    layers = spec.get("layer", [spec])
    return [m if isinstance(m, str) else m["type"] for m in (layer["mark"] for layer in layers)]


@pytest.mark.parametrize("chart_type", CHART_TYPES)
@pytest.mark.parametrize("kind", ["boolean", "quantity", "weekly"])
def test_every_spec_is_valid_vega_lite(chart_type: str, kind: str) -> None:
    spec = build_spec(_history(kind), chart_type, "90d")  # type: ignore[arg-type]
    assert spec["$schema"] == SCHEMA
    assert {"title", "data", "width", "usermeta"} <= set(spec)
    assert "mark" in spec or "layer" in spec
    assert spec["usermeta"]["habyss"]["type"] == chart_type
    # The compiler rejects what Vega-Lite 5 cannot draw.
    compiled = vl_convert.vegalite_to_vega(spec, vl_version=VEGA_LITE_VERSION)
    assert compiled["marks"]


def test_line_carries_the_rates_or_the_daily_values() -> None:
    h = _history()
    spec = build_spec(h, "line", "30d")
    assert _marks(spec) == ["line"]
    assert spec["data"]["values"] == [{"date": d.date.isoformat(), "rate": d.rate} for d in h.days]
    q = _history("quantity")
    spec = build_spec(q, "line", "30d")
    assert _marks(spec) == ["line", "rule"]
    assert [v["value"] for v in spec["data"]["values"]] == [d.value for d in q.days]
    assert spec["layer"][1]["encoding"]["y"]["datum"] == 5.0


def test_line_falls_back_to_strength_without_daily_rates() -> None:
    h = _history("weekly")
    spec = build_spec(h, "line", "90d")
    assert spec["encoding"]["y"]["field"] == "strength"
    assert [v["strength"] for v in spec["data"]["values"]] == [d.strength for d in h.days]


def test_bar_counts_per_period() -> None:
    h = _history()
    spec = build_spec(h, "bar", "90d")
    assert _marks(spec) == ["bar"]
    assert spec["data"]["values"] == [
        {"period": p.period, "completed": p.completed} for p in h.periods
    ]
    q = _history("quantity")
    assert [v["total"] for v in build_spec(q, "bar", "90d")["data"]["values"]] == [
        p.total for p in q.periods
    ]


def test_heatmap_is_a_calendar_of_weeks_and_weekdays() -> None:
    h = _history()
    spec = build_spec(h, "heatmap", "90d")
    assert _marks(spec) == ["rect"]
    values = spec["data"]["values"]
    assert [(v["date"], v["status"]) for v in values] == [
        (d.date.isoformat(), d.status) for d in h.days
    ]
    for v in values:
        day = date.fromisoformat(v["date"])
        monday = date.fromisoformat(v["week"])
        assert monday.weekday() == 0 and 0 <= (day - monday).days < 7
        assert v["weekday"] == day.strftime("%a")
    assert spec["encoding"]["x"]["field"] == "week"
    assert spec["encoding"]["y"]["sort"][0] == "Mon"
    colour = spec["encoding"]["color"]
    assert set(colour["scale"]["domain"]) == {d.status for d in h.days}
    assert (
        build_spec(_history("quantity"), "heatmap", "90d")["encoding"]["color"]["field"] == "value"
    )


def test_a_heatmap_longer_than_a_year_has_one_row_per_year() -> None:
    h = _history(days=800)
    spec = build_spec(h, "heatmap", "all")
    assert spec["encoding"]["row"]["field"] == "year"
    assert spec["encoding"]["x"]["field"] == "year_week"
    for v in spec["data"]["values"]:
        day = date.fromisoformat(v["date"])
        assert v["year"] == day.year and 0 <= v["year_week"] <= 53
    jan1 = [v for v in spec["data"]["values"] if v["date"].endswith("-01-01")]
    assert jan1 and all(v["year_week"] == 0 for v in jan1)
    assert vl_convert.vegalite_to_vega(spec, vl_version=VEGA_LITE_VERSION)["marks"]
    assert "row" not in build_spec(_history(days=300), "heatmap", "1y")["encoding"]


def test_streak_chart_shows_the_longest_streaks_in_date_order() -> None:
    h = _history(days=60, streaks=MAX_STREAK_BARS + 4)
    spec = build_spec(h, "streak", "1y")
    assert _marks(spec) == ["bar", "text"]
    values = spec["data"]["values"]
    longest = sorted(h.streaks, key=lambda s: -s.length)[:MAX_STREAK_BARS]
    assert sorted(v["length"] for v in values) == sorted(s.length for s in longest)
    assert [v["start"] for v in values] == sorted(v["start"] for v in values)
    first = min(longest, key=lambda s: s.start)
    assert values[0] == {
        "start": first.start.isoformat(),
        "end": first.end.isoformat(),
        "length": first.length,
        "label": f"{first.start.isoformat()} – {first.end.isoformat()}",
    }


def test_unknown_chart_type_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chart type"):
        build_spec(_history(), "pie", "30d")  # type: ignore[arg-type]


def test_periods_map_to_history_queries() -> None:
    q = history_query(uuid.UUID(int=1), uuid.UUID(int=2), "1y")
    assert (q.days, q.window, q.granularity, q.end) == (365, 30, "month", None)
    assert history_query(uuid.UUID(int=1), uuid.UUID(int=2), "30d").window == 7


@pytest.mark.parametrize("chart_type", CHART_TYPES)
def test_render_produces_a_real_png(chart_type: str) -> None:
    png = render(build_spec(_history(), chart_type, "90d"), "png")  # type: ignore[arg-type]
    assert png.startswith(PNG_SIGNATURE)
    width, height = (int.from_bytes(png[i : i + 4], "big") for i in (16, 20))
    assert width >= 200 and height >= 100
    assert len(png) > 5000


def test_render_produces_svg_with_the_title() -> None:
    svg = render(build_spec(_history(), "bar", "90d"), "svg").decode()
    assert svg.lstrip().startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "Running" in svg


def test_render_fetches_nothing() -> None:
    spec = {**build_spec(_history(), "bar", "90d"), "data": {"url": "https://example.com/x.json"}}
    with pytest.raises(ValueError, match="not allowed"):
        render(spec, "svg")
