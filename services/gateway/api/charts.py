"""``GET /v1/habits/{id}/chart``: a Vega-Lite spec of the metrics history, or its image."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from services.gateway.api.deps import CallerId, RuntimeDep
from services.gateway.api.errors import ERROR_RESPONSES
from shared.charts import ChartPeriod, ChartType, ImageFormat, build_spec, history_query, render
from shared.contracts.metrics import HISTORY, HistoryOut
from shared.errors import HabyssError
from shared.rpc import call

router = APIRouter(prefix="/v1/habits", tags=["metrics"], responses=ERROR_RESPONSES)
_MEDIA: dict[str, ImageFormat | None] = {
    "application/json": None,
    "image/png": "png",
    "image/svg+xml": "svg",
}
_WILDCARDS: dict[str, ImageFormat | None] = {"*/*": None, "application/*": None, "image/*": "png"}


class NotAcceptable(HabyssError):
    status = 406
    code = "not_acceptable"


def negotiate(accept: str | None) -> tuple[str, ImageFormat | None]:
    """Pick the answer's media type from an ``Accept`` header (JSON when absent).

    Args:
        accept: The header's value.

    Returns:
        The media type and the image format to render (``None`` for the JSON spec).

    Raises:
        NotAcceptable: When the header names none of JSON, PNG, SVG or a wildcard.
    """
    if not accept or not accept.strip():
        return "application/json", None
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            choices.append((-quality, position, media.lower()))
    for _, _, media in sorted(choices):
        if media in _MEDIA:
            return media, _MEDIA[media]
        if media in _WILDCARDS:
            fmt = _WILDCARDS[media]
            return ("image/png" if fmt else "application/json"), fmt
    raise NotAcceptable(
        "This chart is served as application/json (a Vega-Lite spec), image/png or image/svg+xml.",
        details=[{"loc": ["header", "accept"], "accept": accept[:200]}],
    )


@router.get(
    "/{habit_id}/chart",
    description="A Vega-Lite v5 spec of the habit over `period` with its data inlined, every "
    "value from the metrics service: `line` (a quantity habit's daily values, else the rolling "
    "completion rate), `bar` (completions per week, or per month for `1y` and `all`), `heatmap` "
    "(a calendar: weeks as columns, weekdays as rows) or `streak` (the longest streaks with "
    "their dates). Send `Accept: image/png` or `image/svg+xml` for the rendered chart. See "
    "docs/charts.md.",
    response_model=None,
    responses={
        200: {
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
            "description": "The spec, or the rendered chart",
        },
        406: {"description": "not acceptable"},
    },
)
async def habit_chart(
    habit_id: uuid.UUID,
    caller: CallerId,
    rt: RuntimeDep,
    type: ChartType = "line",
    period: ChartPeriod = "30d",
    accept: str | None = Header(None),
) -> Response:
    media, fmt = negotiate(accept)
    query = history_query(caller, habit_id, period)
    history = HistoryOut.model_validate(await call(rt.broker, HISTORY, query))
    spec: dict[str, Any] = build_spec(history, type, period)
    headers = {"Vary": "Accept", "Cache-Control": "private, no-cache"}
    if fmt is None:
        return JSONResponse(spec, headers=headers)
    # Rendering is CPU work (a V8 isolate): off the event loop.
    image = await asyncio.to_thread(render, spec, fmt)
    return Response(image, media_type=media, headers=headers)
