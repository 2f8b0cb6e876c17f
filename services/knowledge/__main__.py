"""``python -m services.knowledge``: serve, or ``ingest`` / ``search`` (see ``cli.py``)."""

import os

# One BLAS thread per forward pass: the embedder runs passes side by side in its own threads, and
# BLAS threads on top of those oversubscribe two cores (measured 3x slower under load). This has
# to be set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from services.knowledge.cli import main

if __name__ == "__main__":
    main()
