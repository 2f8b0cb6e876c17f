"""Reminders: rules (pure ``schedule``), use cases, the due-time scheduler and push adapters."""
