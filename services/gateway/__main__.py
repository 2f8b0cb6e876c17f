"""``python -m services.gateway``: serve the public API with ``GATEWAY_WORKERS`` processes."""

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.service import run

if __name__ == "__main__":
    settings = GatewaySettings()
    if settings.gateway_workers > 1:
        # Each worker process builds its own app from the environment.
        run("services.gateway.app:create_app", settings, workers=settings.gateway_workers)
    else:
        run(create_app(settings), settings)
