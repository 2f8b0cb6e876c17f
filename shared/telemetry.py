"""OpenTelemetry setup: a tracer provider per process, exporting over OTLP only when configured.

Trace context crosses the bus in message headers (faststream's NATS telemetry middleware), so one
trace spans HTTP → bus → service.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured: TracerProvider | None = None


def setup_tracing(service_name: str, otlp_endpoint: str | None) -> TracerProvider:
    """Install (once per process) and return the global tracer provider.

    Args:
        service_name: The ``service.name`` resource attribute.
        otlp_endpoint: The OTLP/HTTP collector URL; ``None`` records spans without exporting
                (the broker installs no tracing then; see ``shared.messaging``).
    """
    global _configured
    if _configured is not None:
        return _configured
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider
