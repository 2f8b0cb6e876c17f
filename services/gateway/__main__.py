"""``python -m services.gateway``: serve the public API."""

from services.gateway.app import create_app
from services.gateway.config import GatewaySettings
from shared.service import run

if __name__ == "__main__":
    settings = GatewaySettings()
    run(create_app(settings), settings)
