"""Which middlewares a service's broker gets: tracing only when traces are exported."""

import pytest
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from faststream.nats.prometheus import NatsPrometheusMiddleware
from opentelemetry.sdk.trace import TracerProvider

from shared import messaging
from shared.config import CommonSettings


def middleware_types(settings: CommonSettings) -> list[type]:
    broker = messaging.create_broker(settings)
    return [type(m) for m in broker.config.broker_middlewares]


def test_no_tracing_middleware_without_an_otlp_endpoint() -> None:
    settings = CommonSettings(service_name="unit", otel_exporter_otlp_endpoint=None)
    assert middleware_types(settings) == [NatsPrometheusMiddleware, messaging.DeliveryPolicy]


def test_tracing_middleware_first_with_an_otlp_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    # A provider that exports nowhere: the real one would install itself process-wide.
    seen: list[str] = []

    def provider(service_name: str, endpoint: str) -> TracerProvider:
        seen.append(endpoint)
        return TracerProvider()

    monkeypatch.setattr(messaging, "setup_tracing", provider)
    settings = CommonSettings(
        service_name="unit", otel_exporter_otlp_endpoint="http://collector:4318"
    )
    assert middleware_types(settings) == [
        NatsTelemetryMiddleware,
        NatsPrometheusMiddleware,
        messaging.DeliveryPolicy,
    ]
    assert seen == ["http://collector:4318"]
