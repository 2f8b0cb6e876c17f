"""``python -m services.learning``: run the learning service."""

from services.learning.app import create_app
from services.learning.config import LearningSettings
from shared.service import run

if __name__ == "__main__":
    settings = LearningSettings()
    run(create_app(settings), settings)
