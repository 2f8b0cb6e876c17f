"""Data in and out: the Loop Habit Tracker import, the export, account deletion, webhooks."""
