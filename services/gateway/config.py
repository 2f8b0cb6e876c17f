"""Gateway settings: the only place the gateway reads its environment."""

from __future__ import annotations

import os

from pydantic import Field

from shared.config import CommonSettings


class GatewaySettings(CommonSettings):
    service_name: str = "gateway"
    port: int = 8000
    # uvicorn worker processes serving the API (each one a whole gateway: relay, scheduler,
    # consumers); all of them are safe side by side (docs/performance.md). Default: the cores.
    gateway_workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64)
    # Sign tokens with a secret of your own in production; the launcher generates one per data dir.
    jwt_secret: str = "habyss-development-secret-change-me-0123456789"
    jwt_ttl_seconds: int = Field(default=24 * 3600, ge=60)
    refresh_ttl_seconds: int = Field(default=30 * 24 * 3600, ge=300)
    # Sign-in throttling (docs/security.md): failures per account and per client address within
    # the window, and registrations per address per hour.
    auth_account_failures: int = Field(default=10, ge=1)
    auth_address_failures: int = Field(default=100, ge=1)
    auth_failure_window_seconds: int = Field(default=15 * 60, ge=1)
    auth_address_registrations: int = Field(default=100, ge=1)
    # Abuse limits of the API (docs/security.md).
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_habits_per_user: int = Field(default=500, ge=1)
    chat_max_streams: int = Field(default=3, ge=1)
    chat_turns_per_minute: int = Field(default=20, ge=1)
    # How long a destructive action the assistant proposed waits for the user's yes
    # (POST /v1/confirmations/{id}; docs/agent.md).
    confirmation_ttl_seconds: int = Field(default=15 * 60, ge=10, le=24 * 3600)
    # Browsers may call the API from these origins (comma-separated); empty: no cross-origin use.
    cors_allow_origins: str = ""
    # Send HSTS on every response, not only those whose request came over TLS.
    hsts_always: bool = False
    relay_batch_size: int = Field(default=200, ge=1, le=1000)
    relay_poll_seconds: float = Field(default=0.5, gt=0)
    relay_linger_seconds: float = Field(default=0.005, ge=0, le=1)
    # Health imports (docs/integrations.md): the largest upload, the largest export.xml (or sum
    # of Fitbit files) once decompressed, the largest JSON document, where uploads are spooled.
    integration_max_upload_bytes: int = Field(default=2 * 1024**3, ge=1024)
    integration_max_export_bytes: int = Field(default=6 * 1024**3, ge=1024)
    integration_max_json_bytes: int = Field(default=256 * 1024**2, ge=1024)
    integration_upload_dir: str = ""
    # Reminders (docs/reminders.md): how often the scheduler looks for due reminders (0: off)
    # and how many one round takes.
    reminder_poll_seconds: float = Field(default=30.0, ge=0)
    reminder_batch: int = Field(default=200, ge=1, le=5000)
    # Web Push (VAPID). Without a private key web push is off; reminders still reach the SSE
    # stream. The private key is the base64url raw key or a PEM file's path; the subject is a
    # mailto: or https: URL the push services can reach the operator at.
    webpush_vapid_private_key: str = ""
    webpush_vapid_public_key: str = ""
    webpush_subject: str = "mailto:reminders@habyss.invalid"
    # Push endpoints on loopback or private addresses (a push service of your own inside the
    # network, or tests); off, they are refused (the gateway must not be aimed at itself).
    webpush_allow_private: bool = False

    # Loop Habit Tracker imports (docs/portability.md): the largest upload, and the most its zip
    # may decompress to.
    loop_import_max_bytes: int = Field(default=32 * 1024**2, ge=1024)
    loop_import_max_unzipped_bytes: int = Field(default=256 * 1024**2, ge=1024)
    # Webhooks: hosts, addresses or networks a webhook may reach although they are private
    # (comma-separated); consecutive failures before a webhook is disabled; per-post timeout.
    webhook_allow_hosts: str = ""
    webhook_max_failures: int = Field(default=10, ge=1, le=1000)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)

    @property
    def webpush_enabled(self) -> bool:
        return bool(self.webpush_vapid_private_key)
