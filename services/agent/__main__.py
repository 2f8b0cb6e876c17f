"""``python -m services.agent``: run the agent service."""

from services.agent.app import create_app
from services.agent.config import AgentSettings
from shared.service import run

if __name__ == "__main__":
    settings = AgentSettings()
    run(create_app(settings), settings)
