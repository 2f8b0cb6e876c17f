"""``python -m services.knowledge``: run the knowledge service."""

from services.knowledge.app import create_app
from services.knowledge.config import KnowledgeSettings
from shared.service import run

if __name__ == "__main__":
    settings = KnowledgeSettings()
    run(create_app(settings), settings)
