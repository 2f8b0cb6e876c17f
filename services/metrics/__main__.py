"""``python -m services.metrics``: run the metrics service."""

from services.metrics.app import create_app
from services.metrics.config import MetricsSettings
from shared.service import run

if __name__ == "__main__":
    settings = MetricsSettings()
    run(create_app(settings), settings)
