"""Reading an uploaded Loop export: the zip Loop writes, or a bare ``Habits.csv``.

Checks come before any row is read: a body that is neither a zip nor text, a truncated or
corrupt zip (400), more decompressed bytes or entries than allowed (413, a zip bomb stops at the
limit rather than filling memory), no ``Habits.csv`` or text that is not UTF-8 (422).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass, field

from services.gateway.health.errors import ExportTooLarge, InvalidExport, MalformedExport
from services.gateway.portability.loop_csv import folder_position

MAX_ENTRIES = 5000
_CHUNK = 64 * 1024


@dataclass
class LoopFiles:
    """The texts an import reads, and the archive entries it left alone."""

    habits: str
    checkmarks: dict[int, tuple[str, str]] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)


def _text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidExport(
            f"{name} is not UTF-8 text.", details=[{"file": name, "reason": "encoding"}]
        ) from None


class _Budget:
    """Decompressed bytes left; reading past it raises 413 at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def read(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        out = bytearray()
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                self.left -= len(chunk)
                if self.left < 0:
                    raise ExportTooLarge(
                        f"The archive decompresses to more than {self.limit} bytes.",
                        details=[{"loc": ["body"], "limit": self.limit}],
                    )
                out += chunk
        return bytes(out)


def _read_zip(body: bytes, max_unzipped: int) -> LoopFiles:
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError) as exc:
        raise MalformedExport(
            "The zip cannot be read (truncated or corrupt).",
            details=[{"loc": ["body"], "reason": str(exc)[:200]}],
        ) from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_ENTRIES:
            raise ExportTooLarge(
                f"The archive holds more than {MAX_ENTRIES} files.",
                details=[{"loc": ["body"], "limit": MAX_ENTRIES}],
            )
        candidates = sorted(
            (i for i in infos if i.filename.rsplit("/", 1)[-1] == "Habits.csv"),
            key=lambda i: i.filename.count("/"),
        )
        if not candidates:
            raise InvalidExport(
                "The archive holds no Habits.csv: is it Loop's CSV export?",
                details=[{"loc": ["body"], "missing": ["Habits.csv"]}],
            )
        # A re-zipped export may sit in a folder; everything is read relative to Habits.csv.
        prefix = candidates[0].filename[: -len("Habits.csv")]
        budget = _Budget(max_unzipped)
        try:
            files = LoopFiles(_text(budget.read(archive, candidates[0]), "Habits.csv"))
            for info in infos:
                relative = info.filename[len(prefix) :]
                position = folder_position(relative) if info.filename.startswith(prefix) else None
                if position is None:
                    if info is not candidates[0]:
                        files.ignored.append(info.filename)
                    continue
                text = _text(budget.read(archive, info), relative)
                files.checkmarks[position] = (relative, text)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise MalformedExport(
                "The zip cannot be read (truncated or corrupt).",
                details=[{"loc": ["body"], "reason": str(exc)[:200]}],
            ) from None
    return files


def read_upload(body: bytes, max_unzipped: int) -> LoopFiles:
    """Read an uploaded export: a zip (by its signature) or the text of ``Habits.csv``."""
    if not body:
        raise MalformedExport("The body is empty: send Loop's zip or Habits.csv.")
    if body[:2] == b"PK":
        return _read_zip(body, max_unzipped)
    return LoopFiles(_text(body, "Habits.csv"))
