"""Errors of health imports, in the API's one error hierarchy."""

from __future__ import annotations

from shared.errors import HabyssError


class MalformedExport(HabyssError):
    """The file cannot be read: a truncated zip, XML or JSON that does not parse."""

    code = "malformed_export"
    status = 400


class InvalidExport(HabyssError):
    """The file reads but is not an export of this kind, or carries what is refused (entities)."""

    code = "invalid_export"
    status = 422


class ExportTooLarge(HabyssError):
    """The upload, or what it decompresses to, is over the configured limit."""

    code = "payload_too_large"
    status = 413
