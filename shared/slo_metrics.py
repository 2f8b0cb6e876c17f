"""The Prometheus series the SLOs and their alert rules read (deploy/k8s/components/monitoring).

- ``habyss_http_requests_total{route,method,status}`` and
  ``habyss_http_request_duration_seconds{route,method}``: the gateway's requests, labelled by the
  route template (``/v1/habits/{habit_id}``), never the raw path, so the label set stays small.
- ``habyss_chat_turn_seconds{outcome}``: from the user's request to the turn's end, queue time
  included, because that is what the user waits for.
- ``habyss_dead_letters_total{subject}``: messages a consumer gave up on (copied to ``dlq.*``).

Consumer lag is not measured here: the NATS exporter publishes ``jetstream_consumer_num_pending``.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_REQUESTS = Counter(
    "habyss_http_requests_total", "HTTP requests answered", ["route", "method", "status"]
)
HTTP_SECONDS = Histogram(
    "habyss_http_request_duration_seconds",
    "Time to the response's first byte",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CHAT_TURN_SECONDS = Histogram(
    "habyss_chat_turn_seconds",
    "Chat turn latency from the user's request to its last event",
    ["outcome"],
    buckets=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0),
)
DEAD_LETTERED = Counter(
    "habyss_dead_letters_total", "Messages dead-lettered after their last delivery", ["subject"]
)
UNMATCHED_ROUTE = "unmatched"


def route_template(scope: Scope) -> str:
    """The template of the route that served ``scope`` (the router records it in the scope)."""
    route = scope.get("route")
    return str(getattr(route, "path", UNMATCHED_ROUTE)) if route is not None else UNMATCHED_ROUTE


class RequestMetrics:
    """ASGI middleware counting each HTTP request by route template, method and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, counting it when its response starts (or fails before that)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        responded = False

        async def send_counted(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
                route, method = route_template(scope), scope["method"]
                HTTP_SECONDS.labels(route, method).observe(time.perf_counter() - started)
                HTTP_REQUESTS.labels(route, method, str(message["status"])).inc()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        except Exception:
            if not responded:  # the server answers 500 on the app's behalf
                HTTP_REQUESTS.labels(route_template(scope), scope["method"], "500").inc()
            raise
