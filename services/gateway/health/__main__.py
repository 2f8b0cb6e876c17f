"""``python -m services.gateway.health``: see :mod:`services.gateway.health.cli`."""

import sys

from services.gateway.health.cli import main

sys.exit(main())
