"""OpenTelemetry setup: a tracer provider per process that exports over OTLP.

Only called when an OTLP endpoint is configured (see ``shared.messaging.create_broker``): spans
nobody collects are not recorded at all. Trace context crosses the bus in message headers
(faststream's NATS telemetry middleware), so one trace spans HTTP → bus → service.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

_configured: TracerProvider | None = None


def setup_tracing(service_name: str, otlp_endpoint: str) -> TracerProvider:
    """Install (once per process) and return the global tracer provider.

    Args:
        service_name: The ``service.name`` resource attribute.
        otlp_endpoint: The OTLP/HTTP collector URL.
    """
    global _configured
    if _configured is not None:
        return _configured
    # Imported here: services that do not trace never load the exporter.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    endpoint = otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    _configured = provider
    return provider
