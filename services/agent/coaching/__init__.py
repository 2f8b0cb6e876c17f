"""The coaching knowledge as data: domain templates, modifications, tone, anchors (YAML)."""
