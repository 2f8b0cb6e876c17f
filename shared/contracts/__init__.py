"""Request and reply models of the rpc subjects, one module per serving service."""
