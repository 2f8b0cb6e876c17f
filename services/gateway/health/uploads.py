"""An uploaded export on disk: what it is, whether it may be read, and reading it.

:func:`prepare` runs before the import is accepted and answers every problem it can find cheaply
with an error the API returns at once: an unknown format, a truncated zip (its central directory
is at the end, so any cut shows), a missing ``export.xml``, a member over the size limit, an XML
prolog that declares entities, a Health Connect document that does not parse or validate. What
only a full read can find (a truncated ``export.xml`` inside an intact zip, a bad Fitbit entry)
fails the import job with the same kind of error.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import IO, Literal

from services.gateway.health import apple, fitbit, health_connect
from services.gateway.health.daily import DailyTotals
from services.gateway.health.errors import ExportTooLarge, InvalidExport, MalformedExport

Integration = Literal["apple_health", "health_connect", "fitbit"]
INTEGRATIONS: tuple[Integration, ...] = ("apple_health", "health_connect", "fitbit")
_HEAD = 64 * 1024
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError)


@dataclass(frozen=True)
class Limits:
    """How much an import may hold once decompressed."""

    max_xml_bytes: int
    max_json_bytes: int


@dataclass
class Progress:
    """How far a running import is: bytes of the export read of ``total``, records kept."""

    processed: int = 0
    total: int = 0
    records: int = 0


@dataclass
class Prepared:
    """An accepted export: its size to read and the function that reads it."""

    total: int
    read: Callable[[Progress], DailyTotals]
    detail: dict[str, str] = field(default_factory=dict)


class _Counted:
    """A read-only stream that counts bytes into ``progress`` and stops at ``limit``."""

    def __init__(self, raw: IO[bytes], progress: Progress, limit: int) -> None:
        self._raw = raw
        self._progress = progress
        self._limit = limit

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        self._progress.processed += len(chunk)
        if self._progress.processed > self._limit:
            raise ExportTooLarge(
                f"The export is larger than {self._limit} bytes once decompressed.",
                details=[{"loc": ["body"], "limit": self._limit}],
            )
        return chunk


def sniff(path: Path) -> Literal["zip", "xml", "json", "unknown"]:
    """The container of a file from its first bytes."""
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "xml"
    if text[:1] in (b"{", b"["):
        return "json"
    return "unknown"


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise MalformedExport(
            "The zip cannot be read: it is truncated or damaged. Upload it again.",
            details=[{"loc": ["body"], "reason": "bad_zip"}],
        ) from None


def _unknown(integration: str, kind: str) -> InvalidExport:
    wanted = {
        "apple_health": "export.zip or export.xml from the Health app",
        "health_connect": "a Health Connect JSON export (or a zip holding one)",
        "fitbit": "a Fitbit or Google Takeout zip with the Global Export Data files",
    }[integration]
    return InvalidExport(
        f"Unknown format ({kind}); this endpoint takes {wanted}.",
        details=[{"loc": ["body"], "reason": "unknown_format", "found": kind}],
    )


def _too_large(what: str, size: int, limit: int) -> ExportTooLarge:
    return ExportTooLarge(
        f"{what} is {size} bytes once decompressed; the limit is {limit}.",
        details=[{"loc": ["body"], "size": size, "limit": limit}],
    )


def _head(stream: IO[bytes]) -> bytes:
    head = b""
    while len(head) < apple.PROLOG_LIMIT:
        chunk = stream.read(_HEAD)
        if not chunk:
            break
        head += chunk
        if apple.ROOT in head:
            break
    return head


def prepare(
    integration: Integration, path: Path, zone: str, day_start: time, limits: Limits
) -> Prepared:
    """Check an uploaded export and return how to read it.

    Raises:
        MalformedExport, InvalidExport, ExportTooLarge: As the module explains.
    """
    kind = sniff(path)
    try:
        if integration == "apple_health":
            return _prepare_apple(path, kind, zone, day_start, limits)
        if integration == "health_connect":
            return _prepare_health_connect(path, kind, zone, day_start, limits)
        return _prepare_fitbit(path, kind, zone, day_start, limits)
    except _READ_ERRORS as exc:
        raise MalformedExport(
            f"The upload cannot be read ({type(exc).__name__}); it may be truncated.",
            details=[{"loc": ["body"], "reason": "unreadable"}],
        ) from None


def _prepare_apple(path: Path, kind: str, zone: str, day_start: time, limits: Limits) -> Prepared:
    if kind == "zip":
        with _open_zip(path) as archive:
            members = [
                i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == "export.xml"
            ]
            if not members:
                raise InvalidExport(
                    "The zip holds no export.xml; share the export from the Health app.",
                    details=[{"loc": ["body"], "reason": "no_export_xml"}],
                )
            member = min(members, key=lambda i: i.filename.count("/"))
            if member.file_size > limits.max_xml_bytes:
                raise _too_large("export.xml", member.file_size, limits.max_xml_bytes)
            with archive.open(member) as stream:
                apple.check_prolog(_head(stream))
        name = member.filename
        total = member.file_size

        def read(progress: Progress) -> DailyTotals:
            progress.total = total
            with zipfile.ZipFile(path) as archive, archive.open(name) as stream:
                return _parse_apple(stream, zone, day_start, progress, limits)

        return Prepared(total=total, read=read, detail={"member": name})
    if kind == "xml":
        size = path.stat().st_size
        if size > limits.max_xml_bytes:
            raise _too_large("export.xml", size, limits.max_xml_bytes)
        with path.open("rb") as stream:
            apple.check_prolog(_head(stream))

        def read_xml(progress: Progress) -> DailyTotals:
            progress.total = size
            with path.open("rb") as stream:
                return _parse_apple(stream, zone, day_start, progress, limits)

        return Prepared(total=size, read=read_xml)
    raise _unknown("apple_health", kind)


def _parse_apple(
    stream: IO[bytes], zone: str, day_start: time, progress: Progress, limits: Limits
) -> DailyTotals:
    counted = _Counted(stream, progress, limits.max_xml_bytes)

    def seen(records: int) -> None:
        progress.records = records

    try:
        return apple.parse_export(counted, zone, day_start, seen)  # type: ignore[arg-type]
    except _READ_ERRORS as exc:
        raise MalformedExport(
            f"export.xml cannot be read to its end ({type(exc).__name__}); it may be truncated.",
            details=[{"loc": ["body"], "reason": "unreadable"}],
        ) from None


def _load_json(stream: IO[bytes], what: str) -> object:
    try:
        return json.load(stream)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedExport(
            f"{what} is not valid JSON ({exc}).", details=[{"loc": ["body"], "reason": "json"}]
        ) from None


def _prepare_health_connect(
    path: Path, kind: str, zone: str, day_start: time, limits: Limits
) -> Prepared:
    if kind == "zip":
        with _open_zip(path) as archive:
            members = [i for i in archive.infolist() if i.filename.endswith(".json")]
            if len(members) != 1:
                raise InvalidExport(
                    "A Health Connect zip holds exactly one .json export.",
                    details=[{"loc": ["body"], "reason": "json_members", "found": len(members)}],
                )
            if members[0].file_size > limits.max_json_bytes:
                raise _too_large(members[0].filename, members[0].file_size, limits.max_json_bytes)
            with archive.open(members[0]) as stream:
                doc = _load_json(stream, members[0].filename)
    elif kind == "json":
        size = path.stat().st_size
        if size > limits.max_json_bytes:
            raise _too_large("The export", size, limits.max_json_bytes)
        with path.open("rb") as stream:
            doc = _load_json(stream, "The export")
    else:
        raise _unknown("health_connect", kind)
    totals = health_connect.parse_document(doc, zone, day_start)
    size = path.stat().st_size

    def read(progress: Progress) -> DailyTotals:
        progress.total = progress.processed = size
        progress.records = totals.records
        return totals

    return Prepared(total=size, read=read)


def _prepare_fitbit(path: Path, kind: str, zone: str, day_start: time, limits: Limits) -> Prepared:
    if kind != "zip":
        raise _unknown("fitbit", kind)
    with _open_zip(path) as archive:
        kept = [i for i in archive.infolist() if fitbit.kind_of(i.filename) is not None]
        if not kept:
            raise InvalidExport(
                "The zip holds no Fitbit data files (steps-*.json, sleep-*.json, …).",
                details=[{"loc": ["body"], "reason": "no_fitbit_files"}],
            )
        for info in kept:
            if info.file_size > limits.max_json_bytes:
                raise _too_large(info.filename, info.file_size, limits.max_json_bytes)
        total = sum(i.file_size for i in kept)
        if total > limits.max_xml_bytes:
            raise _too_large("The Fitbit files", total, limits.max_xml_bytes)
    names = sorted(i.filename for i in kept)

    def read(progress: Progress) -> DailyTotals:
        progress.total = total
        reader = fitbit.FitbitReader(zone, day_start)
        try:
            with zipfile.ZipFile(path) as archive:
                for name in names:
                    with archive.open(name) as stream:
                        reader.add_file(name, stream)
                    progress.processed += archive.getinfo(name).file_size
                    progress.records = reader.totals.records
        except _READ_ERRORS as exc:
            raise MalformedExport(
                f"The zip cannot be read to its end ({type(exc).__name__}).",
                details=[{"loc": ["body"], "reason": "unreadable"}],
            ) from None
        return reader.totals

    return Prepared(total=total, read=read)
