"""The gateway's HTTP API, one router per resource."""
