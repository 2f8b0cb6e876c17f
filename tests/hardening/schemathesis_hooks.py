"""Loaded by schemathesis (``SCHEMATHESIS_HOOKS``) in the schema-fuzzing run.

The health-export imports take raw ``application/zip`` and ``application/xml`` bodies;
schemathesis has no serializer for them, so they are sent as the opaque bytes they are.
"""

import schemathesis

schemathesis.serializer.alias(["application/zip"], "application/octet-stream")
